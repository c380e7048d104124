package cpuexec

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// Memory binds a plan to buffers: the batch's IO region and workspace (at
// least Plan.IOBytes and Plan.WorkspaceBytes) and the model's weights
// pages, indexed by page number within the model.
type Memory struct {
	IO        []byte
	Workspace []byte
	Pages     [][]byte
}

// Executor runs one Plan.
type Executor struct {
	plan    *engine.Plan
	kernels []kernel
	scratch int     // floats of scratch each worker needs
	pageEnd []int64 // bytes of each weights page the plan reads
}

// kernel is an op prepared for the CPU. run does part part of parts of the
// op's work with a worker's scratch: parts of about equal cost, which the
// Workers run in any order on any worker, each once, with the same result.
type kernel interface {
	run(m *memory, part, parts int, s *scratch)
}

// A preparer is a kernel that reads its weights once, when the executor
// is made (a Winograd convolution transforms its filters).
type preparer interface {
	kernel
	prepare(m *memory)
}

// New prepares a plan, with its model's weights pages (the ones every Run
// is given hold the same weights). It checks every op's operands, so a Run
// with buffers of the plan's sizes cannot fail or fault.
func New(plan *engine.Plan, weights [][]byte) (*Executor, error) {
	e := &Executor{plan: plan}
	for _, op := range plan.Ops {
		for _, t := range append(op.Reads(), op.Writes()) {
			if err := e.checkRef(t); err != nil {
				return nil, fmt.Errorf("cpuexec: %s op %q: %v", op.Kind(), op.Source(), err)
			}
		}
		k, scratch, err := newKernel(op)
		if err != nil {
			return nil, fmt.Errorf("cpuexec: %s op %q: %v", op.Kind(), op.Source(), err)
		}
		e.kernels = append(e.kernels, k)
		e.scratch = max(e.scratch, scratch)
	}
	if err := e.checkPages(weights); err != nil {
		return nil, err
	}
	mem := &memory{pages: weights}
	for _, k := range e.kernels {
		if p, ok := k.(preparer); ok {
			p.prepare(mem)
		}
	}
	return e, nil
}

func (e *Executor) checkRef(t engine.TensorRef) error {
	if t.Offset < 0 || t.Offset%4 != 0 {
		return fmt.Errorf("tensor %v: misaligned offset", t)
	}
	end := t.Offset + t.Bytes()
	switch t.Region {
	case engine.IO:
		if end > e.plan.IOBytes {
			return fmt.Errorf("tensor %v beyond the IO region (%d bytes)", t, e.plan.IOBytes)
		}
	case engine.Workspace:
		if end > e.plan.WorkspaceBytes {
			return fmt.Errorf("tensor %v beyond the workspace (%d bytes)", t, e.plan.WorkspaceBytes)
		}
	case engine.Weights:
		if t.Page < 0 || t.Page > 1<<20 {
			return fmt.Errorf("tensor %v: invalid page", t)
		}
		for len(e.pageEnd) <= t.Page {
			e.pageEnd = append(e.pageEnd, 0)
		}
		e.pageEnd[t.Page] = max(e.pageEnd[t.Page], end)
	default:
		return fmt.Errorf("tensor %v: invalid region", t)
	}
	return nil
}

// Run executes the plan with w. It fails only if the buffers are too small
// or misaligned. Winograd's convolutions read their filters as New
// transformed them, not from mem's pages.
func (e *Executor) Run(w *Workers, mem Memory) error { return e.run(w, mem, 1, nil, nil) }

// run executes the plan rounds times; with now, took[i][r] is op i's time
// in round r, from now's readings (nanoseconds) before and after it.
func (e *Executor) run(w *Workers, mem Memory, rounds int, now func() int64, took [][]int64) error {
	if err := e.check(mem); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reserve(e.scratch)
	w.mem = memory{io: mem.IO, ws: mem.Workspace, pages: mem.Pages}
	for r := range rounds {
		for i, k := range e.kernels {
			if now == nil {
				w.do(k, &w.mem)
				continue
			}
			t := now()
			w.do(k, &w.mem)
			took[i][r] = now() - t
		}
	}
	w.mem = memory{}
	return nil
}

func (e *Executor) check(mem Memory) error {
	if int64(len(mem.IO)) < e.plan.IOBytes {
		return fmt.Errorf("cpuexec: IO buffer of %d bytes, plan needs %d", len(mem.IO), e.plan.IOBytes)
	}
	if int64(len(mem.Workspace)) < e.plan.WorkspaceBytes {
		return fmt.Errorf("cpuexec: workspace of %d bytes, plan needs %d", len(mem.Workspace), e.plan.WorkspaceBytes)
	}
	if err := e.checkPages(mem.Pages); err != nil {
		return err
	}
	if !aligned(mem.IO) || !aligned(mem.Workspace) {
		return fmt.Errorf("cpuexec: IO or workspace buffer is not 4-byte aligned")
	}
	return nil
}

func (e *Executor) checkPages(pages [][]byte) error {
	if len(pages) < len(e.pageEnd) {
		return fmt.Errorf("cpuexec: %d weights pages, plan reads %d", len(pages), len(e.pageEnd))
	}
	for p, end := range e.pageEnd {
		if int64(len(pages[p])) < end {
			return fmt.Errorf("cpuexec: weights page %d has %d bytes, plan reads %d", p, len(pages[p]), end)
		}
		if !aligned(pages[p]) {
			return fmt.Errorf("cpuexec: weights page %d is not 4-byte aligned", p)
		}
	}
	return nil
}

func aligned(b []byte) bool {
	return len(b) == 0 || uintptr(unsafe.Pointer(&b[0]))%4 == 0
}

// memory is Memory during a run.
type memory struct {
	io, ws []byte
	pages  [][]byte
}

// f32 views a tensor as float32s in place. Offsets were checked by New and
// the buffers by Run.
func (m *memory) f32(t engine.TensorRef) []float32 {
	if !t.Present() {
		return nil
	}
	var base []byte
	switch t.Region {
	case engine.IO:
		base = m.io
	case engine.Workspace:
		base = m.ws
	default:
		base = m.pages[t.Page]
	}
	n := t.Elems()
	if n == 0 {
		return nil
	}
	b := base[t.Offset : t.Offset+4*int64(n)]
	return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
}

func newKernel(op engine.Op) (kernel, int, error) {
	switch o := op.(type) {
	case *engine.Conv:
		return newConv(o)
	case *engine.Gemm:
		k, err := newGemm(o)
		return k, gemmWork, err
	case *engine.Pool:
		return newPool(o)
	case *engine.GlobalPool:
		k, err := newGlobalPool(o)
		return k, 0, err
	case *engine.Binary:
		k, err := newBinary(o)
		return k, 0, err
	case *engine.Affine:
		k, err := newAffine(o)
		return k, 0, err
	case *engine.Activate:
		k, err := newUnary(o.X, o.Y, o.Act)
		return k, 0, err
	case *engine.Copy:
		k, err := newUnary(o.X, o.Y, engine.Activation{})
		return k, 0, err
	case *engine.Concat:
		k, err := newConcat(o)
		return k, 0, err
	case *engine.Softmax:
		k, err := newSoftmax(o)
		return k, 0, err
	case *engine.Pad:
		k, err := newPad(o)
		return k, 0, err
	case *engine.LayerNorm:
		k, err := newLayerNorm(o)
		return k, 0, err
	case *engine.BatchMatMul:
		k, err := newBatchMatMul(o)
		return k, gemmWork, err
	case *engine.Resize:
		k, err := newResize(o)
		return k, 0, err
	case *engine.LRN:
		k, err := newLRN(o)
		return k, 0, err
	case *engine.ConvTranspose:
		k, err := newConvTranspose(o)
		return k, 0, err
	}
	return nil, 0, fmt.Errorf("unsupported op %T", op)
}

// activateGo applies act to v in place, in Go: activate where the C kernels
// are not built or do not compute act.
func activateGo(act engine.Activation, v []float32) {
	switch act.Kind {
	case engine.ActNone:
	case engine.ActRelu:
		for i, x := range v {
			v[i] = max(x, 0)
		}
	case engine.ActClip:
		lo, hi := act.Min, act.Max
		for i, x := range v {
			v[i] = min(max(x, lo), hi)
		}
	// The activations after most convolutions of the zoo, without Apply's
	// switch for each element (which took as long as their exponentials),
	// computed as Apply computes them (TestActivateIsApply).
	case engine.ActSigmoid:
		for i, x := range v {
			v[i] = float32(1 / (1 + math.Exp(-float64(x))))
		}
	case engine.ActSilu:
		for i, x := range v {
			v[i] = float32(float64(x) / (1 + math.Exp(-float64(x))))
		}
	case engine.ActHardSwish:
		a, b := act.Alpha, act.Beta
		for i, x := range v {
			v[i] = x * max(0, min(1, float32(a*x)+b))
		}
	case engine.ActHardSigmoid:
		a, b := act.Alpha, act.Beta
		for i, x := range v {
			v[i] = max(0, min(1, float32(a*x)+b))
		}
	default:
		for i, x := range v {
			v[i] = act.Apply(x)
		}
	}
}
