package worker

import (
	"fmt"

	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// The Infer pipeline: copy-input (real worker only; eligible 5 ms before
// earliest) → exec (eligible at earliest) → copy-output (always eligible),
// each stage serial per GPU. worker_dummy has only the exec stage, which
// then makes the input checks itself.

// padTo returns the smallest supported batch size ≥ b, or 0 if there is none.
func padTo(sizes []int, b int) int {
	if b < 1 {
		return 0
	}
	for _, s := range sizes {
		if s >= b {
			return s
		}
	}
	return 0
}

// checkInfer makes the checks shared by the first stage of either pipeline:
// the model exists on the GPU, the batch size is supported and the input is
// acceptable. It returns false after answering the action.
func (e *Engine) checkInfer(g *gpu, t *task, a *workerapi.Infer, unknownCode, invalidCode int32) bool {
	in := e.instance(a.ModelID, g.id)
	if in == nil {
		e.fail(t, unknownCode, fmt.Sprintf("Infer unknown model %d on GPU %d", a.ModelID, g.id))
		return false
	}
	padded := padTo(in.m.info.BatchSizes, int(a.BatchSize))
	if padded == 0 {
		e.fail(t, workerapi.CopyInputInvalidBatchSize, fmt.Sprintf("Infer invalid batch size %d (model %d supports %v)",
			a.BatchSize, a.ModelID, in.m.info.BatchSizes))
		return false
	}
	body := a.InputLen()
	switch {
	case body == 0:
		// The dummy takes an empty body that lists input_sizes (the
		// controller's, where nobody sent inputs) as the original did.
		if !e.cfg.AllowZeroSizeInputs && (e.cfg.InputStage || len(a.InputSizes) == 0) {
			e.fail(t, invalidCode, "Infer without input, and allow_zero_size_inputs is false")
			return false
		}
		t.generated = true
	case len(a.InputSizes) > 0:
		// Compressed items; the copy-input stage checks them in detail.
	case uint64(body) != uint64(a.BatchSize)*in.m.info.InputSize:
		e.fail(t, invalidCode, fmt.Sprintf("Infer invalid input size %d, expected %d (batch %d × %d)",
			body, uint64(a.BatchSize)*in.m.info.InputSize, a.BatchSize, in.m.info.InputSize))
		return false
	}
	if !t.generated && in.m.info.OutputSize > maxOutput/uint64(a.BatchSize) {
		e.fail(t, workerapi.CopyInputInvalidBatchSize, fmt.Sprintf(
			"Infer batch size %d: an output of %d bytes an item is more than one message may carry (%d bytes)",
			a.BatchSize, in.m.info.OutputSize, maxOutput))
		return false
	}
	t.inst, t.padded = in, padded
	return true
}

// maxOutput is the largest Infer output the worker computes: a result's
// output is its body, and one larger than the wire's largest body (which
// the controller's connection takes) would also pass the send limit
// (peerSendLimit) and close the connection, failing every action on it.
// (The original computed and sent any; a simulated model claiming a
// terabyte of output took worker_dummy down allocating it.) 64 KiB are
// left for the result's header.
const maxOutput = wire.DefaultMaxBodySize - 64<<10

func (e *Engine) startCopyInput(now int64, g *gpu, t *task) {
	a := t.action.(*workerapi.Infer)
	if e.tooLate(now, t, a.Latest, workerapi.CopyInputTooLate, "CopyInputTask") ||
		!e.checkInfer(g, t, a, workerapi.CopyInputUnknownModel, workerapi.CopyInputInvalidInput) {
		return
	}
	g.input.busy = true
	e.start(t, Op{Kind: OpCopyInput, GPU: g.id, Start: now, model: t.inst.m.rt,
		batch: int(a.BatchSize), padded: t.padded, input: a.Input, inputSizes: a.InputSizes,
		generate: t.generated, itemSize: t.inst.m.info.InputSize})
}

func (e *Engine) completeCopyInput(now int64, c *Completion) {
	t := c.Op.task
	g := e.gpus[c.Op.GPU]
	g.input.busy = false
	if c.Err != nil {
		e.fail(t, runtime.Code(c.Err, workerapi.CopyInputInvalidInput), c.Err.Error())
		return
	}
	t.io, t.copyIn = c.IO, c.Timing
	g.exec.push(now, eligible(t.action.(*workerapi.Infer).Earliest), t)
}

func (e *Engine) startExec(now int64, g *gpu, t *task) {
	a := t.action.(*workerapi.Infer)
	if e.tooLate(now, t, a.Latest, workerapi.ExecTooLate, "ExecTask") {
		e.release(g, t)
		return
	}
	if !e.cfg.InputStage && !e.checkInfer(g, t, a, workerapi.CopyInputUnknownModel, workerapi.CopyInputInvalidInput) {
		return
	}
	in := t.inst
	if in.weights == nil {
		e.fail(t, workerapi.ExecWeightsMissing, fmt.Sprintf("ExecTask weights of model %d not on GPU %d", a.ModelID, g.id))
		e.release(g, t)
		return
	}
	t.version = in.version
	g.exec.busy = true
	e.start(t, Op{Kind: OpExec, GPU: g.id, Start: now, model: in.m.rt, io: t.io,
		pages: in.weights.pages, batch: int(a.BatchSize), padded: t.padded})
}

func (e *Engine) completeExec(now int64, c *Completion) {
	t := c.Op.task
	g := e.gpus[c.Op.GPU]
	g.exec.busy = false
	in := t.inst
	switch {
	case c.Err != nil:
		e.fail(t, runtime.Code(c.Err, workerapi.ErrRuntimeError), c.Err.Error())
		e.release(g, t)
		return
	case in.version != t.version || in.weights == nil:
		e.fail(t, workerapi.ExecConcurrentWeightsModification, fmt.Sprintf(
			"ExecTask weights of model %d changed on GPU %d while executing", in.m.id, g.id))
		e.release(g, t)
		return
	}
	t.exec = c.Exec
	if e.cfg.InputStage {
		g.output.push(now, 0, t)
		return
	}
	// worker_dummy: the result follows the exec directly; its output
	// bytes carry no information (the original sent uninitialised memory).
	end := c.Exec.End
	r := e.inferResult(t, workerapi.Timing{Begin: c.Exec.Begin, End: c.Exec.Begin}, workerapi.Timing{Begin: end, End: end})
	if n := e.outputLen(t); n > 0 {
		r.Output = make([]byte, n)
	}
	e.result(t, r)
}

func (e *Engine) outputLen(t *task) int {
	if t.generated {
		return 0
	}
	return int(t.action.(*workerapi.Infer).BatchSize) * int(t.inst.m.info.OutputSize)
}

func (e *Engine) inferResult(t *task, copyIn, copyOut workerapi.Timing) *workerapi.InferResult {
	return &workerapi.InferResult{
		ID:             t.action.ActionID(),
		CopyInput:      copyIn,
		Exec:           t.exec.Timing,
		CopyOutput:     copyOut,
		GPU:            uint32(t.inst.gpu),
		GPUClockBefore: t.exec.ClockBefore,
		GPUClock:       t.exec.Clock,
	}
}

func (e *Engine) startCopyOutput(now int64, g *gpu, t *task) {
	g.output.busy = true
	e.start(t, Op{Kind: OpCopyOutput, GPU: g.id, Start: now, model: t.inst.m.rt, io: t.io, outLen: e.outputLen(t)})
	t.io = nil // the copy-output operation releases it
}

func (e *Engine) completeCopyOutput(now int64, c *Completion) {
	t := c.Op.task
	g := e.gpus[c.Op.GPU]
	g.output.busy = false
	if c.Err != nil {
		e.fail(t, runtime.Code(c.Err, workerapi.CopyOutputHostAlloc), c.Err.Error())
		return
	}
	r := e.inferResult(t, t.copyIn, c.Timing)
	r.Output = c.Output
	e.result(t, r)
}

// release gives back the IO memory of an Infer that stopped after its
// copy-input stage.
func (e *Engine) release(g *gpu, t *task) {
	if t.io != nil {
		e.start(t, Op{Kind: OpRelease, GPU: g.id, model: t.inst.m.rt, io: t.io})
		t.io = nil
	}
}
