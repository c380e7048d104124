//go:build linux && cgo

package cuda

import (
	"io"
	"os"
	"time"
)

// Config configures the runtime; the sizes are per GPU except the host IO
// pool, as in the worker's configuration (spec/worker.md §4.1).
type Config struct {
	PageSize          uint64 // weights page size
	WeightsCacheSize  uint64 // weights cache; less if it does not fit (said on Log)
	IOPoolSize        uint64 // device memory for the inputs and outputs of Infers in flight
	WorkspacePoolSize uint64 // device memory for activations and cuDNN/cuBLAS workspaces
	HostIOPoolSize    uint64 // pinned host memory for staging inputs and outputs

	// Measure times each batch size and the weights transfer at Load
	// (workers); tools that time models themselves turn it off.
	Measure bool
	// TF32 lets cuDNN and cuBLAS use TF32 tensor cores (faster, less
	// exact). Off, results match the CPU runtime to about 1e-5.
	TF32 bool
	// ProfilePages is the size, in pages, of each GPU's area for the
	// weights of a model being loaded (0: DefaultProfilePages).
	ProfilePages int
	// Verbose writes a line per model load and per LoadWeights with the
	// figures behind them (algorithms, copy and mapping times) to Log.
	Verbose bool
	// ProfileOps times every op of every batch size on the first usable
	// GPU (GPU 0 unless broken) at Load, on its own, and writes where the
	// exec time goes to Log (a diagnostic: it lengthens Load).
	ProfileOps bool
	// Spin says whether a stage waiting for the GPU spins near the work's
	// expected end instead of parking (checker.go): SpinAuto, the zero
	// value, where GOMAXPROCS leaves spinCores per GPU and four more.
	Spin SpinMode
	// ClockPoll is how often the SM clocks are read from NVML (clocks.go):
	// 0 is every 5 ms, a negative value once at start-up (a diagnostic:
	// whether the polling disturbs the GPU's timing).
	ClockPoll time.Duration
	// Ungated queues each exec without a gate (cuda.Gate): its GPU time
	// then includes the host's submission of the work (a diagnostic).
	Ungated bool
	// ChoicesFile keeps the ways chosen to compute convolutions and Gemms
	// (their algorithms and kernels, timed at Load) across processes: read
	// at start-up, where they were chosen on the same GPU with the same
	// driver and libraries, and added to after a Load that chose more
	// (choices.go). Empty: they last as long as the process.
	ChoicesFile string
	// SkipVersionLine leaves out the "Using CUDA Driver …" line: the
	// worker prints it first (VersionLine), as the original did.
	SkipVersionLine bool
	// Log receives the start-up lines of the original ("Using CUDA
	// Driver …") and warnings.
	Log io.Writer
}

// DefaultProfilePages is the default size of the profiling weights area:
// 1 GiB of 16 MiB pages, more than the largest model of the zoo.
const DefaultProfilePages = 64

// EnvVerbose names the environment variable that turns Config.Verbose on
// in workers (any non-empty value).
const EnvVerbose = "CLOCKWORK_CUDA_VERBOSE"

// VerboseFromEnv reports whether EnvVerbose is set.
func VerboseFromEnv() bool { return os.Getenv(EnvVerbose) != "" }

// EnvProfileOps names the environment variable that turns
// Config.ProfileOps on in workers (any non-empty value).
const EnvProfileOps = "CLOCKWORK_CUDA_PROFILE_OPS"

// ProfileOpsFromEnv reports whether EnvProfileOps is set.
func ProfileOpsFromEnv() bool { return os.Getenv(EnvProfileOps) != "" }

// SpinMode is Config.Spin.
type SpinMode int

// Spin modes.
const (
	SpinAuto SpinMode = iota
	SpinOn
	SpinOff
)

// spins decides a SpinMode for gpus GPUs and procs usable cores.
func (m SpinMode) spins(gpus, procs int) bool {
	switch m {
	case SpinOn:
		return true
	case SpinOff:
		return false
	}
	return procs >= spinCores*gpus+4
}

// EnvSpin names the environment variable that sets Config.Spin in workers:
// "on" or "off" (anything else: auto).
const EnvSpin = "CLOCKWORK_CUDA_SPIN"

// SpinFromEnv reads EnvSpin.
func SpinFromEnv() SpinMode {
	switch os.Getenv(EnvSpin) {
	case "on":
		return SpinOn
	case "off":
		return SpinOff
	}
	return SpinAuto
}

// EnvGate names the environment variable that sets Config.Ungated in
// workers: "off" runs the exec stage without its gate.
const EnvGate = "CLOCKWORK_CUDA_GATE"

// UngatedFromEnv reads EnvGate.
func UngatedFromEnv() bool { return os.Getenv(EnvGate) == "off" }

// EnvClockPoll names the environment variable that sets Config.ClockPoll
// in workers: a duration such as "5ms", or "off" (read once).
const EnvClockPoll = "CLOCKWORK_CUDA_CLOCK_POLL"

// ClockPollFromEnv reads EnvClockPoll; unset or not a positive duration,
// the default.
func ClockPollFromEnv() time.Duration {
	v := os.Getenv(EnvClockPoll)
	if v == "off" {
		return -1
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d
	}
	return 0
}
