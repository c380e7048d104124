package worker

import (
	"fmt"

	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// LoadModelFromDisk (worker-wide loader, spec/worker.md §3.5).

func (e *Engine) startLoadModel(now int64, t *task) {
	a := t.action.(*workerapi.LoadModelFromDisk)
	if e.tooLate(now, t, a.Latest, workerapi.ErrCouldNotStartInTime, "LoadModelFromDiskTask") {
		return
	}
	// Ids below MaxModels, as controllers take them (one past would leave
	// this worker out of every controller's start-up).
	if a.Copies < 1 || a.ModelID < 0 || int64(a.ModelID)+int64(a.Copies) > workerapi.MaxModels {
		e.fail(t, workerapi.ErrInvalidAction, fmt.Sprintf("LoadModelFromDisk needs model ids from 0 to %d: model_id >= 0, no_of_copies >= 1 and model_id + no_of_copies <= %d (got %d, %d)",
			workerapi.MaxModels-1, workerapi.MaxModels, a.ModelID, a.Copies))
		return
	}
	if len(e.models)+int(a.Copies) > workerapi.MaxModels {
		e.fail(t, workerapi.ErrInvalidAction, fmt.Sprintf("LoadModelFromDisk of %d copies: the worker holds %d models, and at most %d",
			a.Copies, len(e.models), workerapi.MaxModels))
		return
	}
	if err := e.checkFreeIDs(a.ModelID, a.Copies); err != nil {
		e.fail(t, workerapi.ErrInvalidModelID, err.Error())
		return
	}
	maxBatch := int(a.MaxBatchSize)
	if maxBatch < 1 {
		maxBatch = 1
	}
	e.loader.busy = true
	e.start(t, Op{Kind: OpLoadModel, Start: now, path: a.Path,
		opts: runtime.LoadOptions{MaxBatch: maxBatch, MaxExec: a.MaxExecDuration, PageSize: e.cfg.PageSize}})
}

func (e *Engine) checkFreeIDs(first, copies int32) error {
	for i := int32(0); i < copies; i++ {
		if e.models[first+i] != nil {
			return fmt.Errorf("LoadModelFromDiskTask specified ID that already exists (model %d)", first+i)
		}
	}
	return nil
}

func (e *Engine) completeLoadModel(now int64, c *Completion) {
	e.loader.busy = false
	t := c.Op.task
	a := t.action.(*workerapi.LoadModelFromDisk)
	if c.Err != nil {
		e.fail(t, runtime.Code(c.Err, workerapi.ErrInvalidModelPath), c.Err.Error())
		return
	}
	// The ids were free when the load started and loads run one at a time.
	info := c.Model.Info()
	last := apiInfo(a.ModelID+a.Copies-1, a.Path, info) // the largest id
	infoBytes, paged, unpaged := e.infoBytes+int(a.Copies)*workerapi.ModelInfoSize(&last), e.paged, e.unpaged
	if info.NumPages > 0 {
		paged += int(a.Copies)
	} else {
		unpaged += int(a.Copies)
	}
	resident := make([]int, len(e.gpus))
	for g, gp := range e.gpus {
		resident[g] = unpaged + min(paged, gp.cache.total)
	}
	if n := workerapi.StateSize(infoBytes, resident, max(e.maxID, last.ID)); n > wire.MaxHeaderSize {
		c.Model.Close()
		e.fail(t, workerapi.ErrInvalidAction, fmt.Sprintf("LoadModelFromDisk of %d copies of %s: the worker's state could take %d bytes, "+
			"more than a message's %d", a.Copies, a.Path, n, wire.MaxHeaderSize))
		return
	}
	e.infoBytes, e.paged, e.unpaged, e.maxID = infoBytes, paged, unpaged, max(e.maxID, last.ID)
	copies := make([]*loadedModel, a.Copies)
	for i := range copies {
		api := last
		api.ID = a.ModelID + int32(i)
		m := &loadedModel{id: api.ID, api: api, rt: c.Model, info: info}
		for g := range e.gpus {
			m.instances = append(m.instances, &instance{m: m, gpu: g})
		}
		e.models[m.id] = m
		copies[i] = m
	}
	e.addModels(copies)
	r := &workerapi.LoadModelFromDiskResult{
		ID:                 a.ID,
		Timing:             workerapi.Timing{Begin: uint64(c.Op.Start), End: uint64(now), Duration: uint64(now - c.Op.Start)},
		InputSize:          info.InputSize,
		OutputSize:         info.OutputSize,
		WeightsSizeInCache: uint64(info.NumPages) * e.cfg.PageSize,
		NumWeightsPages:    uint32(info.NumPages),
		WeightsLoadTime:    info.WeightsLoadTime,
		ExecTimes:          info.ExecTimes,
		CopiesCreated:      a.Copies,
	}
	for _, b := range info.BatchSizes {
		r.BatchSizes = append(r.BatchSizes, uint32(b))
	}
	e.result(t, r)
}

// LoadWeights and EvictWeights (the GPU's weights executor).

func (e *Engine) startLoadWeights(now int64, g *gpu, t *task, a *workerapi.LoadWeights) {
	if e.tooLate(now, t, a.Latest, workerapi.LoadWeightsTooLate, "LoadWeightsTask") {
		return
	}
	in := e.instance(a.ModelID, g.id)
	if in == nil {
		e.fail(t, workerapi.LoadWeightsUnknownModel, fmt.Sprintf("LoadWeightsTask unknown model %d on GPU %d", a.ModelID, g.id))
		return
	}
	// A reload of resident weights rewrites the same pages (they stay
	// usable meanwhile); otherwise take fresh pages. Either way the version
	// moves on, so an exec racing the load fails with 84.
	in.version++
	t.inst, t.version = in, in.version
	alloc := in.weights
	if alloc == nil {
		alloc = g.cache.alloc(in.m.info.NumPages)
		if alloc == nil {
			e.fail(t, workerapi.LoadWeightsInsufficientCache, fmt.Sprintf(
				"LoadWeightsTask insufficient cache: model %d needs %d pages, GPU %d has %d free",
				a.ModelID, in.m.info.NumPages, g.id, g.cache.freePages()))
			return
		}
		in.inFlight = alloc
	}
	g.weights.busy = true
	e.start(t, Op{Kind: OpLoadWeights, GPU: g.id, Start: now, model: in.m.rt, pages: alloc.pages})
}

func (e *Engine) completeLoadWeights(now int64, c *Completion) {
	t := c.Op.task
	g := e.gpus[c.Op.GPU]
	g.weights.busy = false
	in := t.inst
	// Only ClearCache can move the version while the load is in flight
	// (loads and evicts of a GPU run one at a time); it has already freed
	// the pages involved.
	if in.version != t.version {
		e.fail(t, workerapi.LoadWeightsConcurrentModification, "LoadWeightsTask concurrent modification while loading weights")
		return
	}
	if c.Err != nil {
		// A failed copy leaves no usable weights, fresh or reloaded.
		e.evicted(in, in.inFlight)
		e.evicted(in, in.weights)
		g.cache.release(in.inFlight)
		g.cache.release(in.weights)
		in.inFlight, in.weights = nil, nil
		in.version++
		e.fail(t, runtime.Code(c.Err, workerapi.ErrRuntimeError), c.Err.Error())
		return
	}
	if in.inFlight != nil {
		in.weights, in.inFlight = in.inFlight, nil
	}
	e.result(t, &workerapi.LoadWeightsResult{ID: t.action.ActionID(), Timing: c.Timing})
}

func (e *Engine) evict(now int64, g *gpu, t *task, a *workerapi.EvictWeights) {
	if e.tooLate(now, t, a.Latest, workerapi.EvictWeightsTooLate, "EvictWeightsTask") {
		return
	}
	in := e.instance(a.ModelID, g.id)
	if in == nil {
		e.fail(t, workerapi.EvictWeightsUnknownModel, fmt.Sprintf("EvictWeightsTask unknown model %d on GPU %d", a.ModelID, g.id))
		return
	}
	if in.weights == nil {
		e.fail(t, workerapi.EvictWeightsNotInCache, fmt.Sprintf("EvictWeightsTask model %d has no weights on GPU %d", a.ModelID, g.id))
		return
	}
	in.version++
	e.evicted(in, in.weights)
	g.cache.release(in.weights)
	in.weights = nil
	e.result(t, &workerapi.EvictWeightsResult{ID: a.ID, Timing: workerapi.Timing{Begin: uint64(now), End: uint64(now)}})
}
