package controller

import (
	"fmt"
	"io"
	"slices"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// direct is the original's DIRECT controller: no startup phase and no
// scheduling; each client request goes to worker 0 as it arrives.
//
//   - LoadRemoteModel becomes a LoadModelFromDisk on worker 0, model ids
//     given out in order.
//   - Infer goes to GPU (request id + 1) mod GPUs of worker 0 (the
//     original: GPU 1 for even request ids, GPU 0 for odd ones), after a
//     LoadWeights the first time its model is used on that GPU. Every
//     action's window is 10 s.
//   - Every request, action and answer is printed.
//
// Where it differs from the original (README): it first asks worker 0 its
// state, so that it knows its GPUs (the original assumed two), the models
// it holds and their resident weights (new ids follow them); LS lists
// worker 0's models (the original answered status 1, so its clients'
// workloads could not run through DIRECT); Evict and UploadModel are
// refused with status 6 (the original answered an empty success without
// doing anything); an Infer waits for its weights' LoadWeights to answer
// (the original sent it at once, to start 7 ms later, its guess at the
// load's time, so it failed with status 82 wherever a load took longer);
// an Infer's input is sent as one LZ4 item, as the
// schedulers send it (the original sent the compressed input as a raw
// body, which workers refuse); a model load has no latest start (its 10 s
// failed loads queued behind slow ones); requests while worker 0 is lost
// are answered status 1, and it is dialled again; a worker 0 that owes its
// state 30 s (stateSilence) has its connection closed, and so counts as
// lost, where its requests were held for ever.
type direct struct {
	out      io.Writer
	send     func(worker int, a workerapi.Action)
	refuse   func() // closes worker 0's connection (may be nil)
	maxBatch uint32
	maxExec  uint64

	// state is worker 0's, once it answered; requests are held until then.
	state *workerapi.WorkerMemoryInfo
	held  []heldRequest
	down  error // worker 0's connection is lost
	asked int64 // when its state was asked
	hung  bool  // its connection closed for its silence, the loss not yet come through

	models  map[uint32]clientapi.ModelInfo // what LS lists
	weights map[[2]int]*directWeights      // by (model, GPU index): resident or loading
	ids     modelIDs
	seq     actionIDs
	pending map[int32]directCall
}

// directCall is an action sent to worker 0 and what to do with its result.
type directCall struct {
	typ  workerapi.ActionType
	done func(now int64, res workerapi.Result)
}

// directWeights are a model's weights on a GPU, resident or loading.
type directWeights struct {
	// waiting, non-nil while the weights load, are the Infers sent once
	// the load succeeds, or failed with its error.
	waiting []func(now int64, loadErr *workerapi.ErrorResult)
}

const directWindow = int64(10e9) // actions' latest start, after they are sent

func newDirect(out io.Writer, send func(int, workerapi.Action), maxBatch uint32, maxExec uint64) *direct {
	return &direct{out: out, send: send, maxBatch: maxBatch, maxExec: maxExec,
		models: make(map[uint32]clientapi.ModelInfo), weights: make(map[[2]int]*directWeights), pending: make(map[int32]directCall)}
}

func (d *direct) begin(now int64) {
	fmt.Fprintln(d.out, "DIRECT: every request goes to worker 0, unscheduled")
	d.askState(now)
}

func (d *direct) askState(now int64) {
	d.asked, d.hung = now, false
	d.call(now, &workerapi.GetWorkerState{ID: d.seq.next()}, d.gotState)
}

// call prints and sends a to worker 0; done gets its result.
func (d *direct) call(now int64, a workerapi.Action, done func(int64, workerapi.Result)) {
	d.pending[a.ActionID()] = directCall{typ: a.Type(), done: done}
	fmt.Fprintf(d.out, "Worker <-  %s\n", a.Describe(uint64(now)))
	d.send(0, a)
}

func (d *direct) result(now int64, worker int, res workerapi.Result) error {
	c, ok := d.pending[res.ActionID()]
	if worker != 0 || !ok {
		fmt.Fprintf(d.out, "Ignoring result for unknown action from worker %d: %s\n", worker, workerapi.Brief(res))
		return nil
	}
	delete(d.pending, res.ActionID())
	fmt.Fprintf(d.out, "Worker  -> %s\n", res)
	c.done(now, res)
	return nil
}

// gotState takes worker 0's state and serves the requests held for it.
func (d *direct) gotState(now int64, res workerapi.Result) {
	st, ok := res.(*workerapi.GetWorkerStateResult)
	if !ok {
		// Not an answer our workers give; without GPUs nothing can run.
		st = &workerapi.GetWorkerStateResult{}
		fmt.Fprintf(d.out, "DIRECT: worker 0 did not give its state (%s); inferences will fail\n", res)
	}
	d.state = &st.Memory
	for _, m := range d.state.Models {
		d.models[uint32(m.ID)] = clientapi.ModelInfo{ModelID: uint32(m.ID), Path: m.Source, InputSize: m.InputSize, OutputSize: m.OutputSize}
		d.ids.reserve(int(m.ID) + 1)
	}
	for i, g := range d.state.GPUs {
		for _, m := range g.Models {
			d.weights[[2]int{int(m), i}] = &directWeights{}
		}
	}
	held := d.held
	d.held = nil
	for _, h := range held {
		d.request(now, h.req, h.reply)
	}
}

func (d *direct) request(now int64, req clientapi.Request, r reply) {
	if d.state == nil && d.down == nil {
		d.held = append(d.held, heldRequest{req: req, reply: r, arrived: now})
		return
	}
	fmt.Fprintf(d.out, "Client  -> %s\n", req)
	h := req.Head()
	if d.down != nil {
		d.respond(r, bounceResponse(req, errHeader(h, clientapi.StatusError, fmt.Sprintf("worker 0 is lost: %v", d.down))))
		return
	}
	switch req := req.(type) {
	case *clientapi.InferRequest:
		d.infer(now, req, r)
	case *clientapi.LoadModelRequest:
		d.load(now, req, r)
	case *clientapi.LSRequest:
		rsp := &clientapi.LSResponse{ResponseHeader: clientapi.ResponseHeader{UserRequestID: h.UserRequestID}}
		for _, m := range d.models {
			rsp.Models = append(rsp.Models, m)
		}
		sortModels(rsp.Models)
		d.respond(r, rsp)
	default:
		d.respond(r, refuseWeights(req, "the DIRECT controller"))
	}
}

func (d *direct) respond(r reply, rsp clientapi.Response) {
	fmt.Fprintf(d.out, "Client <-  %s\n", rsp)
	r(rsp)
}

func (d *direct) infer(now int64, req *clientapi.InferRequest, r reply) {
	rsp := &clientapi.InferResponse{ResponseHeader: clientapi.ResponseHeader{UserRequestID: req.UserRequestID},
		ModelID: req.ModelID, BatchSize: 1}
	n := int64(len(d.state.GPUs))
	m, known := d.models[req.ModelID]
	switch {
	case n == 0:
		rsp.Status, rsp.Message = clientapi.StatusError, "worker 0 has no GPUs"
	case !known: // the original sent it on, as model -1 past 2^31
		rsp.Status, rsp.Message = clientapi.StatusError, "Invalid model ID"
	default:
		// Checked as the schedulers' requests are (the original sent
		// anything on, which the dummy answered with success).
		if msg := badInputOf(m.InputSize, int(req.ModelID), req.Input); msg != "" {
			rsp.Status, rsp.Message = clientapi.StatusInvalidRequest, msg
		}
	}
	if rsp.Status != 0 {
		d.respond(r, rsp)
		return
	}
	gpu := int(((int64(req.UserRequestID)+1)%n + n) % n)
	gpuID := uint32(d.state.GPUs[gpu].ID)
	key := [2]int{int(req.ModelID), gpu}
	send := func(now int64, loadErr *workerapi.ErrorResult) {
		if loadErr != nil {
			rsp.Status, rsp.Message = clientapi.StatusError, loadErr.Message
			d.respond(r, rsp)
			return
		}
		in := &workerapi.Infer{ID: d.seq.next(), ModelID: int32(req.ModelID), GPU: gpuID, BatchSize: 1,
			Earliest: uint64(now), Latest: uint64(now + directWindow),
			InputSizes: []uint32{uint32(len(req.Input))}, Input: req.Input}
		d.call(now, in, func(_ int64, res workerapi.Result) {
			switch res := res.(type) {
			case *workerapi.InferResult:
				rsp.Output = res.Output
			case *workerapi.ErrorResult:
				rsp.Status, rsp.Message = clientapi.StatusError, res.Message
			default:
				rsp.Status, rsp.Message = clientapi.StatusError, "Internal Controller Error"
			}
			d.respond(r, rsp)
		})
	}
	w := d.weights[key]
	switch {
	case w == nil:
		w = &directWeights{waiting: []func(int64, *workerapi.ErrorResult){send}}
		d.weights[key] = w
		lw := &workerapi.LoadWeights{ID: d.seq.next(), ModelID: int32(req.ModelID), GPU: gpuID,
			Earliest: uint64(now), Latest: uint64(now + directWindow)}
		d.call(now, lw, func(now int64, res workerapi.Result) { d.loaded(now, key, w, res) })
	case w.waiting != nil:
		w.waiting = append(w.waiting, send)
	default:
		send(now, nil)
	}
}

// loaded takes the answer to the LoadWeights of w (model and GPU key)
// and sends the Infers that waited for it, or fails them.
func (d *direct) loaded(now int64, key [2]int, w *directWeights, res workerapi.Result) {
	var loadErr *workerapi.ErrorResult
	switch res := res.(type) {
	case *workerapi.LoadWeightsResult:
	case *workerapi.ErrorResult:
		loadErr = res
	default:
		loadErr = &workerapi.ErrorResult{Message: "Internal Controller Error"}
	}
	if loadErr != nil && d.weights[key] == w {
		delete(d.weights, key) // the next Infer loads them again
	}
	waiting := w.waiting
	w.waiting = nil
	for _, send := range waiting {
		send(now, loadErr)
	}
}

func (d *direct) load(now int64, req *clientapi.LoadModelRequest, r reply) {
	fail := func(status int32, msg string) {
		d.respond(r, &clientapi.LoadModelResponse{ResponseHeader: errHeader(req.Head(), status, msg)})
	}
	if msg := badLoad(req); msg != "" {
		fail(clientapi.StatusInvalidRequest, msg)
		return
	}
	// A failed load gives its ids back (the original used them up, and
	// its ids were not bounded; a worker takes ids below
	// workerapi.MaxModels).
	first, ok := d.ids.take(int(req.Copies))
	if !ok {
		fail(clientapi.StatusInvalidRequest, fmt.Sprintf("no_of_copies %d: a worker serves at most %d models, and %d more may be asked for",
			req.Copies, workerapi.MaxModels, d.ids.room()))
		return
	}
	a := &workerapi.LoadModelFromDisk{ID: d.seq.next(), ModelID: int32(first), Path: req.Path, Copies: req.Copies,
		Latest: workerapi.NoLatest, MaxBatchSize: d.maxBatch, MaxExecDuration: d.maxExec}
	d.call(now, a, func(_ int64, res workerapi.Result) {
		switch res := res.(type) {
		case *workerapi.LoadModelFromDiskResult:
			if res.CopiesCreated != req.Copies {
				fail(clientapi.StatusError, fmt.Sprintf("the worker created %d copies of the %d asked for", res.CopiesCreated, req.Copies))
				return
			}
			for id := first; id < first+int(req.Copies); id++ {
				d.models[uint32(id)] = clientapi.ModelInfo{ModelID: uint32(id), Path: req.Path, InputSize: res.InputSize, OutputSize: res.OutputSize}
			}
			d.respond(r, &clientapi.LoadModelResponse{ResponseHeader: clientapi.ResponseHeader{UserRequestID: req.UserRequestID},
				ModelID: uint32(first), InputSize: res.InputSize, OutputSize: res.OutputSize, CopiesCreated: res.CopiesCreated})
		case *workerapi.ErrorResult: // the worker created none of them
			d.ids.give(first, int(req.Copies))
			fail(clientapi.StatusError, res.Message)
		default:
			fail(clientapi.StatusError, "Internal Controller Error")
		}
	})
}

// lost fails everything worker 0 was asked; requests get status 1 until
// it is back.
func (d *direct) lost(now int64, worker int, err error) {
	if worker != 0 {
		return
	}
	d.down = err
	ids := make([]int32, 0, len(d.pending))
	for id := range d.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids) // answer in the order asked
	for _, id := range ids {
		c := d.pending[id]
		delete(d.pending, id)
		c.done(now, lostResult(id, c.typ, err))
	}
	held := d.held
	d.held = nil
	for _, h := range held {
		d.request(now, h.req, h.reply)
	}
}

// back starts over with worker 0 dialled again: it may be another process,
// so its state is asked again and no weights are assumed.
func (d *direct) back(now int64, worker int) {
	if worker != 0 {
		return
	}
	d.down, d.state = nil, nil
	clear(d.weights)
	clear(d.models)
	d.askState(now)
}

// tick closes the connection of a worker 0 that has owed its state
// stateSilence.
func (d *direct) tick(now int64) int64 {
	if d.state != nil || d.down != nil || d.hung || d.refuse == nil {
		return 0
	}
	if until := d.asked + stateSilence; now < until {
		return until
	}
	fmt.Fprintf(d.out, "DIRECT: worker 0 has not answered its state for %d s\n", (now-d.asked)/1e9)
	d.hung = true
	d.refuse()
	return 0
}
