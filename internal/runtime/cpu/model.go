package cpu

import (
	"slices"
	"sync"

	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/engine/cpuexec"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

type Model struct {
	rt       *Runtime
	m        *engine.Model
	info     runtime.ModelInfo
	variants []*variant // ascending batch sizes, parallel to info.BatchSizes
	// pageBufs is Exec's page table, reused under rt.mu.
	pageBufs [][]byte
}

// variant is the model prepared for one batch size.
type variant struct {
	batch int
	plan  *engine.Plan
	exec  *cpuexec.Executor
	ios   sync.Pool // of *ioBuf
}

// ioBuf is the IO region of one batch in flight: the runtime.IO that
// CopyInput returns. live is whether it counts in the runtime's IO pool,
// until Release.
type ioBuf struct {
	v    *variant
	buf  []byte
	live bool
}

// Load implements runtime.Runtime. Errors have status 41 (no file, a file
// that is not a model the engine can run, or a page size other than the
// runtime's), or 76 if batch size 1's IO region does not fit the IO pool
// (larger batch sizes whose region does not fit are dropped, as on a GPU).
func (r *Runtime) Load(path string, opts runtime.LoadOptions) (runtime.Model, error) {
	if opts.PageSize != 0 && opts.PageSize != r.cfg.PageSize {
		return nil, runtime.Errorf(workerapi.ErrInvalidModelPath, "page size %d differs from the runtime's %d", opts.PageSize, r.cfg.PageSize)
	}
	em, err := engine.ReadFile(path, int64(r.cfg.PageSize))
	if err != nil {
		return nil, runtime.Errorf(workerapi.ErrInvalidModelPath, "%v", err)
	}
	m := &Model{rt: r, m: em, pageBufs: make([][]byte, em.Weights.NumPages())}
	m.info = runtime.ModelInfo{
		InputSize:   uint64(em.InputSize()),
		OutputSize:  uint64(em.OutputSize()),
		WeightsSize: uint64(em.Weights.RawBytes),
		NumPages:    em.Weights.NumPages(),
	}
	for _, b := range batchesUpTo(opts.MaxBatch) {
		p, err := em.Plan(b)
		if err != nil {
			return nil, runtime.Errorf(workerapi.ErrInvalidModelPath, "%s: batch size %d: %v", engine.File(path), b, err)
		}
		if uint64(p.IOBytes) > r.io.size {
			if b == 1 {
				return nil, runtime.Errorf(workerapi.CopyInputIOPoolExhausted, "%s: batch size 1 needs %d bytes of IO memory, the IO pool has %d",
					engine.File(path), p.IOBytes, r.io.size)
			}
			break
		}
		e, err := cpuexec.New(p, em.Weights.Pages)
		if err != nil {
			return nil, runtime.Errorf(workerapi.ErrInvalidModelPath, "%s: batch size %d: %v", engine.File(path), b, err)
		}
		r.reserveWorkspace(p.WorkspaceBytes)
		v := &variant{batch: b, plan: p, exec: e}
		var ns uint64
		if !r.cfg.SkipMeasure {
			if ns, err = m.measureExec(v); err != nil {
				return nil, runtime.Errorf(workerapi.ErrInvalidModelPath, "%s: batch size %d: %v", engine.File(path), b, err)
			}
			if b > 1 && ns > opts.MaxExec {
				break // larger batches are slower still
			}
		}
		m.variants = append(m.variants, v)
		m.info.BatchSizes = append(m.info.BatchSizes, b)
		m.info.ExecTimes = append(m.info.ExecTimes, ns)
	}
	if !r.cfg.SkipMeasure {
		m.info.WeightsLoadTime = m.measureWeightsCopy()
	}
	return m, nil
}

// Timing runs of Load: warm-ups, then the median of the timed runs.
const (
	warmupRuns = 1
	timedRuns  = 3
)

// median times f.
func median(f func() error) (uint64, error) {
	var ts []uint64
	for i := range warmupRuns + timedRuns {
		t0 := clock.Now()
		if err := f(); err != nil {
			return 0, err
		}
		if i >= warmupRuns {
			ts = append(ts, uint64(clock.Now()-t0))
		}
	}
	slices.Sort(ts)
	return ts[len(ts)/2], nil
}

// measureExec times v on the host copy of the weights.
func (m *Model) measureExec(v *variant) (uint64, error) {
	io := make([]byte, v.plan.IOBytes)
	return median(func() error { return m.rt.run(v, io, m.m.Weights.Pages) })
}

// measureWeightsCopy times copying the weights page by page into a
// scratch page, as LoadWeights copies them into cache pages.
func (m *Model) measureWeightsCopy() uint64 {
	dst := make([]byte, m.m.Weights.PageSize)
	ns, _ := median(func() error {
		for _, p := range m.m.Weights.Pages {
			copy(dst, p)
		}
		return nil
	})
	return ns
}

// Info implements runtime.Model.
func (m *Model) Info() runtime.ModelInfo { return m.info }

// WorkspaceSize is the workspace of batch size batch (0 if not prepared).
func (m *Model) WorkspaceSize(batch int) uint64 {
	if v := m.variant(batch); v != nil {
		return uint64(v.plan.WorkspaceBytes)
	}
	return 0
}

func (m *Model) variant(batch int) *variant {
	for _, v := range m.variants {
		if v.batch == batch {
			return v
		}
	}
	return nil
}

func timing(start, t0 int64) workerapi.Timing {
	d := uint64(clock.Now() - t0)
	return workerapi.Timing{Begin: uint64(start), End: uint64(start) + d, Duration: d}
}

// LoadWeights implements runtime.Model.
func (m *Model) LoadWeights(gpu int, pages []int, start int64) (workerapi.Timing, error) {
	if err := checkGPU(gpu); err != nil {
		return workerapi.Timing{}, err
	}
	t0 := clock.Now()
	host := m.m.Weights.Pages
	if len(pages) != len(host) {
		return workerapi.Timing{}, runtime.Errorf(workerapi.ErrRuntimeError, "LoadWeights given %d pages, model needs %d", len(pages), len(host))
	}
	for i, p := range pages {
		if err := m.rt.pages.Write(p, host[i]); err != nil {
			return workerapi.Timing{}, runtime.Errorf(workerapi.ErrRuntimeError, "LoadWeights: %v", err)
		}
	}
	return timing(start, t0), nil
}

// CopyInput implements runtime.Model. An empty input leaves the batch's
// inputs as they were (the worker's zero-size form).
func (m *Model) CopyInput(gpu, batch, padded int, input []byte, start int64) (runtime.IO, workerapi.Timing, error) {
	if err := checkGPU(gpu); err != nil {
		return nil, workerapi.Timing{}, err
	}
	t0 := clock.Now()
	v := m.variant(padded)
	if v == nil || batch < 0 || batch > padded {
		return nil, workerapi.Timing{}, runtime.Errorf(workerapi.CopyInputInvalidBatchSize, "batch size %d (padded %d) not supported; have %v", batch, padded, m.info.BatchSizes)
	}
	if len(input) != 0 && uint64(len(input)) != uint64(batch)*m.info.InputSize {
		return nil, workerapi.Timing{}, runtime.Errorf(workerapi.CopyInputInvalidInput, "input of %d bytes for batch size %d (want %d)", len(input), batch, uint64(batch)*m.info.InputSize)
	}
	if !m.rt.io.take(uint64(v.plan.IOBytes)) {
		return nil, workerapi.Timing{}, runtime.Errorf(workerapi.CopyInputIOPoolExhausted, "IO pool exhausted (%d bytes wanted, %d of %d in use)",
			v.plan.IOBytes, m.rt.io.used.Load(), m.rt.io.size)
	}
	io, _ := v.ios.Get().(*ioBuf)
	if io == nil {
		io = &ioBuf{v: v, buf: make([]byte, v.plan.IOBytes)}
	}
	io.live = true
	copy(io.buf, input)
	return io, timing(start, t0), nil
}

func (m *Model) ioBuf(x runtime.IO) (*ioBuf, error) {
	io, ok := x.(*ioBuf)
	if !ok || io == nil || m.variant(io.v.batch) != io.v {
		return nil, runtime.Errorf(workerapi.ErrRuntimeError, "IO %T does not belong to this model", x)
	}
	return io, nil
}

// Exec implements runtime.Model.
func (m *Model) Exec(gpu int, x runtime.IO, pages []int, start int64) (runtime.ExecTiming, error) {
	if err := checkGPU(gpu); err != nil {
		return runtime.ExecTiming{}, err
	}
	io, err := m.ioBuf(x)
	if err != nil {
		return runtime.ExecTiming{}, err
	}
	if len(pages) != len(m.pageBufs) {
		return runtime.ExecTiming{}, runtime.Errorf(workerapi.ExecWeightsMissing, "Exec given %d pages, model needs %d", len(pages), len(m.pageBufs))
	}
	t0 := clock.Now()
	r := m.rt
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.pages.Read(pages, m.pageBufs); err != nil {
		return runtime.ExecTiming{}, runtime.Errorf(workerapi.ErrRuntimeError, "Exec: %v", err)
	}
	err = io.v.exec.Run(r.workers, cpuexec.Memory{IO: io.buf, Workspace: r.workspace, Pages: m.pageBufs})
	r.pages.Done(pages)
	clear(m.pageBufs)
	if err != nil {
		return runtime.ExecTiming{}, runtime.Errorf(workerapi.ErrRuntimeError, "Exec: %v", err)
	}
	return runtime.ExecTiming{Timing: timing(start, t0), ClockBefore: Clock, Clock: Clock}, nil
}

// CopyOutput implements runtime.Model.
func (m *Model) CopyOutput(gpu int, x runtime.IO, output []byte, start int64) (workerapi.Timing, error) {
	if err := checkGPU(gpu); err != nil {
		return workerapi.Timing{}, err
	}
	io, err := m.ioBuf(x)
	if err != nil {
		return workerapi.Timing{}, err
	}
	t0 := clock.Now()
	p := io.v.plan
	if m.info.OutputSize == 0 || uint64(len(output))%m.info.OutputSize != 0 || int64(len(output)) > p.OutputBytes {
		return workerapi.Timing{}, runtime.Errorf(workerapi.ErrRuntimeError, "output buffer of %d bytes for batch size %d (items of %d bytes)", len(output), p.Batch, m.info.OutputSize)
	}
	copy(output, io.buf[p.InputBytes:])
	return timing(start, t0), nil
}

// Release implements runtime.Model. A region's buffer goes back to its
// variant's pool, and another CopyInput may take it at once: each
// CopyInput's IO is released once (the worker does). A second Release
// before that changes nothing, one after it would free the new holder's.
func (m *Model) Release(gpu int, x runtime.IO) {
	if io, err := m.ioBuf(x); err == nil && io.live {
		io.live = false
		m.rt.io.give(uint64(io.v.plan.IOBytes))
		io.v.ios.Put(io)
	}
}

// Close implements runtime.Model: the model can no longer run, and its
// memory goes once the caller drops it.
func (m *Model) Close() {
	m.variants = nil
}
