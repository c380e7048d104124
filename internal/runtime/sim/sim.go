// Package sim is the runtime of worker_dummy: it holds no weights and runs
// nothing. Each operation "takes" the time profiled in the model's
// model.measurements file; it returns at once with a Timing whose End lies
// that far in the future, and the worker engine treats the device as busy
// until then. From the controller a simulated GPU is indistinguishable from
// a real one, which makes every experiment runnable without GPUs and at
// scale (hundreds of simulated GPUs in one process).
package sim

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sync"

	"github.com/clockwork-go/clockwork/internal/model"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Clock is the SM clock (MHz) the simulated GPUs report, that of the V100s
// the original was measured on.
const Clock = 1380

// Runtime simulates GPUs.
type Runtime struct {
	gpus int

	slow SlowExecs  // set before the runtime is used
	mu   sync.Mutex // guards rng (worker_dummy's stages call Exec concurrently)
	rng  *rand.Rand
}

// New returns a runtime simulating n GPUs.
func New(n int) *Runtime { return &Runtime{gpus: n} }

// SetSlowExecs makes a share of the execs run longer than profiled, drawn
// from a generator seeded with seed; see SlowExecs. Call it before the
// runtime is used.
func (r *Runtime) SetSlowExecs(s SlowExecs, seed uint64) {
	r.slow, r.rng = s, rand.New(rand.NewPCG(seed, 0x51_0e_ec))
}

// execTime is the duration of an exec profiled at ns.
func (r *Runtime) execTime(ns uint64) uint64 {
	if r.slow.Share == 0 {
		return ns
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rng.Float64() >= r.slow.Share {
		return ns
	}
	f := r.slow.Min + (r.slow.Max-r.slow.Min)*r.rng.Float64()
	return ns + uint64(f*float64(ns))
}

// Name implements runtime.Runtime.
func (r *Runtime) Name() string { return fmt.Sprintf("simulated (%d GPUs)", r.gpus) }

// NumGPUs implements runtime.Runtime.
func (r *Runtime) NumGPUs() int { return r.gpus }

// InputStage implements runtime.Runtime: the dummy has no copy-input stage.
func (r *Runtime) InputStage() bool { return false }

// Instant implements runtime.Instant: every call returns at once.
func (r *Runtime) Instant() bool { return true }

// Close implements runtime.Runtime.
func (r *Runtime) Close() error { return nil }

// Load reads prefix.spec.json and prefix.measurements (spec/worker.md §6.4):
// no spec is status 41, no measurements status 10; malformed files are 41
// (the original crashed).
func (r *Runtime) Load(prefix string, opts runtime.LoadOptions) (runtime.Model, error) {
	spec, err := model.ReadSpec(prefix)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, runtime.Errorf(workerapi.ErrInvalidModelPath, "no model at %s (missing %s)", prefix, model.SpecFile(prefix))
		}
		return nil, runtime.Errorf(workerapi.ErrInvalidModelPath, "%v", err)
	}
	meas, err := model.ReadMeasurements(prefix)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, runtime.Errorf(workerapi.ErrUnknownModel, "No measurements file %s", model.MeasurementsFile(prefix))
		}
		return nil, runtime.Errorf(workerapi.ErrInvalidModelPath, "%v", err)
	}
	m := &simModel{rt: r, info: runtime.ModelInfo{
		InputSize:       spec.InputSize,
		OutputSize:      spec.OutputSize,
		WeightsLoadTime: meas.Weights,
		WeightsSize:     spec.WeightsSize,
		NumPages:        spec.PagesFor(opts.PageSize),
	}}
	for _, b := range spec.BatchSizes {
		ns, ok := meas.Exec[b]
		if !ok {
			if b == 1 {
				return nil, runtime.Errorf(workerapi.ErrUnknownModel, "%s has no b1 measurement", model.MeasurementsFile(prefix))
			}
			continue // no timing for this size: do not offer it
		}
		if b > 1 && (b > opts.MaxBatch || ns > opts.MaxExec) {
			continue
		}
		m.info.BatchSizes = append(m.info.BatchSizes, b)
		m.info.ExecTimes = append(m.info.ExecTimes, ns)
	}
	return m, nil
}

type simModel struct {
	rt   *Runtime
	info runtime.ModelInfo
}

func (m *simModel) Info() runtime.ModelInfo { return m.info }

func span(start int64, d uint64) workerapi.Timing {
	return workerapi.Timing{Begin: uint64(start), End: uint64(start) + d, Duration: d}
}

func (m *simModel) LoadWeights(gpu int, pages []int, start int64) (workerapi.Timing, error) {
	return span(start, m.info.WeightsLoadTime), nil
}

func (m *simModel) CopyInput(gpu, batch, padded int, input []byte, start int64) (runtime.IO, workerapi.Timing, error) {
	return padded, span(start, 0), nil
}

func (m *simModel) Exec(gpu int, io runtime.IO, pages []int, start int64) (runtime.ExecTiming, error) {
	padded, _ := io.(int)
	for i, b := range m.info.BatchSizes {
		if b == padded {
			return runtime.ExecTiming{Timing: span(start, m.rt.execTime(m.info.ExecTimes[i])), ClockBefore: Clock, Clock: Clock}, nil
		}
	}
	return runtime.ExecTiming{}, runtime.Errorf(workerapi.CopyInputInvalidBatchSize, "unsupported batch size %d", padded)
}

// CopyOutput writes zeros, the dummy's outputs: the buffer is reused and
// holds whatever it last held, another Infer's input or output.
func (m *simModel) CopyOutput(gpu int, io runtime.IO, output []byte, start int64) (workerapi.Timing, error) {
	clear(output)
	return span(start, 0), nil
}

func (m *simModel) Release(gpu int, io runtime.IO) {}

func (m *simModel) Close() {}
