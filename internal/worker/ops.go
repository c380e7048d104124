package worker

import (
	"fmt"

	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// OpKind is a kind of runtime operation.
type OpKind int

// Runtime operations the engine asks its driver to run.
const (
	OpLoadModel OpKind = iota
	OpLoadWeights
	OpCopyInput
	OpExec
	OpCopyOutput
	OpRelease // give back IO memory; completes at once and reports nothing
)

var opNames = [...]string{"LoadModel", "LoadWeights", "CopyInput", "Exec", "CopyOutput", "Release"}

func (k OpKind) String() string { return opNames[k] }

// Op is one runtime operation decided by the engine. The driver runs it
// (Run) off the engine's goroutine and hands the Completion back with
// Engine.Complete once the operation is over (at Completion.Done).
type Op struct {
	Kind  OpKind
	GPU   int
	Start int64 // engine clock when the stage started

	task *task

	path       string
	opts       runtime.LoadOptions
	model      runtime.Model
	pages      []int
	batch      int
	padded     int
	input      []byte
	inputSizes []uint32
	generate   bool
	itemSize   uint64
	io         runtime.IO
	outLen     int
}

// Completion is the outcome of an Op.
type Completion struct {
	Op     *Op
	Timing workerapi.Timing   // LoadWeights, CopyInput, CopyOutput
	Exec   runtime.ExecTiming // Exec
	Err    error
	Model  runtime.Model // LoadModel
	IO     runtime.IO    // CopyInput
	Output []byte        // CopyOutput
}

// Done is when the operation completes: its reported end, which a
// simulated runtime puts in the future.
func (c *Completion) Done() int64 {
	switch c.Op.Kind {
	case OpExec:
		return int64(c.Exec.End)
	case OpLoadWeights, OpCopyInput, OpCopyOutput:
		return int64(c.Timing.End)
	}
	return 0
}

// Run carries out the operation on rt. It may block for as long as the
// operation takes (except on a simulated runtime).
func (op *Op) Run(rt runtime.Runtime) (c Completion) {
	c.Op = op
	defer func() {
		// A runtime must not take the worker down: a panic is an error
		// result for this action.
		if r := recover(); r != nil {
			c.Err = runtime.Errorf(workerapi.ErrRuntimeError, "%s failed: %v", op.Kind, r)
		}
	}()
	switch op.Kind {
	case OpLoadModel:
		c.Model, c.Err = rt.Load(op.path, op.opts)
	case OpLoadWeights:
		c.Timing, c.Err = op.model.LoadWeights(op.GPU, op.pages, op.Start)
	case OpCopyInput:
		bufs := newInputBuffers(rt)
		input, owned, err := decodeInput(op, bufs)
		if c.Err = err; err == nil {
			c.IO, c.Timing, c.Err = op.model.CopyInput(op.GPU, op.batch, op.padded, input, op.Start)
		}
		if owned {
			// Every runtime copies the input before CopyInput returns
			// (to the GPU, into pinned memory, or its IO buffer).
			bufs.put(input)
		}
	case OpExec:
		io := op.io
		if io == nil {
			// Without an input stage the exec stage stages the (unread)
			// input itself.
			if io, _, c.Err = op.model.CopyInput(op.GPU, op.batch, op.padded, nil, op.Start); c.Err != nil {
				return c
			}
			defer op.model.Release(op.GPU, io)
		}
		c.Exec, c.Err = op.model.Exec(op.GPU, io, op.pages, op.Start)
	case OpCopyOutput:
		if op.outLen > 0 {
			// Overwritten whole; Server.send gives it back once written.
			c.Output = wire.GetBuffer(op.outLen)
		}
		c.Timing, c.Err = op.model.CopyOutput(op.GPU, op.io, c.Output, op.Start)
		op.model.Release(op.GPU, op.io)
	case OpRelease:
		op.model.Release(op.GPU, op.io)
	default:
		c.Err = fmt.Errorf("unknown operation %d", op.Kind)
	}
	return c
}

// Complete hands the engine the completion of one of its operations at now.
func (e *Engine) Complete(now int64, c *Completion) {
	switch c.Op.Kind {
	case OpLoadModel:
		e.completeLoadModel(now, c)
	case OpLoadWeights:
		e.completeLoadWeights(now, c)
	case OpCopyInput:
		e.completeCopyInput(now, c)
	case OpExec:
		e.completeExec(now, c)
	case OpCopyOutput:
		e.completeCopyOutput(now, c)
	}
}
