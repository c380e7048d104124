package controllercmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/clockwork-go/clockwork/internal/controller"
	"github.com/clockwork-go/clockwork/internal/promtext"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/scheduler/baseline"
	"github.com/clockwork-go/clockwork/internal/scheduler/echo"
	"github.com/clockwork-go/clockwork/internal/scheduler/infer5"
	"github.com/clockwork-go/clockwork/internal/telemetry"
)

// kind is one controller TYPE.
type kind struct {
	maxBatch  int           // default max_batch
	maxExec   int64         // default max_exec (0: 250 ms)
	loadStage time.Duration // idle time that ends startup's load stage (0: 1 s)
	telemetry bool          // writes the TSV logs
	// fixedAhead: schedule_ahead defaults to 10 ms even with
	// generate_inputs (INFER4; the others take 15 ms then).
	fixedAhead bool
	// announce prints the scheduler's parameter block before connecting.
	announce func(w io.Writer, cfg scheduler.Config)
	// test names a test controller, which has no scheduler (build unset).
	test  string
	build func(cfg scheduler.Config, s *scheduler.State, a *Args) (scheduler.Scheduler, error)
}

var kinds = map[string]kind{
	"INFER5": {maxBatch: 8, telemetry: true, announce: infer5.PrintConfig,
		build: func(cfg scheduler.Config, s *scheduler.State, a *Args) (scheduler.Scheduler, error) {
			return infer5.New(cfg, s, a.infer5Options()...)
		}},
	"INFER4": {maxBatch: 16, telemetry: true, fixedAhead: true, announce: infer5.PrintConfig,
		build: func(cfg scheduler.Config, s *scheduler.State, a *Args) (scheduler.Scheduler, error) {
			return infer5.New(cfg, s, append(a.infer5Options(), infer5.Infer4())...)
		}},
	"BASELINE": {maxBatch: 8, telemetry: true, announce: baseline.PrintConfig,
		build: func(cfg scheduler.Config, s *scheduler.State, _ *Args) (scheduler.Scheduler, error) {
			return baseline.New(cfg, s)
		}},
	// The original's test controllers (no scheduler; mode.go in package
	// controller). They load models with batch size 1 only, all they run.
	"DIRECT": {maxBatch: 1, test: controller.TestDirect},
	"STRESS": {maxBatch: 1, test: controller.TestStress},
	// ECHO: the original's startup limits and load stage, and its request
	// log and client summary (no actions to log).
	"ECHO": {maxBatch: 32, maxExec: 1e9, loadStage: 10 * time.Second, telemetry: true,
		build: func(cfg scheduler.Config, s *scheduler.State, _ *Args) (scheduler.Scheduler, error) {
			return echo.New(cfg, s), nil
		}},
}

// notImplemented says what the original's other controller types were,
// for users who follow its documentation.
var notImplemented = map[string]string{
	"SMART": "a scheduler the fork added, left unfinished (it answered with 0-byte outputs, dropped the requests it could serve and its multi-GPU assignment was wrong); INFER5 is the paper's scheduler",
}

// Main runs the controller and returns its exit status.
func Main(argv []string, stdout, stderr io.Writer) int {
	args, err := Parse(argv)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n\n%s", err, Usage)
		return 1
	}
	if args.Help {
		fmt.Fprint(stdout, Usage)
		return 0
	}
	k, ok := kinds[args.kind()]
	if !ok {
		fmt.Fprintf(stderr, "Invalid controller type %s\n", args.Type)
		if why, theirs := notImplemented[args.kind()]; theirs {
			fmt.Fprintf(stderr, "%s is not implemented here: it is %s.\n", args.kind(), why)
		}
		fmt.Fprintf(stderr, "\n%s", Usage)
		return 1
	}
	stress, err := args.stressOptions()
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "Starting Clockwork Controller")
	cfg, err := args.SchedulerConfig(stdout)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	var metrics *telemetry.Metrics
	if args.Metrics != "" {
		if !k.telemetry {
			fmt.Fprintf(stderr, "-metrics: the %s controller keeps no telemetry\n", args.kind())
			return 1
		}
		metrics = telemetry.NewMetrics()
		// Before the logs are opened: a busy port leaves the last run's
		// logs as they are.
		ms, err := promtext.Serve(args.Metrics, func(w io.Writer) { metrics.WriteTo(w) }, stdout, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			return 1
		}
		defer ms.Close()
	}
	var tel controller.Telemetry
	if k.telemetry {
		if tel, err = openTelemetry(args.LogDir, metrics, stdout); err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			return 1
		}
	}
	args.Announce(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var code atomic.Int32 // the signal that ended the run
	go func() {
		s := <-sigs
		n := int(s.(syscall.Signal))
		fmt.Fprintf(stdout, "Interrupt signal (%d) received.\n", n)
		code.Store(int32(n))
		cancel()
	}()
	err = controller.Run(ctx, controller.Options{
		Workers:          args.Workers,
		ClientAddr:       ":" + strconv.Itoa(args.Port),
		Console:          stdout,
		NewScheduler:     func(s *scheduler.State) (scheduler.Scheduler, error) { return args.NewScheduler(cfg, s) },
		MaxBatch:         uint32(cfg.MaxBatch),
		MaxExec:          uint64(cfg.MaxExec),
		LoadStageTimeout: k.loadStage,
		Telemetry:        tel,
		Test:             k.test,
		Stress:           stress,
		MaxClients:       args.MaxClients,
	})
	// A signal while connecting to the workers ends the run as one after.
	if err != nil && (code.Load() == 0 || ctx.Err() == nil) {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "Clockwork Controller Exiting")
	return int(code.Load())
}

// infer5Options are INFER5's and INFER4's options from the command line.
func (a *Args) infer5Options() []infer5.Option {
	return []infer5.Option{
		infer5.DemandGuard(a.DemandGuard),
		infer5.Estimates(cmp.Or(a.EstimateWindow, infer5.DefaultEstimateWindow), cmp.Or(a.EstimatePercentile, infer5.DefaultEstimatePercentile)),
	}
}

// stressOptions are STRESS's options: the model (default
// $CLOCKWORK_MODEL_DIR/resnet50_v2/model, the original's) and its copies
// (default 40).
func (a *Args) stressOptions() (controller.StressOptions, error) {
	o := controller.StressOptions{Model: a.StressModel, Copies: cmp.Or(a.StressCopies, 40)}
	if a.kind() != controller.TestStress {
		return o, nil
	}
	if o.Model == "" {
		dir := os.Getenv("CLOCKWORK_MODEL_DIR")
		if dir == "" {
			return o, errors.New("STRESS needs a model: -stress-model PATH, or CLOCKWORK_MODEL_DIR holding resnet50_v2")
		}
		o.Model = filepath.Join(dir, "resnet50_v2", "model")
	}
	return o, nil
}

// kind is the controller type, INFER5 when unset.
func (a *Args) kind() string {
	if a.Type == "" {
		return "INFER5"
	}
	return strings.ToUpper(a.Type)
}

// SchedulerConfig builds the scheduler configuration the controller runs
// with: the options, where zero, take the type's defaults (schedule_ahead
// 10 ms, or 15 ms with generate_inputs except for INFER4; default_slo
// 100 ms; max_exec 250 ms, ECHO's 1 s; max_gpus 100; max_batch 8, INFER4's
// 16, ECHO's 32).
// Schedulers print to log.
func (a *Args) SchedulerConfig(log io.Writer) (scheduler.Config, error) {
	k, ok := kinds[a.kind()]
	if !ok {
		return scheduler.Config{}, fmt.Errorf("invalid controller type %s", a.Type)
	}
	cfg := scheduler.Config{
		DefaultSLO: cmp.Or(a.DefaultSLO, 100e6), ScheduleAhead: a.ScheduleAhead, MaxExec: cmp.Or(a.MaxExec, k.maxExec, 250e6),
		MaxBatch: cmp.Or(a.MaxBatch, k.maxBatch), GenerateInputs: a.GenerateInputs, MaxGPUs: cmp.Or(a.MaxGPUs, 100), Log: log,
	}
	if cfg.ScheduleAhead == 0 {
		cfg.ScheduleAhead = 10e6
		if cfg.GenerateInputs && !k.fixedAhead {
			cfg.ScheduleAhead = 15e6
		}
	}
	cfg.LatestDelta = cfg.ScheduleAhead
	if cfg.GenerateInputs {
		cfg.Inputs = generatedInputs()
	}
	if cfg.DefaultSLO < 0 || cfg.MaxExec < 0 || cfg.ScheduleAhead < 0 || cfg.MaxBatch < 0 || cfg.MaxGPUs < 0 {
		return cfg, fmt.Errorf("negative controller option in %+v", *a)
	}
	return cfg, nil
}

// Announce prints the scheduler's parameter block, as the controller does
// before connecting to workers.
func (a *Args) Announce(cfg scheduler.Config) {
	if k := kinds[a.kind()]; k.announce != nil && cfg.Log != nil {
		k.announce(cfg.Log, cfg)
	}
}

// NewScheduler builds the controller type's scheduler for the cluster
// found at start-up.
func (a *Args) NewScheduler(cfg scheduler.Config, st *scheduler.State) (scheduler.Scheduler, error) {
	k, ok := kinds[a.kind()]
	if !ok {
		return nil, fmt.Errorf("invalid controller type %s", a.Type)
	}
	return k.build(cfg, st, a)
}
