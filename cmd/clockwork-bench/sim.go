package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/clockwork-go/clockwork/internal/bench"
	"github.com/clockwork-go/clockwork/internal/model"
	simrt "github.com/clockwork-go/clockwork/internal/runtime/sim"
	"github.com/clockwork-go/clockwork/internal/scheduler/infer5"
	"github.com/clockwork-go/clockwork/internal/simulate"
)

// simOptions are the flags of "sim".
type simOptions struct {
	sweep    sweep
	cfg      simulate.Config // cluster, network, controller, seed
	duration time.Duration
	logs     string
	verbose  bool
}

func simFlags(o *simOptions) *flag.FlagSet {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	o.sweep.register(fs)
	c := &o.cfg
	fs.StringVar(&c.Controller.Type, "scheduler", "INFER5", "controller type for a named workload: INFER5, INFER4 or BASELINE")
	fs.IntVar(&c.Workers, "workers", 1, "simulated workers (fig5: 1)")
	fs.IntVar(&c.GPUs, "gpus", 1, "GPUs per worker (fig5: 1)")
	fs.StringVar(&c.WorkerConfigFile, "worker-config", "", "worker configuration overrides, as worker_dummy -c")
	fs.Var(nanos{&c.Controller.DefaultSLO}, "default-slo", "controller default_slo for a named workload (default 100ms)")
	fs.Var(nanos{&c.Controller.ScheduleAhead}, "schedule-ahead", "controller schedule_ahead (default 10ms, 15ms with -generate-inputs)")
	fs.Var(nanos{&c.Controller.MaxExec}, "max-exec", "controller max_exec (default 250ms)")
	fs.IntVar(&c.Controller.MaxGPUs, "max-gpus", 0, "controller max_gpus (default 100; fig5: 1)")
	fs.BoolVar(&c.Controller.GenerateInputs, "generate-inputs", false, "controller generate_inputs")
	fs.BoolVar(&c.Controller.DemandGuard, "demand-guard", false, "INFER5 and INFER4 -demand-guard")
	fs.IntVar(&c.Controller.EstimateWindow, "estimate-window", infer5.DefaultEstimateWindow, "INFER5 and INFER4 -estimate-window (the original's: 10)")
	fs.Float64Var(&c.Controller.EstimatePercentile, "estimate-percentile", infer5.DefaultEstimatePercentile, "INFER5 and INFER4 -estimate-percentile (the original's: 0.99)")
	fs.Var(nanos{&c.WorkerTimerSlack}, "worker-timer-slack", "how late the workers' timers fire (default 0: on time, as worker_dummy's within a few µs)")
	fs.Var(nanos{&c.Network.WorkerLatency}, "worker-latency", "one-way controller↔worker latency (default 50µs)")
	fs.Var(nanos{&c.Network.ClientLatency}, "client-latency", "one-way client↔controller latency (default 50µs)")
	fs.Float64Var(&c.Network.Bandwidth, "bandwidth", 0, "controller↔worker link bandwidth, bytes/s (default 1.25e9 = 10 Gbit/s)")
	fs.Uint64Var(&c.Seed, "seed", 0, "the clients' random seed")
	fs.StringVar(&c.ModelDir, "zoo", os.Getenv("CLOCKWORK_MODEL_DIR"), "model zoo (default $CLOCKWORK_MODEL_DIR, else the simulated zoo in a temporary directory)")
	fs.StringVar(&c.TraceDir, "traces", os.Getenv("AZURE_TRACE_DIR"), "Azure trace directory (default $AZURE_TRACE_DIR)")
	fs.Var(slowExecs{&c.SlowExecs}, "slow-execs", "make `SHARE:MIN-MAX` of the execs run longer than profiled, as 1%:4%-10% (a real GPU's slow execs; default none)")
	fs.Var(losses{&c.Losses}, "lose", "lose worker `W@T[:R]`: its connection at T after the start, a new process rejoining at R (repeatable)")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "virtual time each workload runs")
	fs.StringVar(&o.logs, "logs", "", "keep each run's logs under this directory (default: a temporary one, removed)")
	fs.BoolVar(&o.verbose, "v", false, "print the simulated processes' console lines to stderr")
	return fs
}

func simMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o simOptions
	fs := simFlags(&o)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: clockwork-bench sim [flags] fig5
       clockwork-bench sim [flags] WORKLOAD [ARGS...]

Runs a Clockwork cluster in virtual time: the real INFER5, INFER4 or BASELINE
scheduler, worker engines on the simulated runtime of worker_dummy, and the
client's workload engine, over a network model. "fig5" sweeps Figure 5
(-slos × -schedulers, comparison_experiment2 on one simulated GPU, max_batch
16 unless -max-batch says otherwise); any other name is a client workload (see
"client -h") run once with -scheduler and -default-slo, and the controller's
default max_batch (8, INFER4 16) unless -max-batch is given. Prints the same table as
"clockwork-bench fig5"; -slos, -schedulers, -models and -concurrency apply to
fig5 only.

`)
		fs.PrintDefaults()
	}
	if code, done := parseOperands(fs, args); done {
		return code
	}
	if err := errors.Join(o.sweep.check(), o.checkDuration()); err != nil {
		fmt.Fprintf(stderr, "sim: %v\n", err)
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	points, err := o.plan(fs.Args(), set["max-batch"])
	if err != nil {
		fmt.Fprintf(stderr, "sim: %v\n", err)
		return 2
	}

	logs, cleanup, err := logRoot(o.logs)
	if err != nil {
		fmt.Fprintf(stderr, "sim: %v\n", err)
		return 1
	}
	defer cleanup()
	if o.cfg.ModelDir == "" {
		o.cfg.ModelDir = filepath.Join(logs, "zoo")
		if _, err := model.WriteSimulatedZoo(o.cfg.ModelDir); err != nil {
			fmt.Fprintf(stderr, "sim: writing the simulated zoo: %v\n", err)
			return 1
		}
	}
	if o.verbose {
		o.cfg.Console = stderr
	}

	var results []bench.Result
	for _, p := range points {
		if ctx.Err() != nil {
			break
		}
		results = append(results, simRun(ctx, o, p, logs, stderr))
	}
	return report(stdout, stderr, results, fs.Arg(0) == "fig5", ctx.Err())
}

// plan sets up the workload named by args[0] and returns the points to
// simulate: the Figure 5 sweep, or the workload once. maxBatchSet tells
// whether -max-batch was given.
func (o *simOptions) plan(args []string, maxBatchSet bool) ([]point, error) {
	o.cfg.Duration, o.cfg.Inputs = o.duration, o.sweep.inputs
	c := &o.cfg.Controller
	if args[0] != "fig5" {
		o.cfg.Workload, o.cfg.Args = args[0], args[1:]
		if maxBatchSet {
			c.MaxBatch = o.sweep.maxBatch
		}
		slo := time.Duration(c.DefaultSLO)
		if slo == 0 {
			slo = 100 * time.Millisecond
		}
		return []point{{slo, strings.ToUpper(c.Type)}}, nil
	}
	if len(args) > 1 {
		return nil, errors.New("fig5 takes no arguments")
	}
	// As the fig5 command runs the controller: "TYPE w 0 1 10000000 SLO".
	o.cfg.Workload, o.cfg.Args = "comparison_experiment2", o.sweep.workloadArgs()
	o.cfg.Workers, o.cfg.GPUs = 1, 1
	c.MaxGPUs, c.MaxBatch = 1, o.sweep.maxBatch
	if c.ScheduleAhead == 0 {
		c.ScheduleAhead = 10e6
	}
	return o.sweep.runs(), nil
}

// simRun simulates one point and measures its request log.
func simRun(ctx context.Context, o simOptions, p point, logs string, stderr io.Writer) bench.Result {
	cfg := o.cfg
	cfg.Controller.Type, cfg.Controller.DefaultSLO = p.scheduler, int64(p.slo)
	cfg.LogDir = filepath.Join(logs, fmt.Sprintf("%s-%v", p.scheduler, p.slo))
	begin := time.Now()
	res, err := simulate.Run(ctx, cfg)
	out := bench.Result{SLO: p.slo, Scheduler: p.scheduler}
	if err != nil {
		out.Err = err
		fmt.Fprintf(stderr, "sim %v: %v\n", p, err)
		return out
	}
	out.Stats, out.Err = measure(res.RequestLog, bench.Window{Warmup: o.sweep.warmup, End: res.Stop})
	fmt.Fprintf(stderr, "sim %v: %v virtual in %.2fs, %d requests, %d answered, logs in %s\n",
		p, time.Duration(res.Stop-res.Start), time.Since(begin).Seconds(), res.Requests, res.Answered, cfg.LogDir)
	if rows, err := readActions(res.ActionLog); err != nil {
		out.Err = errors.Join(out.Err, err)
	} else if pred := bench.Predictions(rows); pred.Infers > 0 {
		fmt.Fprintf(stderr, "sim %v: exec predictions of %d Infers: |expected - actual| / actual p50 %.2f%%, p99 %.2f%%; %.2f%% ran over theirs by more than 1%%\n",
			p, pred.Infers, 100*pred.P50, 100*pred.P99, 100*pred.Under)
	}
	if res.Answered != res.Requests {
		out.Err = errors.Join(out.Err, fmt.Errorf("%d requests unanswered after the drain", res.Requests-res.Answered))
	}
	return out
}

// logRoot returns dir (created), or a temporary directory that cleanup
// removes.
func logRoot(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, os.MkdirAll(dir, 0o755)
	}
	tmp, err := os.MkdirTemp("", "clockwork-sim-")
	return tmp, func() { os.RemoveAll(tmp) }, err
}

// checkDuration requires a measured window: -duration beyond -warmup.
func (o *simOptions) checkDuration() error {
	if o.duration <= o.sweep.warmup {
		return fmt.Errorf("-duration (%v) must exceed -warmup (%v)", o.duration, o.sweep.warmup)
	}
	return nil
}

// nanos is a flag holding int64 nanoseconds, given as a duration ("10ms")
// or as integer nanoseconds as the controller takes them.
type nanos struct{ p *int64 }

func (n nanos) String() string {
	if n.p == nil || *n.p == 0 {
		return ""
	}
	return time.Duration(*n.p).String()
}

func (n nanos) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		d, err := time.ParseDuration(s)
		if err != nil {
			return errors.New("want a duration such as 10ms, or nanoseconds")
		}
		v = int64(d)
	}
	if v <= 0 {
		return errors.New("must be positive")
	}
	*n.p = v
	return nil
}

// slowExecs is the -slow-execs flag: SHARE:MIN-MAX (simrt.ParseSlowExecs).
type slowExecs struct{ p *simrt.SlowExecs }

func (s slowExecs) String() string {
	if s.p == nil {
		return "0"
	}
	return s.p.String()
}

func (s slowExecs) Set(v string) (err error) {
	*s.p, err = simrt.ParseSlowExecs(v)
	return err
}

// losses is the repeatable -lose flag: W@T or W@T:R, worker W lost at T
// after the workload starts and back as a new process at R.
type losses struct{ p *[]simulate.Loss }

func (l losses) String() string {
	if l.p == nil {
		return ""
	}
	var parts []string
	for _, x := range *l.p {
		s := fmt.Sprintf("%d@%v", x.Worker, x.At)
		if x.Rejoin != 0 {
			s += ":" + x.Rejoin.String()
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

func (l losses) Set(s string) error {
	w, times, ok := strings.Cut(s, "@")
	worker, err := strconv.Atoi(w)
	if !ok || err != nil || worker < 0 {
		return errors.New("want W@T or W@T:R, as 1@20s:40s")
	}
	at, rejoin, hasRejoin := strings.Cut(times, ":")
	var x simulate.Loss
	x.Worker = worker
	if x.At, err = time.ParseDuration(at); err != nil || x.At <= 0 {
		return fmt.Errorf("loss time %q: want a positive duration", at)
	}
	if hasRejoin {
		if x.Rejoin, err = time.ParseDuration(rejoin); err != nil || x.Rejoin <= x.At {
			return fmt.Errorf("rejoin time %q: want a duration after %v", rejoin, x.At)
		}
	}
	*l.p = append(*l.p, x)
	return nil
}
