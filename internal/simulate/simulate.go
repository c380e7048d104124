// Package simulate runs a Clockwork cluster in virtual time, in one
// goroutine, from the same pieces the real processes are made of: the
// scheduler core the controller drives (INFER5, INFER4 or BASELINE, built from the
// same options and the same start-up State), workers each running the real
// worker.Engine on the simulated runtime of worker_dummy, and clients
// running the real workload engine. Only the I/O around them is replaced:
// sockets by a network model (type Network), the wall clock by one virtual
// clock and its event queue. Telemetry goes through the real request and
// action log writers.
//
// Because every decision core is a deterministic state machine fed with
// the time, a simulation makes the decisions the real system would make
// if its network and its CPUs behaved like the model. It runs as fast as
// the cores decide (an hour of an Azure trace on six GPUs in seconds), and
// a given seed always writes the same logs. What it leaves out is what the
// real system adds: operating-system scheduling, TCP, garbage collection,
// the processes' own processing time. Constant stand-ins for them (the
// network latencies, Config.WorkerTimerSlack) can be calibrated from a
// real run's action log; jitter is not modelled.
package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/clockwork-go/clockwork/internal/config"
	simrt "github.com/clockwork-go/clockwork/internal/runtime/sim"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/telemetry"
	"github.com/clockwork-go/clockwork/internal/workload"
)

// Epoch is the controller clock at virtual time zero (2020-11-04, the
// first day of OSDI 2020, in Unix nanoseconds), so that logged timestamps
// read like the real controller's.
const Epoch = int64(1_604_448_000) * 1e9

// Log file names, as the controller writes them.
const (
	RequestLogName = "clockwork_request_log.tsv"
	ActionLogName  = "clockwork_action_log.tsv"
)

// Config describes a simulated cluster and the workload it serves.
type Config struct {
	Controller Controller
	Workers    int // default 1
	GPUs       int // per worker; default 1
	// WorkerConfigFile overrides the worker configuration defaults, as
	// worker_dummy's -c does ("" for none).
	WorkerConfigFile string
	// WorkerTimerSlack is how late a worker's timers fire: the engine
	// hears of an operation's end, or of a task becoming eligible, this
	// long after the time itself. 0 models ideal timers; worker_dummy on
	// Linux is late by up to 1 ms, since Go rounds timer waits below a
	// millisecond up to one (golang/go#53824).
	WorkerTimerSlack int64
	Network          Network
	// SlowExecs makes a share of the execs run longer than profiled, as a
	// real GPU's occasional slow execs do (simulated GPUs are otherwise
	// exact); drawn from Seed.
	SlowExecs simrt.SlowExecs
	// Inputs makes clients send an input with every request, as the client
	// does unless CLOCKWORK_DISABLE_INPUTS=1; otherwise requests carry none.
	Inputs bool

	// Workload is a named client workload and its arguments (package
	// workload); models come from ModelDir, traces from TraceDir.
	Workload string
	Args     []string
	ModelDir string
	TraceDir string
	Seed     uint64 // the client's -seed

	// Duration is how long the workload runs, in virtual time. Drain is how
	// long after that outstanding requests may take to be answered
	// (default 30 s).
	Duration time.Duration
	Drain    time.Duration

	// Losses are workers whose connection the controller loses while the
	// workload runs, and which may come back as new processes.
	Losses []Loss

	LogDir  string    // receives the request and action logs (created)
	Console io.Writer // the processes' console lines; nil discards them
}

// Result summarises a simulation.
type Result struct {
	Start, Stop int64 // controller clock when the workload started and was stopped
	Requests    int   // inference requests sent by clients
	Answered    int   // ... answered (each once)
	Duplicates  int   // answers to requests already answered (a scheduler bug)
	RequestLog  string
	ActionLog   string
}

// Run simulates cfg until its workload has run for cfg.Duration (or ended
// by itself) and its outstanding requests are answered or cfg.Drain has
// passed. The logs are complete when it returns, even with an error.
func Run(ctx context.Context, cfg Config) (res *Result, err error) {
	def := workload.Lookup(cfg.Workload)
	if def == nil {
		return nil, fmt.Errorf("simulate: unknown workload %q", cfg.Workload)
	}
	args, err := def.Parse(cfg.Args)
	if err != nil {
		return nil, err
	}
	if cfg.Duration <= 0 {
		return nil, errors.New("simulate: the duration must be positive")
	}
	s, err := newSim(cfg.withDefaults())
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, s.closeLogs()) }()

	env := &workload.Env{Engine: s.engine, Loader: s, ModelDir: cfg.ModelDir, TraceDir: cfg.TraceDir}
	if err := def.Build(env, args); err != nil {
		return nil, err
	}
	s.cfg.Controller.Announce(s.schedCfg)
	if s.sched, err = s.cfg.Controller.NewScheduler(s.schedCfg, &s.state); err != nil {
		return nil, err
	}
	res = &Result{Start: s.now(), RequestLog: s.reqPath, ActionLog: s.actPath}
	if err := s.scheduleLosses(res.Start); err != nil {
		return nil, err
	}
	s.engine.StopAfter(cfg.Duration)
	if err := s.engine.Run(ctx); err != nil {
		return nil, err
	}
	res.Stop = s.now()
	if err := s.drain(ctx, s.cfg.Duration+s.cfg.Drain); err != nil {
		return nil, err
	}
	res.Requests, res.Answered, res.Duplicates = s.requests, s.answered, s.duplicates
	return res, s.err
}

// sim is one simulation: the controller's side (scheduler, telemetry),
// the workers, and the clients' models, all on one virtual clock.
type sim struct {
	cfg    Config
	net    Network
	clock  *workload.Virtual
	engine *workload.Engine

	workers     []*simWorker
	workersMade int             // processes started, rejoins included (seeds their slow execs)
	wcfg        *config.Worker  // the workers' configuration
	state       scheduler.State // as the controller's startup phase finds it
	console     io.Writer

	schedCfg scheduler.Config
	sched    scheduler.Scheduler
	out      scheduler.Output
	deciding bool   // a decision is queued at the current time
	decideFn func() // s.decide, bound once
	wakeAt   int64  // the scheduler's pending wake-up, or 0

	reqLog           *telemetry.RequestLog
	actLog           *telemetry.ActionLog
	reqPath, actPath string

	nextAction  int32 // startup action ids
	nextModel   int
	nextRequest int32

	requests, answered, duplicates int
	err                            error // the first broken invariant
}

func (cfg Config) withDefaults() Config {
	cfg.Workers, cfg.GPUs = max(cfg.Workers, 1), max(cfg.GPUs, 1)
	if cfg.Drain == 0 {
		cfg.Drain = 30 * time.Second
	}
	return cfg
}

func newSim(cfg Config) (*sim, error) {
	if cfg.LogDir == "" {
		return nil, errors.New("simulate: no log directory")
	}
	console := cfg.Console
	if console == nil {
		console = io.Discard
	}
	s := &sim{cfg: cfg, net: cfg.Network.withDefaults(), clock: new(workload.Virtual), console: console}
	s.decideFn = s.decide
	s.engine = workload.NewEngine(workload.Options{Clock: s.clock, Out: console, Seed: cfg.Seed})
	var err error
	if s.schedCfg, err = cfg.Controller.SchedulerConfig(console); err != nil {
		return nil, err
	}
	wcfg, err := config.Load(config.DefaultPath(), config.UserPath(cfg.WorkerConfigFile), io.Discard)
	if err != nil {
		return nil, fmt.Errorf("simulate: worker configuration: %w", err)
	}
	s.wcfg = wcfg
	for i := range cfg.Workers {
		w := newWorker(s, i, cfg.GPUs, wcfg)
		s.workers = append(s.workers, w)
		st, err := w.state(s.now(), s.nextAction)
		if err != nil {
			return nil, err
		}
		s.nextAction++
		s.state.PageSize = wcfg.PageSize
		s.state.Workers = append(s.state.Workers, st)
	}
	if err := s.openLogs(cfg.LogDir); err != nil {
		return nil, err
	}
	return s, nil
}

// now is the controller clock.
func (s *sim) now() int64 { return Epoch + int64(s.clock.Now()) }

// at runs f at controller time t (now, if t has passed), after everything
// already queued for t.
func (s *sim) at(t int64, f func()) { s.clock.After(time.Duration(t-s.now()), f) }

// fail records a broken invariant and stops the workload.
func (s *sim) fail(err error) {
	if s.err == nil {
		s.err = err
		s.engine.Stop()
	}
}

// drain lets outstanding requests finish until limit (virtual time since
// the start).
func (s *sim) drain(ctx context.Context, limit time.Duration) error {
	for s.answered < s.requests && s.clock.Now() < limit && s.err == nil {
		if err := s.clock.Wait(ctx, limit, nil); err != nil {
			return err
		}
	}
	return nil
}

func (s *sim) openLogs(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	s.reqPath, s.actPath = filepath.Join(dir, RequestLogName), filepath.Join(dir, ActionLogName)
	rf, err := os.Create(s.reqPath)
	if err != nil {
		return fmt.Errorf("simulate: %w", err)
	}
	af, err := os.Create(s.actPath)
	if err != nil {
		rf.Close()
		return fmt.Errorf("simulate: %w", err)
	}
	s.reqLog, s.actLog = telemetry.NewRequestLog(rf), telemetry.NewActionLog(af)
	return nil
}

func (s *sim) closeLogs() error {
	return errors.Join(s.reqLog.Close(), s.actLog.Close())
}
