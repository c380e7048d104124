package controllercmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/clockwork-go/clockwork/internal/controller"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/scheduler/baseline"
	"github.com/clockwork-go/clockwork/internal/scheduler/echo"
	"github.com/clockwork-go/clockwork/internal/scheduler/infer5"
)

// kind is one controller TYPE.
type kind struct {
	maxBatch  int  // default max_batch
	telemetry bool // writes the TSV logs
	// announce prints the scheduler's parameter block before connecting.
	announce func(w io.Writer, cfg scheduler.Config)
	build    func(cfg scheduler.Config, s *scheduler.State, a *Args) (scheduler.Scheduler, error)
}

var kinds = map[string]kind{
	"INFER5": {maxBatch: 8, telemetry: true, announce: infer5.PrintConfig,
		build: func(cfg scheduler.Config, s *scheduler.State, a *Args) (scheduler.Scheduler, error) {
			return infer5.New(cfg, s, infer5.LoadSatisfiedModels(a.LoadSatisfied))
		}},
	"BASELINE": {maxBatch: 8, telemetry: true, announce: baseline.PrintConfig,
		build: func(cfg scheduler.Config, s *scheduler.State, _ *Args) (scheduler.Scheduler, error) {
			return baseline.New(cfg, s)
		}},
	"ECHO": {maxBatch: 32, build: func(cfg scheduler.Config, _ *scheduler.State, _ *Args) (scheduler.Scheduler, error) {
		return echo.New(cfg), nil
	}},
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
	k, ok := kinds[args.Type]
	if !ok {
		fmt.Fprintf(stderr, "Invalid controller type %s\n\n%s", args.Type, Usage)
		return 1
	}
	fmt.Fprintln(stdout, "Starting Clockwork Controller")
	cfg := scheduler.Config{
		DefaultSLO:     args.DefaultSLO,
		ScheduleAhead:  args.ScheduleAhead,
		MaxExec:        args.MaxExec,
		MaxBatch:       args.MaxBatch,
		GenerateInputs: args.GenerateInputs,
		MaxGPUs:        args.MaxGPUs,
		Log:            stdout,
	}
	if cfg.ScheduleAhead == 0 {
		cfg.ScheduleAhead = 10e6
		if cfg.GenerateInputs {
			cfg.ScheduleAhead = 15e6
		}
	}
	cfg.LatestDelta = cfg.ScheduleAhead
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = k.maxBatch
	}
	if cfg.GenerateInputs {
		cfg.Inputs = generatedInputs()
	}
	var tel controller.Telemetry
	if k.telemetry {
		if tel, err = openTelemetry(args.LogDir, stdout); err != nil {
			fmt.Fprintf(stderr, "%v\n", err)
			return 1
		}
	}
	if k.announce != nil {
		k.announce(stdout, cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	code := 0
	go func() {
		s := <-sigs
		n := int(s.(syscall.Signal))
		fmt.Fprintf(stdout, "Interrupt signal (%d) received.\n", n)
		code = n
		cancel()
	}()
	err = controller.Run(ctx, controller.Options{
		Workers:      args.Workers,
		ClientAddr:   ":" + strconv.Itoa(args.Port),
		Console:      stdout,
		NewScheduler: func(s *scheduler.State) (scheduler.Scheduler, error) { return k.build(cfg, s, args) },
		MaxBatch:     uint32(cfg.MaxBatch),
		MaxExec:      uint64(cfg.MaxExec),
		Telemetry:    tel,
	})
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "Clockwork Controller Exiting")
	return code
}
