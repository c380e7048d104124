package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/clockwork-go/clockwork/internal/proc"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/clockwork-go/clockwork/internal/bench"
)

// fig5Options are the flags of "fig5".
type fig5Options struct {
	sweep    sweep
	bin      string
	zoo      string
	duration time.Duration
	ahead    time.Duration
	keep     bool
}

var (
	workerListening     = regexp.MustCompile(`IO service thread listening on 0\.0\.0\.0:(\d+)`)
	controllerListening = regexp.MustCompile(`IO service thread listening for clients on 0\.0\.0\.0:(\d+)`)
	clientSummary       = regexp.MustCompile(`throughput=`)
)

// startTimeout bounds each process's start-up; the client's first summary
// comes one summary period (10 s) after the controller's startup phase,
// which itself waits a second for more loads.
const (
	startTimeout   = 15 * time.Second
	summaryTimeout = 60 * time.Second
)

func fig5Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o fig5Options
	fs := flag.NewFlagSet("fig5", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.sweep.register(fs)
	fs.StringVar(&o.bin, "bin", "build", "directory holding worker_dummy, controller and client (make builds them)")
	fs.StringVar(&o.zoo, "zoo", "", "model zoo (default $CLOCKWORK_MODEL_DIR, else build/zoo)")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "how long each run lasts after the client's first summary line")
	fs.DurationVar(&o.ahead, "schedule-ahead", 10*time.Millisecond, "the controller's schedule_ahead")
	fs.BoolVar(&o.keep, "keep", false, "keep each run's directory (telemetry, process output) and print its path")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: clockwork-bench fig5 [flags]

Figure 5 of the Clockwork paper on the real binaries over loopback: for each
SLO and scheduler, a fresh "worker_dummy -n 1", a controller
"controller -max-batch 16 TYPE localhost:P 0 1 10000000 SLO_NS" (max_batch and
schedule_ahead as the flags say) and a client
"client localhost:C comparison_experiment2 15 16", measured from the
controller's request log.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	err := o.sweep.check()
	if fs.NArg() > 0 {
		err = errors.Join(err, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if o.duration <= 0 || o.ahead <= 0 {
		err = errors.Join(err, errors.New("-duration and -schedule-ahead must be positive"))
	}
	if err != nil {
		fmt.Fprintf(stderr, "fig5: %v\n", err)
		return 2
	}
	if err := o.locate(); err != nil {
		fmt.Fprintf(stderr, "fig5: %v\n", err)
		return 1
	}
	var results []bench.Result
	begin := time.Now()
	for _, p := range o.sweep.runs() {
		if ctx.Err() != nil {
			break
		}
		start := time.Now()
		r := o.run(ctx, p, stderr)
		if r.Err != nil && ctx.Err() == nil {
			fmt.Fprintf(stderr, "fig5 %v: %v\n", p, r.Err)
		}
		fmt.Fprintf(stderr, "fig5 %v: done in %.1fs\n", p, time.Since(start).Seconds())
		results = append(results, r)
	}
	fmt.Fprintf(stderr, "fig5: %d runs in %.1fs\n", len(results), time.Since(begin).Seconds())
	return report(stdout, stderr, results, true, ctx.Err())
}

// locate finds the binaries and the zoo, or says how to make them.
func (o *fig5Options) locate() error {
	for _, name := range []string{"worker_dummy", "controller", "client"} {
		path := filepath.Join(o.bin, name)
		if fi, err := os.Stat(path); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return fmt.Errorf("no executable %s (run make to build the binaries into build/, or point -bin at them)", path)
		}
	}
	abs, err := filepath.Abs(o.bin)
	if err != nil {
		return err
	}
	o.bin = abs
	if o.zoo == "" {
		o.zoo = os.Getenv("CLOCKWORK_MODEL_DIR")
	}
	if o.zoo == "" {
		o.zoo = filepath.Join("build", "zoo")
	}
	if _, err := os.Stat(filepath.Join(o.zoo, "resnet50_v2")); err != nil {
		return fmt.Errorf("no resnet50_v2 in the model zoo %s (make writes the simulated zoo to build/zoo; or set -zoo)", o.zoo)
	}
	o.zoo, err = filepath.Abs(o.zoo)
	return err
}

// run measures one point: it starts a worker, a controller and a client
// in a directory of their own, lets the workload run, stops them in that
// order (each exits cleanly on SIGINT), and analyses the request log up to
// the moment the client was stopped.
func (o *fig5Options) run(ctx context.Context, p point, stderr io.Writer) bench.Result {
	res := bench.Result{SLO: p.slo, Scheduler: p.scheduler}
	dir, err := os.MkdirTemp("", "clockwork-fig5-")
	if err != nil {
		res.Err = err
		return res
	}
	if o.keep {
		fmt.Fprintf(stderr, "fig5 %v: logs and output in %s\n", p, dir)
	} else {
		defer os.RemoveAll(dir)
	}
	end, err := o.serve(ctx, p, dir)
	if ctx.Err() != nil {
		err = errors.New("interrupted")
	}
	if err != nil {
		res.Err = err
		return res
	}
	res.Stats, res.Err = measure(filepath.Join(dir, "logs", "clockwork_request_log.tsv"),
		bench.Window{Warmup: o.sweep.warmup, End: end})
	return res
}

// serve runs the three processes and returns the time (Unix ns, which the
// controller's clock is based on) when the client was stopped.
func (o *fig5Options) serve(ctx context.Context, p point, dir string) (int64, error) {
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		return 0, err
	}
	bin := func(name string) string { return filepath.Join(o.bin, name) }

	worker, err := proc.Start(dir, bin("worker_dummy"), nil, "-n", "1", "-p", "0")
	if err != nil {
		return 0, err
	}
	defer worker.Stop()
	m, err := worker.WaitFor(ctx, workerListening, startTimeout)
	if err != nil {
		return 0, err
	}

	ctrl, err := proc.Start(dir, bin("controller"), []string{"CLOCKWORK_LOG_DIR=" + logs},
		"-port", "0", "-max-batch", strconv.Itoa(o.sweep.maxBatch),
		p.scheduler, "localhost:"+m[1], "0", "1", strconv.FormatInt(int64(o.ahead), 10), strconv.FormatInt(int64(p.slo), 10))
	if err != nil {
		return 0, err
	}
	defer ctrl.Stop()
	if m, err = ctrl.WaitFor(ctx, controllerListening, startTimeout); err != nil {
		return 0, err
	}

	inputs := "1"
	if o.sweep.inputs {
		inputs = "0"
	}
	client, err := proc.Start(dir, bin("client"), []string{"CLOCKWORK_MODEL_DIR=" + o.zoo, "CLOCKWORK_DISABLE_INPUTS=" + inputs},
		append([]string{"localhost:" + m[1], "comparison_experiment2"}, o.sweep.workloadArgs()...)...)
	if err != nil {
		return 0, err
	}
	defer client.Stop()
	if _, err := client.WaitFor(ctx, clientSummary, summaryTimeout); err != nil {
		return 0, err
	}
	select {
	case <-time.After(o.duration):
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-client.Done():
		return 0, fmt.Errorf("client exited (%v):\n%s", client.Cmd.ProcessState, client.Tail(20))
	}
	end := time.Now().UnixNano()
	client.Stop()
	ctrl.Stop() // flushes the logs
	worker.Stop()
	return end, nil
}
