package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/clockwork-go/clockwork/internal/workload/azure"
)

// genTrace is "client gen-trace [flags]".
func genTrace(args []string, stdout, stderr io.Writer) int {
	cfg := azure.DefaultGenConfig()
	fs := flag.NewFlagSet("gen-trace", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", "", "directory to write the day files to (required; created if needed)")
	fs.IntVar(&cfg.Functions, "functions", cfg.Functions, "functions (rows) per day file")
	fs.IntVar(&cfg.Days, "days", cfg.Days, "number of day files, d01 onwards")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed; equal seeds write identical files")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, "Usage: client gen-trace -dir DIR [-functions N] [-days D] [-seed S]")
			fmt.Fprintln(stdout, "\nWrites a synthetic Azure Functions 2019 trace (invocations_per_function_md.anon.dNN.csv).")
			fmt.Fprintln(stdout, "Point AZURE_TRACE_DIR at DIR to replay it; 'client trace-stats DIR' summarises it.")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		return usageErrorf(stderr, "gen-trace: %v", err)
	}
	if *dir == "" || fs.NArg() > 0 {
		return usageErrorf(stderr, "gen-trace: need -dir and no other arguments")
	}
	if cfg.Functions < 1 || cfg.Days < 1 || cfg.Days > 99 {
		return usageErrorf(stderr, "gen-trace: need -functions ≥ 1 and -days between 1 and 99")
	}
	if err := azure.Generate(*dir, cfg); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	for day := 1; day <= cfg.Days; day++ {
		fmt.Fprintln(stdout, filepath.Join(*dir, azure.FileName(day)))
	}
	return 0
}

// traceStats is "client trace-stats <file or dir>...".
func traceStats(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(stdout, "Usage: client trace-stats <file or dir>...")
		fmt.Fprintln(stdout, "\nSummarises Azure Functions trace day files; a directory stands for its")
		fmt.Fprintln(stdout, "invocations_per_function_md*.csv files.")
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	var files []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		found, _ := filepath.Glob(filepath.Join(a, "invocations_per_function_md*.csv"))
		if len(found) == 0 {
			fmt.Fprintf(stderr, "%s: no invocations_per_function_md*.csv files\n", a)
			return 1
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	for i, f := range files {
		s, err := azure.Summarize(f)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		fmt.Fprintf(stdout, "== %s\n", f)
		s.Write(stdout)
	}
	return 0
}
