package main

import (
	"fmt"
	"io"
	"os"

	"github.com/clockwork-go/clockwork/internal/bench"
)

// measure analyses a request log file.
func measure(path string, w bench.Window) (bench.Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return bench.Stats{}, err
	}
	defer f.Close()
	return bench.Analyze(f, w)
}

// report prints the table (and for Figure 5 the target line); a failed run
// or an interruption makes the exit status 1.
func report(stdout, stderr io.Writer, results []bench.Result, fig5 bool, interrupted error) int {
	code := 0
	if err := bench.WriteTable(stdout, results); err != nil {
		fmt.Fprintln(stderr, err)
		code = 1
	}
	if fig5 {
		fmt.Fprintln(stdout, "\n"+bench.CheckFig5(results))
	}
	for _, r := range results {
		if r.Err != nil {
			code = 1
		}
	}
	if interrupted != nil {
		fmt.Fprintln(stderr, "interrupted")
		code = 1
	}
	return code
}
