package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/clockwork-go/clockwork/internal/bench"
)

// estimates is a comma-separated list flag of N:P.
type estimates struct{ list *[]bench.Estimate }

func (e estimates) String() string {
	if e.list == nil {
		return ""
	}
	var parts []string
	for _, x := range *e.list {
		parts = append(parts, fmt.Sprintf("%d:%g", x.Size, x.P))
	}
	return strings.Join(parts, ",")
}

func (e estimates) Set(s string) error {
	var out []bench.Estimate
	for _, f := range strings.Split(s, ",") {
		n, p, ok := strings.Cut(strings.TrimSpace(f), ":")
		size, err1 := strconv.Atoi(n)
		pct, err2 := strconv.ParseFloat(p, 64)
		if !ok || err1 != nil || err2 != nil || size < 1 || size > 1000 || !(pct > 0 && pct <= 1) {
			return fmt.Errorf("%q: want N:P with N from 1 to 1000 and 0 < P ≤ 1, as 20:0.9", f)
		}
		out = append(out, bench.Estimate{Size: size, P: pct})
	}
	*e.list = out
	return nil
}

// replayMain prints, for each action log, its Infers' prediction error as
// logged and as INFER5 would have predicted them with other estimates.
func replayMain(args []string, stdout, stderr io.Writer) int {
	list := bench.Estimates
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(estimates{&list}, "estimates", "estimates to try, `N:P,...`: the percentile P of the last N measurements")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: clockwork-bench replay [-estimates N:P,...] ACTION_LOG...

Reads controller action logs (clockwork_action_log.tsv, of real runs or of
the simulator's) and prints the exec predictions' error of their Infers as
logged, then as INFER5 would have predicted the same execs with each
estimate (the percentile P of the last N measurements of the model at the
batch size; the controller's default is 20:0.9, the original's 10:0.99).
Only the predictions are replayed: what another estimate would have
changed in the scheduling is not, so a run with it (controller
-estimate-window N -estimate-percentile P) has the last word.

`)
		fs.PrintDefaults()
	}
	if code, done := parseOperands(fs, args); done {
		return code
	}
	code := 0
	for _, path := range fs.Args() {
		rows, err := readActions(path)
		if err != nil {
			fmt.Fprintf(stderr, "replay: %v\n", err)
			code = 1
			continue
		}
		logged := bench.Predictions(rows)
		if logged.Infers == 0 {
			fmt.Fprintf(stderr, "replay: %s: no successful Infer\n", path)
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: %d Infers\n\n| estimate | p50 | p99 | over their prediction by more than 1 %% |\n|---|---:|---:|---:|\n", path, logged.Infers)
		row := func(name string, p bench.Prediction) {
			fmt.Fprintf(stdout, "| %s | %.2f %% | %.2f %% | %.2f %% |\n", name, 100*p.P50, 100*p.P99, 100*p.Under)
		}
		row("as logged", logged)
		for _, e := range list {
			row(e.String(), bench.Replay(rows, e))
		}
		fmt.Fprintln(stdout)
	}
	return code
}

// readActions reads the successful Infers of the action log at path.
func readActions(path string) ([]bench.ActionRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []bench.ActionRow
	err = bench.ReadActionLog(f, func(r bench.ActionRow) {
		if r.PredictedInfer() {
			rows = append(rows, r)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}
