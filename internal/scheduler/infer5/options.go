package infer5

import (
	"fmt"
	"io"

	"github.com/clockwork-go/clockwork/internal/scheduler"
)

// The original's compile-time constants (spec/controller.md §4.2).
const (
	ms = 1_000_000

	defaultClock        = scheduler.ReferenceClock // MHz; exec estimates are stored as ns × MHz
	buffer              = 5 * ms                   // aim this far before the real SLO
	defaultExecEstimate = ms / 10                  // for a batch size without a profile
	lag                 = 10 * ms                  // how overdue work may be before a tracker assumes it done
	future              = 1 * ms                   // minimum lead time of anything scheduled
	maxLoadWeightsSLO   = 25 * ms                  // cap on a request's load-weights deadline
	sendByMargin        = 5 * ms                   // an Infer must start transmission by latest − this
	networkConcurrency  = 2                        // concurrent action transmissions, cluster-wide
	defaultResultWait   = 1000 * ms                // see ResultTimeout
)

// originalEstimateWindow and originalEstimatePercentile are the
// original's estimate: the 0.99 percentile of the last ten measurements,
// "effectively the max" of them.
const (
	originalEstimateWindow     = 10
	originalEstimatePercentile = 0.99
)

// DefaultEstimateWindow and DefaultEstimatePercentile are INFER5's (and
// INFER4's) estimate of a model's exec time at a batch size, and of its
// weights transfer time, unless Estimates says otherwise: the 0.9
// percentile of the last 20 measurements. The original's (0.99 of the last
// ten) carries one slow exec into the next ten predictions; on an H100
// under INFER5 its p99 prediction error was 7.1 % where this one's was 4.0 %
// on the same execs (DIFFERENCES.md).
const (
	DefaultEstimateWindow     = 20
	DefaultEstimatePercentile = 0.9
)

// never is the wake time of something that time alone will not bring about.
const never = int64(^uint64(0) >> 1)

// An Option adjusts a Scheduler beyond the controller's Config.
type Option func(*options)

type options struct {
	infer4        bool // the original's earlier scheduler (infer4.go)
	demandGuard   bool
	resultTimeout int64
	estimator     estimator
}

// estimator is how measurements become an estimate: the p-th percentile
// of the last size of them (scheduler.Window).
type estimator struct {
	size int
	p    float64
}

// maxEstimateWindow bounds Estimates' window: each measurement sorts it.
const maxEstimateWindow = 1000

// Estimates sets how INFER5 estimates a model's exec time at a batch size,
// and its weights transfer time, from the measurements: the percentile p
// (0 to 1) of the last size of them (1 to 1000); by default
// DefaultEstimateWindow and DefaultEstimatePercentile. The original's are
// 10 and 0.99, "effectively the max" of the last ten, so that one slow
// exec raises the next ten predictions: on the H200 about 1 % of execs ran
// 4–10 % longer than the rest, and in the simulator such execs alone put
// the p99 prediction error at 8.35 %. A percentile that a rare slow exec
// does not reach (the last 20 at 0.9, the last 100 at 0.95) does not
// follow it, at the cost of predicting it short (4.2–4.4 % there); a
// larger window at 0.99 follows it longer (9.39 %). See the README.
func Estimates(size int, p float64) Option {
	return func(o *options) { o.estimator = estimator{size, p} }
}

// DemandGuard makes the load tracker load a model only while its unmet
// demand is positive: not onto another GPU while the GPUs holding it serve
// its requests within their SLOs. The original meant to have this guard but
// compared a pointer instead of the priority, so it never fired
// (spec/controller.md §4.14 item 2), and any model with requests was loaded
// onto every GPU with PCIe slack. Off by default, as in the original: the
// guard left GPUs idle that a copy would have used (a closed loop of 16 on
// one model served 643 r/s from one of two GPUs, 1266 from both; README).
func DemandGuard(on bool) Option {
	return func(o *options) { o.demandGuard = on }
}

// ResultTimeout sets how long after an action's window closes (for an
// Infer: its latest start plus its expected duration; for an eviction: its
// transmission) the scheduler waits for the worker's result before failing
// the action itself, so that its requests are still answered when a worker
// connection dies with work in flight. Default 1 s. The original waited
// forever.
func ResultTimeout(ns int64) Option {
	return func(o *options) { o.resultTimeout = ns }
}

// PrintConfig writes the block the original prints when its scheduler is
// constructed, before the controller connects to workers. Both INFER4 and
// INFER5 print the INFER4 class name.
func PrintConfig(w io.Writer, cfg scheduler.Config) {
	gen := 0
	if cfg.GenerateInputs {
		gen = 1
	}
	fmt.Fprintf(w, "ConcurrentInferAndLoadScheduler using:\n"+
		"\t default_slo=%d\n\t latest_delta=%d\n\t schedule_ahead=%d\n"+
		"\t max_allowable_exec_time=%d\n\t max_batch_size=%d\n\t generate_inputs=%d\n\t max_gpus=%d\n",
		cfg.DefaultSLO, cfg.LatestDelta, cfg.ScheduleAhead, cfg.MaxExec, cfg.MaxBatch, gen, cfg.MaxGPUs)
}
