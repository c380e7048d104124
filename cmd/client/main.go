// Command client runs a named workload against a Clockwork controller:
//
//	client [flags] <host:port> <workload> [args...]
//
// and has two helpers for the Azure Functions trace the azure workloads
// replay:
//
//	client gen-trace [flags]        write a synthetic trace in the dataset's layout
//	client trace-stats <path>...    summarise day files (generated or real)
//
// Run "client -h" for every workload with its parameters and defaults.
// Exit status: 0 when the workload ends, is interrupted (SIGINT, SIGTERM)
// or reaches -duration; 1 on a runtime error (connection, environment,
// controller); 2 on a bad command line.
package main

import (
	"fmt"
	"io"
	"os"
	"sync"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	stdout = &lockedWriter{w: stdout}
	if len(args) > 0 {
		switch args[0] {
		case "gen-trace":
			return genTrace(args[1:], stdout, stderr)
		case "trace-stats":
			return traceStats(args[1:], stdout, stderr)
		}
	}
	return runWorkload(args, stdout, stderr)
}

// lockedWriter serialises writes from the engine, the summary printer and
// the connection.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// usageErrorf reports a bad command line and returns exit status 2.
func usageErrorf(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "client: "+format+"\n", args...)
	fmt.Fprintln(stderr, "Run 'client -h' for usage.")
	return 2
}
