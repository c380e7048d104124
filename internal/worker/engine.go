// Package worker is the worker engine shared by worker_dummy and the real
// worker: it decides when each action runs, checks its window, allocates
// weights pages, tracks model versions and builds the results with the
// original's status codes (spec/worker.md §3-6). The bytes are moved and the
// models run by a runtime.Runtime (simulated, CPU or CUDA).
//
// The Engine is a deterministic state machine: it never reads a clock or
// starts a goroutine. Its driver (Server) feeds it actions and the
// completions of the runtime operations it asked for, with the time, and
// carries out what Ready returns. Tests drive it with a fake clock.
package worker

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// inputLead is how long before an Infer's earliest time its input may be
// copied (the real worker's copy-input stage).
const inputLead = 5_000_000

// Config describes the worker's devices and memory.
type Config struct {
	GPUs                int
	PageSize            uint64
	Pages               int    // weights pages per GPU
	GPUPages            []int  // per GPU where set (runtime.Paged), else Pages
	IOPoolSize          uint64 // reported
	WorkspacePoolSize   uint64 // reported
	HostIOPoolSize      uint64 // reported
	AllowZeroSizeInputs bool
	// MaxQueuedInput bounds the bytes of input that the Infers the engine
	// holds may take, each counting InferOverhead more (0: no bound). An
	// Infer that would pass it is answered 74 (copyInputHostAlloc) when it
	// arrives: the original kept every input until its action ran, so a
	// stream of Infers due far in the future grew the process until the
	// machine ran out of memory.
	MaxQueuedInput uint64
	// InputStage gives Infer a copy-input stage that may start 5 ms before
	// earliest (the real worker); without it the exec stage checks inputs
	// and reports the exec codes (worker_dummy).
	InputStage bool
}

// Engine is the worker's decision core.
type Engine struct {
	cfg    Config
	models map[int32]*loadedModel
	// byID is the models in ascending id, as GetWorkerState lists them
	// (models are never unloaded).
	byID []*loadedModel
	// apiModels is byID's part of a GetWorkerState answer, made again
	// after byID changes (nil) and shared by the answers meanwhile:
	// nothing changes a model's part once loaded, and a copy for each
	// answer made a worker of 65,536 models hold 7 MB an answer.
	apiModels []workerapi.ModelInfo
	gpus      []*gpu
	loader    executor

	// infoBytes is what the models take of a GetWorkerState answer, which
	// must fit in one frame (workerapi.StateSize); paged and unpaged count
	// the models with weights pages and without (a GPU may list any of the
	// latter, and of the former as many as it has pages), of ids up to maxID.
	infoBytes      int
	paged, unpaged int
	maxID          int32
	// queuedInput is the bytes of input of the Infers not yet answered,
	// InferOverhead more each (Config.MaxQueuedInput).
	queuedInput uint64

	ops       []*Op
	results   []Outcome
	evictions []Eviction
}

type loadedModel struct {
	id int32
	// api is its part of a GetWorkerState answer, made once: a model does
	// not change once loaded (its BatchSizes are shared with its copies').
	api       workerapi.ModelInfo
	rt        runtime.Model
	info      runtime.ModelInfo
	instances []*instance // per GPU
}

// instance is a model on one GPU.
type instance struct {
	m        *loadedModel
	gpu      int
	version  uint64
	weights  *allocation // resident weights, nil if none
	inFlight *allocation // pages of a load in progress
}

type gpu struct {
	id                           int
	cache                        *pageCache
	weights, input, exec, output executor
	// unusable is set once an action on the GPU failed with status 14
	// (ErrGPUUnusable): GetWorkerState leaves the GPU out from then on,
	// so that a controller reconnecting to this process does not put it
	// back in service (a new process gets a usable GPU back).
	unusable bool
}

// task is one action on its way through the engine.
type task struct {
	action   workerapi.Action
	tag      any
	received int64
	// input is the bytes its Infer's body holds and InferOverhead,
	// counted in Engine.queuedInput until the task is answered.
	input uint64

	// Infer pipeline state.
	inst      *instance
	padded    int
	generated bool // empty request body: inputs generated, no output returned
	io        runtime.IO
	version   uint64
	copyIn    workerapi.Timing
	exec      runtime.ExecTiming

	// op is the task's operation in flight (start): a task has at most
	// one at a time, so each stage's needs no allocation of its own.
	op Op
}

// start has the driver run op for t: its next operation, which replaces
// the last in t.op. A completion points at t.op, so its handler reads
// what it needs of its Op before it starts another (completeExec's
// release does so on failure).
func (e *Engine) start(t *task, op Op) {
	op.task = t
	t.op = op
	e.ops = append(e.ops, &t.op)
}

// Outcome is a result to send, with the tag its action was submitted with.
type Outcome struct {
	Result workerapi.Result
	Tag    any
}

// Eviction says that a model's weights left pages of a GPU; the driver
// tells a runtime.Evicter before it runs the Ops of the same Output.
type Eviction struct {
	Model runtime.Model
	GPU   int
	Pages []int
}

// Deliver tells x.Model, if it keeps state per set of pages.
func (x Eviction) Deliver() {
	if ev, ok := x.Model.(runtime.Evicter); ok {
		ev.Evicted(x.GPU, x.Pages)
	}
}

// Output is what the engine decided since the last Ready.
type Output struct {
	Ops       []*Op      // runtime operations to run now
	Results   []Outcome  // results to send
	Evictions []Eviction // to deliver before the Ops run
	// Wake is when a queued task becomes eligible (0: none is waiting).
	Wake int64
}

// NewEngine returns an engine for cfg.
func NewEngine(cfg Config) *Engine {
	e := &Engine{cfg: cfg, models: make(map[int32]*loadedModel), loader: executor{name: "CPU"}}
	for g := 0; g < cfg.GPUs; g++ {
		pages := cfg.Pages
		if g < len(cfg.GPUPages) {
			pages = cfg.GPUPages[g]
		}
		e.gpus = append(e.gpus, &gpu{id: g, cache: newPageCache(pages)})
	}
	return e
}

// Submit hands the engine, at now, an action that finished arriving at
// received (worker clock, at most now: the Server reads actions on other
// goroutines; its window already converted to the worker clock). tag
// comes back with the action's result.
func (e *Engine) Submit(now, received int64, a workerapi.Action, tag any) {
	t := &task{action: a, tag: tag, received: min(received, now)}
	switch a := a.(type) {
	case *workerapi.ClearCache:
		e.clearCache()
		e.result(t, &workerapi.ClearCacheResult{ID: a.ID})
	case *workerapi.GetWorkerState:
		e.result(t, &workerapi.GetWorkerStateResult{ID: a.ID, Memory: e.memoryInfo()})
	case *workerapi.LoadModelFromDisk:
		e.loader.push(now, eligible(a.Earliest), t)
	case *workerapi.LoadWeights:
		if g := e.gpu(t, a.GPU); g != nil {
			g.weights.push(now, eligible(a.Earliest), t)
		}
	case *workerapi.EvictWeights:
		if g := e.gpu(t, a.GPU); g != nil {
			g.weights.push(now, eligible(a.Earliest), t)
		}
	case *workerapi.Infer:
		if g := e.gpu(t, a.GPU); g != nil && e.holdInput(t, a) {
			if e.cfg.InputStage {
				lead := int64(0)
				if a.Earliest > inputLead {
					lead = eligible(a.Earliest - inputLead)
				}
				g.input.push(now, lead, t)
			} else {
				g.exec.push(now, eligible(a.Earliest), t)
			}
		}
	default: // unreachable: decoding knows the types
		e.fail(t, workerapi.ErrRuntimeError, "Invalid Action")
	}
}

// InferOverhead is what an Infer the engine holds costs beyond its input
// (its action, task and frame), counted against Config.MaxQueuedInput so
// that Infers without inputs are bounded too, as the controller counts a
// client's requests: 884 bytes measured on worker_dummy (100,000 bodiless
// Infers due in an hour), where 512 were counted.
const InferOverhead = 1024

// holdInput counts a's input (its body and its list of input sizes) in
// the engine's, or answers a with status 74 if it would pass
// Config.MaxQueuedInput.
func (e *Engine) holdInput(t *task, a *workerapi.Infer) bool {
	in := uint64(a.InputLen()) + 4*uint64(len(a.InputSizes))
	n := in + InferOverhead
	if limit := e.cfg.MaxQueuedInput; limit > 0 && e.queuedInput+n > limit {
		e.fail(t, workerapi.CopyInputHostAlloc, fmt.Sprintf(
			"Infer input of %d bytes: the worker holds %d bytes of inputs not yet answered (%d more an Infer), and at most %d (--max-queued-input)",
			in, e.queuedInput, InferOverhead, limit))
		return false
	}
	t.input = n
	e.queuedInput += n
	return true
}

func eligible(earliest uint64) int64 { return int64(min(earliest, 1<<63-1)) }

// gpu returns the GPU an action names, or answers it with status 13, or
// with 14 once the GPU is unusable: every action that names it, also one
// the engine would answer without the runtime (an eviction, an unknown
// model's load).
func (e *Engine) gpu(t *task, id uint32) *gpu {
	if int(id) >= len(e.gpus) {
		e.fail(t, workerapi.ErrInvalidGPU, fmt.Sprintf("Invalid GPU %d (worker has %d)", id, len(e.gpus)))
		return nil
	}
	if g := e.gpus[id]; !g.unusable {
		return g
	}
	e.fail(t, workerapi.ErrGPUUnusable, fmt.Sprintf("GPU %d is unusable after an earlier error", id))
	return nil
}

// Ready starts every task that is eligible at now and moves what the
// engine decided into out (which the caller has reset).
func (e *Engine) Ready(now int64, out *Output) {
	e.advance(now)
	out.Ops = append(out.Ops, e.ops...)
	out.Results = append(out.Results, e.results...)
	out.Evictions = append(out.Evictions, e.evictions...)
	clear(e.ops)
	clear(e.results)
	clear(e.evictions)
	e.ops, e.results, e.evictions = e.ops[:0], e.results[:0], e.evictions[:0]
	out.Wake = e.wake()
}

func (e *Engine) advance(now int64) {
	for t := e.loader.next(now); t != nil; t = e.loader.next(now) {
		e.startLoadModel(now, t)
	}
	for _, g := range e.gpus {
		for t := g.weights.next(now); t != nil; t = g.weights.next(now) {
			switch a := t.action.(type) {
			case *workerapi.LoadWeights:
				e.startLoadWeights(now, g, t, a)
			case *workerapi.EvictWeights:
				e.evict(now, g, t, a)
			}
		}
		for t := g.input.next(now); t != nil; t = g.input.next(now) {
			e.startCopyInput(now, g, t)
		}
		for t := g.exec.next(now); t != nil; t = g.exec.next(now) {
			e.startExec(now, g, t)
		}
		for t := g.output.next(now); t != nil; t = g.output.next(now) {
			e.startCopyOutput(now, g, t)
		}
	}
}

func (e *Engine) wake() int64 {
	w := e.loader.wake()
	for _, g := range e.gpus {
		for _, ex := range []*executor{&g.weights, &g.input, &g.exec, &g.output} {
			if x := ex.wake(); x != 0 && (w == 0 || x < w) {
				w = x
			}
		}
	}
	return w
}

// Shutdown answers every queued action with status 1 (cancelled).
func (e *Engine) Shutdown() {
	e.cancel(func(*task) bool { return true }, "worker shutting down", true)
}

// Cancel answers with status 1 (cancelled) the queued actions whose tag
// owned reports, of those that hold nothing: no stage of theirs has run,
// or, for an Infer, none past its copy-input (an Infer that holds IO
// memory or has run finishes as usual). It returns how many it answered.
//
// The Server cancels a connection's actions when it closes. The original
// ran them: their results could reach nobody, an Infer due far in the
// future held its input until then, and loads and evictions changed a
// worker that a controller reconnecting in the meantime had already asked
// for its state.
func (e *Engine) Cancel(owned func(tag any) bool, reason string) int {
	return e.cancel(func(t *task) bool { return t.io == nil && owned(t.tag) }, reason, false)
}

// cancel answers the queued tasks that match reports with status 1, from
// every executor but the copy-output stage's unless all, and returns how
// many.
func (e *Engine) cancel(match func(*task) bool, reason string, all bool) int {
	n := 0
	drop := func(ex *executor) {
		for _, t := range ex.remove(match) {
			e.fail(t, workerapi.ErrCancelled, "Action cancelled: "+reason)
			n++
		}
	}
	drop(&e.loader)
	for _, g := range e.gpus {
		drop(&g.weights)
		drop(&g.input)
		drop(&g.exec)
		if all {
			drop(&g.output)
		}
	}
	return n
}

func (e *Engine) result(t *task, r workerapi.Result) {
	e.queuedInput -= t.input
	t.input = 0
	r.SetStamps(uint64(t.received), 0)
	e.results = append(e.results, Outcome{Result: r, Tag: t.tag})
}

func (e *Engine) fail(t *task, code int32, msg string) {
	if code == workerapi.ErrGPUUnusable {
		e.markUnusable(t.action)
	}
	e.result(t, &workerapi.ErrorResult{ID: t.action.ActionID(), ActionType: t.action.Type(), Code: code, Message: msg})
}

// markUnusable notes that the GPU action a names is unusable.
func (e *Engine) markUnusable(a workerapi.Action) {
	if g, ok := a.(workerapi.OnGPU); ok && int(g.GPUID()) < len(e.gpus) {
		e.gpus[g.GPUID()].unusable = true
	}
}

// tooLate reports a stage started after the action's latest time.
func (e *Engine) tooLate(now int64, t *task, latest uint64, code int32, stage string) bool {
	if latest == workerapi.NoLatest || uint64(now) <= latest {
		return false
	}
	e.fail(t, code, fmt.Sprintf("%s could not start in time (now %s, latest %s)", stage,
		workerapi.Millis(uint64(now)), workerapi.Millis(latest)))
	return true
}

func (e *Engine) instance(id int32, g int) *instance {
	if m := e.models[id]; m != nil && g < len(m.instances) {
		return m.instances[g]
	}
	return nil
}

func (e *Engine) clearCache() {
	for _, m := range e.models {
		for _, in := range m.instances {
			in.version++
			cache := e.gpus[in.gpu].cache
			e.evicted(in, in.weights)
			e.evicted(in, in.inFlight)
			cache.release(in.weights)
			cache.release(in.inFlight)
			in.weights, in.inFlight = nil, nil
		}
	}
}

// evicted notes that in's weights leave the pages of a (if any).
func (e *Engine) evicted(in *instance, a *allocation) {
	if a != nil && !a.freed {
		e.evictions = append(e.evictions, Eviction{Model: in.m.rt, GPU: in.gpu, Pages: a.pages})
	}
}

func (e *Engine) memoryInfo() workerapi.WorkerMemoryInfo {
	w := workerapi.WorkerMemoryInfo{
		PageSize:             e.cfg.PageSize,
		HostWeightsCacheSize: ^uint64(0),
		HostIOPoolSize:       e.cfg.HostIOPoolSize,
		Models:               e.apiModels,
	}
	if w.Models == nil {
		w.Models = make([]workerapi.ModelInfo, len(e.byID))
		for i, m := range e.byID {
			w.Models[i] = m.api
		}
		e.apiModels = w.Models
	}
	for _, g := range e.gpus {
		if g.unusable {
			continue
		}
		info := workerapi.GPUInfo{
			ID: int32(g.id),
			// The cache as made, whole pages (the original's rounding),
			// which may be less than configured where a GPU lacks room.
			WeightsCacheSize:       uint64(g.cache.total) * e.cfg.PageSize,
			WeightsCacheTotalPages: int32(g.cache.total),
			IOPoolSize:             e.cfg.IOPoolSize,
			WorkspacePoolSize:      e.cfg.WorkspacePoolSize,
		}
		for _, m := range e.byID {
			if m.instances[g.id].weights != nil {
				info.Models = append(info.Models, uint32(m.id))
			}
		}
		w.GPUs = append(w.GPUs, info)
	}
	return w
}

// addModels adds ms, copies of consecutive ids, to byID.
func (e *Engine) addModels(ms []*loadedModel) {
	i, _ := slices.BinarySearchFunc(e.byID, ms[0].id, func(m *loadedModel, id int32) int { return cmp.Compare(m.id, id) })
	e.byID = slices.Insert(e.byID, i, ms...)
	e.apiModels = nil
}

// apiInfo is model id's part of a GetWorkerState answer.
func apiInfo(id int32, path string, info runtime.ModelInfo) workerapi.ModelInfo {
	mi := workerapi.ModelInfo{
		ID: id, Source: path, InputSize: info.InputSize, OutputSize: info.OutputSize,
		WeightsSize: info.WeightsSize, NumWeightsPages: uint32(info.NumPages),
		WeightsLoadTime: info.WeightsLoadTime, ExecTimes: info.ExecTimes,
	}
	for _, b := range info.BatchSizes {
		mi.BatchSizes = append(mi.BatchSizes, uint32(b))
	}
	return mi
}
