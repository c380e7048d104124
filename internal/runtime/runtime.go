// Package runtime defines what the worker engine needs from the thing that
// actually holds weights and runs models: the simulated runtime of
// worker_dummy (runtime/sim), the pure-Go CPU runtime (runtime/cpu) and the
// CUDA runtime (runtime/cuda).
//
// The worker engine (package worker) owns every decision: windows, page
// allocation, model versions, status codes. A runtime only moves bytes and
// computes, and reports how long that took. Its calls are synchronous; the
// worker's driver runs them off the engine's goroutine. A call returns a
// Timing whose End may lie in the future: the operation is complete at End
// (this is how the simulated runtime "waits" without blocking anything).
package runtime

import (
	"errors"
	"fmt"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Runtime executes models on a set of devices. Device g is "GPU g" in the
// protocol, whatever the hardware.
type Runtime interface {
	// Name describes the runtime and its devices for start-up lines.
	Name() string

	// NumGPUs is the number of devices.
	NumGPUs() int

	// InputStage tells whether Infer has a separate copy-input stage that
	// may start up to 5 ms before the action's earliest time (the real
	// worker's pipeline); without it the exec stage does the input checks
	// and uses the exec status codes (worker_dummy), and calls CopyInput
	// with a nil input right before Exec.
	InputStage() bool

	// Load reads the model at path prefix (e.g. /zoo/resnet50/model) and
	// prepares it on every device. Batch sizes above opts.MaxBatch are not
	// prepared, and sizes above 1 whose measured exec time exceeds
	// opts.MaxExec are dropped. Errors are *Error with a worker status
	// code (10 or 41).
	Load(path string, opts LoadOptions) (Model, error)

	// Close releases the runtime's resources.
	Close() error
}

// Instant is implemented by runtimes whose calls all return at once (the
// simulated runtime): the worker then runs them on its engine goroutine
// instead of handing each to a goroutine of its own.
type Instant interface {
	Instant() bool
}

// Paged is implemented by runtimes whose weights cache on a device may hold
// fewer pages than configured (the CUDA runtime, on a GPU without the free
// memory): the worker then offers that device's pages as Pages says.
type Paged interface {
	Pages(gpu int) int
}

// LoadOptions bounds the batch sizes a model is prepared for.
type LoadOptions struct {
	MaxBatch int    // largest batch size kept
	MaxExec  uint64 // ns; batch sizes > 1 slower than this are dropped
	PageSize uint64 // weights page size of the worker
}

// ModelInfo describes a loaded model; sizes are of one item.
type ModelInfo struct {
	InputSize       uint64
	OutputSize      uint64
	BatchSizes      []int    // ascending
	ExecTimes       []uint64 // ns, parallel to BatchSizes (0 if unknown)
	WeightsLoadTime uint64   // ns to copy the weights into the cache
	WeightsSize     uint64   // raw weights bytes
	NumPages        int      // weights pages needed in the cache
}

// IO is a runtime's handle on the device memory holding one batch's inputs
// and outputs, from CopyInput until Release.
type IO interface{}

// ExecTiming is the timing of an exec stage with the device's SM clock
// (MHz) when it started and when it completed.
type ExecTiming struct {
	workerapi.Timing
	ClockBefore uint32
	Clock       uint32
}

// Model is a model prepared on every device of a runtime. Its methods are
// called by one goroutine per (device, stage) and must be safe for that.
// start is the engine's clock when the stage started.
type Model interface {
	Info() ModelInfo

	// LoadWeights copies the weights into the given pages of device gpu's
	// weights cache (page i of the model into pages[i]).
	LoadWeights(gpu int, pages []int, start int64) (workerapi.Timing, error)

	// CopyInput stages batch items (input holds batch × InputSize bytes,
	// already decompressed) for execution with batch size padded (a
	// supported size ≥ batch). The input is not kept after it returns
	// (the worker reuses the buffer).
	CopyInput(gpu, batch, padded int, input []byte, start int64) (IO, workerapi.Timing, error)

	// Exec runs the padded batch staged in io with the weights in pages.
	Exec(gpu int, io IO, pages []int, start int64) (ExecTiming, error)

	// CopyOutput copies the first len(output)/OutputSize items' outputs,
	// overwriting output whole (the worker hands it a reused buffer).
	CopyOutput(gpu int, io IO, output []byte, start int64) (workerapi.Timing, error)

	// Release frees io.
	Release(gpu int, io IO)

	// Close frees the model's host and device memory.
	Close()
}

// HostMemory is implemented by runtimes that copy inputs fastest from
// memory of their own: the CUDA runtime's pinned host memory, which the
// GPU reads with no staging copy. The worker reads and decompresses Infer
// inputs into it where it can; CopyInput takes such an input as any other.
type HostMemory interface {
	// AllocHost returns n bytes of it, or nil where it has none to lend
	// now.
	AllocHost(n int) []byte
	// FreeHost takes back a buffer from AllocHost and reports true; for
	// any other buffer it reports false.
	FreeHost(b []byte) bool
}

// Evicter is implemented by models that keep state per set of weights
// pages (the CUDA runtime's graph sets, which read the weights at fixed
// addresses where their pages are mapped): the worker says when weights
// leave pages, so that the state can serve the next pages instead of new
// state being built.
type Evicter interface {
	// Evicted says that the model's weights on device gpu no longer
	// occupy pages (evicted, cleared, or a failed load).
	Evicted(gpu int, pages []int)
}

// Error is a runtime failure with the worker status code to report.
type Error struct {
	Code int32
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Errorf builds an *Error.
func Errorf(code int32, format string, args ...any) error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Code extracts the status code of err, or def if err is not an *Error.
func Code(err error, def int32) int32 {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return def
}
