// Command clockwork-bench runs Clockwork's experiments and prints their
// figures as markdown tables.
//
//	clockwork-bench fig5 [flags]                  Figure 5 on the real binaries (worker_dummy, controller, client)
//	clockwork-bench sim [flags] fig5              the same sweep in the virtual-time simulator
//	clockwork-bench sim [flags] WORKLOAD [ARGS]   any client workload in the simulator
//	clockwork-bench replay [flags] ACTION_LOG...  a run's exec predictions again with other estimates
//	clockwork-bench ops [flags] MODEL             each op's time in the CPU engine
//
// fig5 and sim measure the controller's request log with the same code
// (package bench), so their tables compare row for row.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "fig5":
		return fig5Main(ctx, args[1:], stdout, stderr)
	case "sim":
		return simMain(ctx, args[1:], stdout, stderr)
	case "replay":
		return replayMain(args[1:], stdout, stderr)
	case "ops":
		return opsMain(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage:
  clockwork-bench fig5 [flags]                 Figure 5 on the real binaries
  clockwork-bench sim [flags] fig5             Figure 5 in the virtual-time simulator
  clockwork-bench sim [flags] WORKLOAD [ARGS]  any client workload in the simulator
  clockwork-bench replay [flags] ACTION_LOG... a run's exec predictions again with other estimates
  clockwork-bench ops [flags] MODEL            each op's time in the CPU engine

Run "clockwork-bench COMMAND -h" for the flags.
`)
}

// parseOperands parses a command's flags and requires operands after them.
// done says the command ends there, with code: 0 after -h, 2 after a bad
// flag or without operands (the usage printed).
func parseOperands(fs *flag.FlagSet, args []string) (code int, done bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, true
		}
		return 2, true
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2, true
	}
	return 0, false
}
