//go:build linux && cgo

package cuda

import (
	"errors"
	"slices"
	"sync"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

var batchSizes = []int{1, 2, 4, 8, 16}

// Model is a model prepared on every GPU of a runtime.
type Model struct {
	rt   *Runtime
	path string
	info runtime.ModelInfo
	// host holds the weights in pinned memory, page i at i × page size,
	// pageLens[i] bytes of it used.
	host     *cu.HostMem
	pageLens []uint64
	inst     []*instance // per GPU; nil on a GPU that was unusable at Load
}

// instance is the model on one GPU: its op list per batch size and sets
// of executable graphs of them (graphs.go).
type instance struct {
	d        *device
	m        *Model
	variants []*variant // parallel to info.BatchSizes
	// mu guards sets and what they serve; idle (on mu) is signalled when
	// a set's last Exec in flight completes.
	mu   sync.Mutex
	idle sync.Cond
	sets []*graphSet
	uses uint64 // clock of graphSet.used
}

// variant is the model at one batch size on one GPU.
type variant struct {
	index  int // in instance.variants
	batch  int
	plan   *engine.Plan
	steps  []step
	lay    layout
	execNs uint64 // measured median exec time
	// launchNs is the median host time of the exec launch when execNs
	// was measured (on the first usable GPU; the op profile shows it).
	launchNs uint64
}

// layout places a variant in a workspace region (the serving workspace or
// the profiling one, which have the same size): cuBLAS's workspace, the
// IO slot every graph reads its input from and writes its output to, the
// activations, and the cuDNN workspace.
type layout struct {
	blasSize, slot, ws, conv, convSize uint64
}

func newLayout(p *engine.Plan, region uint64) layout {
	l := layout{blasSize: min(blasWSSize, alignUp(region/8, poolAlign))}
	l.slot = l.blasSize
	l.ws = l.slot + alignUp(uint64(p.IOBytes), poolAlign)
	l.conv = l.ws + alignUp(uint64(p.WorkspaceBytes), poolAlign)
	return l
}

// bind places l in r with the model's weights pages at pages.
func (l layout) bind(r region, pages []cu.DevicePtr, zeros cu.DevicePtr) binding {
	return binding{pages: pages, slot: r.base.Add(l.slot), ws: r.base.Add(l.ws), conv: r.base.Add(l.conv),
		convSize: l.convSize, blas: r.base, blasSize: l.blasSize, zeros: zeros}
}

// Load implements runtime.Runtime: it imports P.onnx, pins its weights
// and, on every GPU, chooses convolution algorithms, captures a graph per
// batch size and (with Config.Measure) times it and the weights
// transfer, reporting the first GPU's figures. Errors have status 41, or
// 76/83 when batch size 1 does not fit the IO or workspace pool. A GPU
// whose context a sticky error left unusable, before or during the Load,
// is left out: the model loads on the others, and actions for it on that
// GPU answer status 14 as every action there does. Only when no GPU is
// usable does the Load fail, with status 14.
func (r *Runtime) Load(path string, opts runtime.LoadOptions) (runtime.Model, error) {
	if opts.PageSize != 0 && opts.PageSize != r.cfg.PageSize {
		return nil, runtime.Errorf(workerapi.ErrInvalidModelPath, "page size %d differs from the runtime's %d", opts.PageSize, r.cfg.PageSize)
	}
	em, err := engine.ReadFile(path, int64(r.cfg.PageSize))
	if err != nil {
		return nil, runtime.Errorf(workerapi.ErrInvalidModelPath, "%v", err)
	}
	var plans []*engine.Plan
	for _, b := range engine.BatchSizes {
		if b > 1 && b > opts.MaxBatch {
			break
		}
		p, err := em.Plan(b)
		if err != nil {
			return nil, runtime.Errorf(workerapi.ErrInvalidModelPath, "%s: batch size %d: %v", engine.File(path), b, err)
		}
		plans = append(plans, p)
	}
	m := &Model{rt: r, path: path, info: runtime.ModelInfo{
		InputSize:   uint64(em.InputSize()),
		OutputSize:  uint64(em.OutputSize()),
		WeightsSize: uint64(em.Weights.RawBytes),
		NumPages:    em.Weights.NumPages(),
	}}
	if err := m.pin(em.Weights); err != nil {
		return nil, err
	}
	m.inst = make([]*instance, len(r.devices))
	var first *instance
	for _, d := range r.devices {
		if d.failed() != nil {
			continue
		}
		in, err := d.prepare(m, plans, opts, first == nil)
		if err != nil && d.failed() != nil {
			continue // it broke now
		}
		if err != nil {
			m.Close()
			return nil, err
		}
		m.inst[d.id] = in
		if first == nil {
			// Later GPUs prepare the batch sizes the first kept.
			first = in
			plans = plans[:len(in.variants)]
			for _, v := range in.variants {
				m.info.BatchSizes = append(m.info.BatchSizes, v.batch)
				m.info.ExecTimes = append(m.info.ExecTimes, v.execNs)
			}
		}
	}
	if first == nil {
		m.Close()
		return nil, unusableEverywhere(r, path)
	}
	return m, nil
}

// unusableEverywhere is the error of a Load with no usable GPU: status 14,
// with the first GPU's fault.
func unusableEverywhere(r *Runtime, path string) error {
	var why error = errors.New("no GPU")
	if len(r.devices) > 0 {
		why = r.devices[0].failed()
	}
	return runtime.Errorf(workerapi.ErrGPUUnusable, "%s: every GPU is unusable (%v)", path, why)
}

// usableDevice is the first GPU whose context is usable, or nil.
func (r *Runtime) usableDevice() *device {
	for _, d := range r.devices {
		if d.failed() == nil {
			return d
		}
	}
	return nil
}

// instance is m's instance on gpu, or an error if m is not on gpu: status
// 13 for a GPU the machine lacks, 14 for one that was unusable at Load.
func (m *Model) instance(gpu int) (*device, *instance, error) {
	d, err := m.rt.device(gpu)
	if err != nil {
		return nil, nil, err
	}
	in := m.inst[gpu]
	if in == nil {
		return nil, nil, runtime.Errorf(workerapi.ErrGPUUnusable, "%v", d.failed())
	}
	return d, in, nil
}

func (m *Model) hostBytes() uint64 {
	n := len(m.pageLens)
	if n == 0 {
		return 0
	}
	return uint64(n-1)*m.rt.cfg.PageSize + m.pageLens[n-1]
}

// pin copies the weights into pinned host memory, from where LoadWeights
// copies them at full PCIe speed.
func (m *Model) pin(w *engine.WeightLayout) error {
	for _, p := range w.Pages {
		m.pageLens = append(m.pageLens, uint64(len(p)))
	}
	d := m.rt.usableDevice()
	if d == nil {
		return unusableEverywhere(m.rt, m.path)
	}
	pinErr := func(err error) error {
		return runtime.Errorf(d.code(workerapi.ErrInvalidModelPath), "%s: pinning %d bytes of weights: %v", m.path, m.hostBytes(), d.note(err))
	}
	if err := d.enter(); err != nil {
		return pinErr(err)
	}
	defer d.leave()
	var err error
	if m.host, err = cu.MemHostAlloc(int(max(m.hostBytes(), 1)), cu.HostAllocPortable); err != nil {
		return pinErr(err)
	}
	buf := m.host.Bytes()
	for i, p := range w.Pages {
		copy(buf[uint64(i)*m.rt.cfg.PageSize:], p)
	}
	return nil
}

// Info implements runtime.Model.
func (m *Model) Info() runtime.ModelInfo { return m.info }

// WorkspaceSize is the device workspace of batch size batch on the first
// GPU it was loaded on: activations and library workspaces (0 if not
// prepared).
func (m *Model) WorkspaceSize(batch int) uint64 {
	for _, in := range m.inst {
		if in == nil {
			continue
		}
		for _, v := range in.variants {
			if v.batch == batch {
				return v.lay.conv + v.lay.convSize - v.lay.ws
			}
		}
		return 0
	}
	return 0
}

// Close implements runtime.Model: it frees the graphs and the pinned
// weights. The model must not be in use.
func (m *Model) Close() {
	for _, in := range m.inst {
		if in != nil {
			in.close()
		}
	}
	m.inst = nil
	if m.host != nil {
		m.rt.freeHost(m.host)
		m.host = nil
	}
}

func (in *instance) close() {
	if in.d.enter() != nil {
		return
	}
	defer in.d.leave()
	for _, s := range in.sets {
		in.destroySet(s)
	}
	for _, v := range in.variants {
		v.destroy()
	}
	in.sets, in.variants = nil, nil
}

func (v *variant) destroy() {
	for _, s := range v.steps {
		s.destroy()
	}
	v.steps = nil
}

// variant returns the variant of batch size b.
func (in *instance) variant(b int) *variant {
	for _, v := range in.variants {
		if v.batch == b {
			return v
		}
	}
	return nil
}

// sizes lists the batch sizes prepared.
func (in *instance) sizes() []int {
	var s []int
	for _, v := range in.variants {
		s = append(s, v.batch)
	}
	return slices.Clip(s)
}
