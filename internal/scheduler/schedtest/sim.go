package schedtest

import (
	"math/rand/v2"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Sim simulates the workers of a cluster in virtual time, as worker_dummy
// does in real time: an Infer runs when its GPU is free, for the profiled
// time of its padded batch size scaled by the GPU's clock; a LoadWeights
// runs when the GPU's PCIe link is free, for the profiled transfer time;
// work that could not start by its window's end is rejected (81, 51). Work
// whose weights were evicted or replaced meanwhile fails (82, 84, 54).
//
// Optional faults: results that are errors, never arrive, arrive twice, or
// arrive after a random extra delay (and so out of order); a GPU that
// breaks (Break).
type Sim struct {
	// Latency delays every action's arrival and every result's return.
	Latency int64

	// Faults, drawn from Rand; all zero by default.
	Rand      *rand.Rand
	ErrorRate float64 // results replaced by a worker error
	DropRate  float64 // results that never come back
	DupRate   float64 // results delivered a second time, later
	MaxJitter int64   // extra delivery delay, uniform in [0, MaxJitter)

	workers []simWorker
	events  eventHeap[simEvent]
	zeros   []byte
}

type simWorker struct {
	gpus   []*simGPU
	models []*scheduler.Model // by id
}

type simGPU struct {
	brokenAt int64 // from when its work fails with status 14; 0: never
	pages    int
	clock    uint32
	execFree int64
	pcieFree int64
	free     int    // pages
	weights  []bool // by model: resident
	version  []int  // by model: bumped by every load and eviction
}

type simEvent struct {
	worker int
	res    workerapi.Result
	// For results whose outcome depends on what happened meanwhile.
	gpu     *simGPU
	model   int
	version int
	pages   int
	check   int // checkNone, checkInfer or checkLoad
}

const (
	checkNone = iota
	checkInfer
	checkLoad
)

// NewSim simulates the workers of st, with its resident models loaded and
// every GPU at 1380 MHz.
func NewSim(st *scheduler.State) *Sim {
	s := &Sim{}
	for w := range st.Workers {
		var wk simWorker
		for i := range st.Workers[w].Models {
			m := &st.Workers[w].Models[i]
			if m.ID >= len(wk.models) {
				wk.models = append(wk.models, make([]*scheduler.Model, m.ID+1-len(wk.models))...)
			}
			wk.models[m.ID] = m
		}
		for _, g := range st.Workers[w].GPUs {
			sg := &simGPU{clock: 1380, pages: g.TotalPages, free: g.TotalPages,
				weights: make([]bool, len(wk.models)), version: make([]int, len(wk.models))}
			for _, id := range g.LoadedModels {
				if m := wk.model(int32(id)); m != nil && !sg.weights[id] {
					sg.weights[id] = true
					sg.free -= m.NumWeightsPages
				}
			}
			wk.gpus = append(wk.gpus, sg)
		}
		s.workers = append(s.workers, wk)
	}
	return s
}

// SetClock sets a GPU's clock in MHz: it runs proportionally slower below
// 1380 and reports the clock with its results.
func (s *Sim) SetClock(worker, gpu int, mhz uint32) { s.workers[worker].gpus[gpu].clock = mhz }

// Break makes a GPU break at time at, as one hitting a sticky CUDA error:
// every Infer and LoadWeights on it that would succeed at or after at
// fails with status 14 (ErrGPUUnusable) instead.
func (s *Sim) Break(worker, gpu int, at int64) { s.workers[worker].gpus[gpu].brokenAt = max(at, 1) }

// Lose simulates losing the connection to worker: the results it had yet
// to return never come. It returns what the controller answers instead,
// now: an error (status 2) for each of those actions.
func (s *Sim) Lose(worker int) []workerapi.Result {
	var keep []simEvent
	var at []int64
	var lost []workerapi.Result
	seen := map[int32]bool{}
	for s.events.len() > 0 {
		t, e := s.events.pop()
		if e.worker != worker {
			keep, at = append(keep, e), append(at, t)
			continue
		}
		if id := e.res.ActionID(); !seen[id] { // results may come twice (DupRate)
			seen[id] = true
			lost = append(lost, errorResult(e.res, workerapi.ErrRuntimeError, "worker connection lost"))
		}
	}
	for i, e := range keep { // in their order, so that equal times keep it
		s.events.push(at[i], e)
	}
	return lost
}

// Restart makes worker a new process with gpus GPUs (if more than it had,
// the new ones as big as its first): its GPUs hold no weights.
func (s *Sim) Restart(worker, gpus int) {
	w := &s.workers[worker]
	for len(w.gpus) < gpus {
		w.gpus = append(w.gpus, &simGPU{clock: 1380, pages: w.gpus[0].pages,
			weights: make([]bool, len(w.models)), version: make([]int, len(w.models))})
	}
	for _, g := range w.gpus {
		g.free = g.pages
		for id := range g.weights {
			g.weights[id] = false
			g.version[id]++
		}
	}
}

// Resident reports whether a GPU holds a model's weights.
func (s *Sim) Resident(worker, gpu, model int) bool {
	return s.workers[worker].gpus[gpu].weights[model]
}

// Next returns the time of the next result, if any.
func (s *Sim) Next() (int64, bool) {
	if s.events.len() == 0 {
		return 0, false
	}
	return s.events.top(), true
}

// Pop removes the next result; Next must have reported one.
func (s *Sim) Pop() (at int64, worker int, res workerapi.Result) {
	at, e := s.events.pop()
	switch e.check {
	case checkInfer:
		if !e.gpu.weights[e.model] || e.gpu.version[e.model] != e.version {
			res = errorResult(e.res, workerapi.ExecConcurrentWeightsModification, "weights changed during exec")
		} else {
			res = e.res
		}
	case checkLoad:
		if e.gpu.version[e.model] != e.version {
			e.gpu.free += e.pages
			res = errorResult(e.res, workerapi.LoadWeightsConcurrentModification, "weights changed during load")
		} else {
			e.gpu.weights[e.model] = true
			res = e.res
		}
	default:
		res = e.res
	}
	return at, e.worker, res
}

// Submit hands an action, fully transmitted at now, to its worker.
func (s *Sim) Submit(now int64, worker int, a workerapi.Action) {
	arrive := now + s.Latency
	w := &s.workers[worker]
	switch a := a.(type) {
	case *workerapi.Infer:
		s.infer(arrive, worker, w, a)
	case *workerapi.LoadWeights:
		s.load(arrive, worker, w, a)
	case *workerapi.EvictWeights:
		s.evict(arrive, worker, w, a)
	}
}

func (s *Sim) infer(arrive int64, worker int, w *simWorker, a *workerapi.Infer) {
	fail := func(at int64, code int32, msg string) {
		s.deliver(at, simEvent{worker: worker, res: &workerapi.ErrorResult{
			ID: a.ID, ActionType: workerapi.InferType, Code: code, Message: msg,
			ActionReceived: uint64(arrive), ResultSent: uint64(at)}})
	}
	m, g := w.model(a.ModelID), s.gpu(w, a.GPU)
	if m == nil || g == nil {
		fail(arrive, workerapi.CopyInputUnknownModel, "unknown model or GPU")
		return
	}
	var exec int64 = -1
	for i, b := range m.BatchSizes {
		if b >= int(a.BatchSize) {
			exec = m.ExecDurations[i] * 1380 / int64(g.clock)
			break
		}
	}
	start := max(arrive, int64(a.Earliest), g.execFree)
	switch {
	case exec < 0 || a.BatchSize == 0:
		fail(arrive, workerapi.CopyInputInvalidBatchSize, "invalid batch size")
		return
	case uint64(start) > a.Latest:
		fail(start, workerapi.ExecTooLate, "exec too late")
		return
	case !g.weights[int(a.ModelID)]:
		fail(start, workerapi.ExecWeightsMissing, "weights not present")
		return
	}
	end := start + exec
	g.execFree = end
	var out []byte
	if a.InputLen() > 0 {
		out = s.output(int(m.OutputSize) * int(a.BatchSize))
	}
	s.deliver(end, simEvent{worker: worker, gpu: g, model: int(a.ModelID), version: g.version[int(a.ModelID)], check: checkInfer,
		res: &workerapi.InferResult{
			ID: a.ID, GPU: a.GPU, GPUClockBefore: g.clock, GPUClock: g.clock,
			CopyInput:      workerapi.Timing{Begin: uint64(start), End: uint64(start)},
			Exec:           workerapi.Timing{Begin: uint64(start), End: uint64(end), Duration: uint64(exec)},
			CopyOutput:     workerapi.Timing{Begin: uint64(end), End: uint64(end)},
			ActionReceived: uint64(arrive), ResultSent: uint64(end), Output: out,
		}})
}

func (s *Sim) load(arrive int64, worker int, w *simWorker, a *workerapi.LoadWeights) {
	fail := func(at int64, code int32, msg string) {
		s.deliver(at, simEvent{worker: worker, res: &workerapi.ErrorResult{
			ID: a.ID, ActionType: workerapi.LoadWeightsType, Code: code, Message: msg,
			ActionReceived: uint64(arrive), ResultSent: uint64(at)}})
	}
	m, g := w.model(a.ModelID), s.gpu(w, a.GPU)
	if m == nil || g == nil {
		fail(arrive, workerapi.LoadWeightsUnknownModel, "unknown model or GPU")
		return
	}
	start := max(arrive, int64(a.Earliest), g.pcieFree)
	if uint64(start) > a.Latest {
		fail(start, workerapi.LoadWeightsTooLate, "load too late")
		return
	}
	id := int(a.ModelID)
	pages := 0
	if !g.weights[id] {
		if g.free < m.NumWeightsPages {
			fail(start, workerapi.LoadWeightsInsufficientCache, "insufficient cache")
			return
		}
		pages = m.NumWeightsPages
		g.free -= pages
	}
	g.version[id]++
	end := start + m.WeightsTransfer
	g.pcieFree = end
	s.deliver(end, simEvent{worker: worker, gpu: g, model: id, version: g.version[id], pages: pages, check: checkLoad,
		res: &workerapi.LoadWeightsResult{ID: a.ID, ActionReceived: uint64(arrive), ResultSent: uint64(end),
			Timing: workerapi.Timing{Begin: uint64(start), End: uint64(end), Duration: uint64(m.WeightsTransfer)}}})
}

func (s *Sim) evict(arrive int64, worker int, w *simWorker, a *workerapi.EvictWeights) {
	m, g := w.model(a.ModelID), s.gpu(w, a.GPU)
	id := int(a.ModelID)
	if m == nil || g == nil || !g.weights[id] {
		s.deliver(arrive, simEvent{worker: worker, res: &workerapi.ErrorResult{
			ID: a.ID, ActionType: workerapi.EvictWeightsType, Code: workerapi.EvictWeightsNotInCache,
			Message: "not in cache", ActionReceived: uint64(arrive), ResultSent: uint64(arrive)}})
		return
	}
	g.version[id]++
	g.weights[id] = false
	g.free += m.NumWeightsPages
	s.deliver(arrive, simEvent{worker: worker, res: &workerapi.EvictWeightsResult{
		ID: a.ID, ActionReceived: uint64(arrive), ResultSent: uint64(arrive),
		Timing: workerapi.Timing{Begin: uint64(arrive), End: uint64(arrive)}}})
}

// deliver schedules a result to reach the controller, subject to faults.
func (s *Sim) deliver(sent int64, e simEvent) {
	at := sent + s.Latency
	if e.gpu != nil && e.gpu.brokenAt > 0 && sent >= e.gpu.brokenAt {
		e.res = errorResult(e.res, workerapi.ErrGPUUnusable, "GPU is unusable after an injected fault")
		e.gpu.free += e.pages
		e.check = checkNone
	}
	if s.Rand != nil {
		switch r := s.Rand.Float64(); {
		case r < s.DropRate:
			return
		case r < s.DropRate+s.ErrorRate:
			codes := []int32{workerapi.ErrRuntimeError, workerapi.CopyInputTooLate, workerapi.ExecTooLate,
				workerapi.LoadWeightsTooLate, workerapi.ErrWeightsNotPresent}
			e.res = errorResult(e.res, codes[s.Rand.IntN(len(codes))], "injected fault")
			if e.check == checkLoad {
				e.gpu.free += e.pages
			}
			e.check = checkNone
		}
		if s.MaxJitter > 0 {
			at += s.Rand.Int64N(s.MaxJitter)
		}
		if s.Rand.Float64() < s.DupRate {
			dup := e
			dup.check = checkNone
			s.events.push(at+1+s.Rand.Int64N(max(s.MaxJitter, 1)), dup)
		}
	}
	s.events.push(at, e)
}

func (w *simWorker) model(id int32) *scheduler.Model {
	if id < 0 || int(id) >= len(w.models) {
		return nil
	}
	return w.models[id]
}

func (s *Sim) gpu(w *simWorker, id uint32) *simGPU {
	if int(id) >= len(w.gpus) {
		return nil
	}
	return w.gpus[id]
}

// output returns n zero bytes, shared by all results: schedulers must not
// write to outputs.
func (s *Sim) output(n int) []byte {
	if len(s.zeros) < n {
		s.zeros = make([]byte, 2*n)
	}
	return s.zeros[:n:n]
}

func errorResult(r workerapi.Result, code int32, msg string) *workerapi.ErrorResult {
	recv, sent := r.Stamps()
	return &workerapi.ErrorResult{ID: r.ActionID(), ActionType: r.Type(), Code: code, Message: msg,
		ActionReceived: recv, ResultSent: sent}
}
