package schedtest

import (
	"bytes"
	"maps"
	"slices"
	"testing"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/telemetry"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Factory builds the scheduler under test.
type Factory func(scheduler.Config, *scheduler.State) (scheduler.Scheduler, error)

// Harness scripts a scheduler's events in virtual time and records its
// decisions. Time only moves forward, through At and After; every event
// happens at the current time. Transmissions are acknowledged at once
// unless ManualAck is called.
type Harness struct {
	T      testing.TB
	D      *Driver
	State  *scheduler.State
	Config scheduler.Config

	Sends    []Sent                   // every action sent, in order
	Answers  []Answer                 // every response, in order
	Actions  []telemetry.ActionRecord // every action telemetry record
	Requests []*scheduler.Request     // every request admitted

	log    bytes.Buffer
	nextID int32
}

// Sent is an action the scheduler sent, and when.
type Sent struct {
	At int64
	scheduler.Send
}

// Answer is a response, and when it was returned.
type Answer struct {
	At int64
	scheduler.Response
}

// New builds a scheduler with mk for the cluster st and wraps it in a
// harness; the scheduler's console goes to the harness's Log unless
// cfg.Log is set.
func New(t testing.TB, mk Factory, cfg scheduler.Config, st *scheduler.State) *Harness {
	t.Helper()
	h := &Harness{T: t, State: st}
	if cfg.Log == nil {
		cfg.Log = &h.log
	}
	h.Config = cfg
	s, err := mk(cfg, st)
	if err != nil {
		t.Fatalf("creating the scheduler: %v", err)
	}
	h.D = &Driver{
		S:          s,
		OnSend:     func(at int64, s scheduler.Send) { h.Sends = append(h.Sends, Sent{at, s}) },
		OnResponse: func(at int64, r *scheduler.Response) { h.Answers = append(h.Answers, Answer{at, *r}) },
		OnAction:   func(_ int64, r *telemetry.ActionRecord) { h.Actions = append(h.Actions, *r) },
	}
	return h
}

// Log returns the scheduler's console output so far.
func (h *Harness) Log() string { return h.log.String() }

// Now is the current virtual time.
func (h *Harness) Now() int64 { return h.D.Now }

// WithSim lets sim play the workers.
func (h *Harness) WithSim(sim *Sim) *Harness {
	h.D.Sim = sim
	return h
}

// ManualAck stops acknowledging transmissions; use Ack.
func (h *Harness) ManualAck() *Harness {
	h.D.ManualAck = true
	return h
}

// At advances time to t, running everything due on the way.
func (h *Harness) At(t int64) *Harness {
	h.T.Helper()
	if t < h.D.Now {
		h.T.Fatalf("At(%d): time is already %d", t, h.D.Now)
	}
	h.D.RunUntil(t)
	h.check()
	return h
}

// After advances time by d.
func (h *Harness) After(d int64) *Harness {
	h.T.Helper()
	return h.At(h.D.Now + d)
}

func (h *Harness) check() {
	h.T.Helper()
	if h.D.Err != nil {
		h.T.Fatal(h.D.Err)
	}
}

// A RequestOption adjusts a request before it is admitted.
type RequestOption func(*scheduler.Request)

// SLOFactor sets the request's slo_factor.
func SLOFactor(f float32) RequestOption { return func(r *scheduler.Request) { r.SLOFactor = f } }

// Tag sets the request's tag (the driver's: here, which client sent it).
func Tag(v any) RequestOption { return func(r *scheduler.Request) { r.Tag = v } }

// Input sets the request's input.
func Input(b []byte) RequestOption { return func(r *scheduler.Request) { r.Input = b } }

// Infer admits a request for model now.
func (h *Harness) Infer(model int, opts ...RequestOption) *scheduler.Request {
	h.T.Helper()
	r := h.request(model, opts)
	h.D.Infer(r)
	h.check()
	return r
}

// InferN admits n requests for model now, together, so the scheduler sees
// them all before deciding anything.
func (h *Harness) InferN(model, n int, opts ...RequestOption) []*scheduler.Request {
	h.T.Helper()
	rs := make([]*scheduler.Request, n)
	for i := range rs {
		rs[i] = h.request(model, opts)
		rs[i].Arrival = h.D.Now
		h.D.S.Infer(h.D.Now, rs[i])
	}
	h.D.Flush()
	h.check()
	return rs
}

func (h *Harness) request(model int, opts []RequestOption) *scheduler.Request {
	r := &scheduler.Request{UserRequestID: h.nextID, ModelID: model, BatchSize: 1}
	h.nextID++
	for _, o := range opts {
		o(r)
	}
	h.Requests = append(h.Requests, r)
	return r
}

// Succeed delivers, now, the successful result of s: an Infer whose exec
// took d and just ended at 1380 MHz, with an output of the model's size per
// item when it had inputs; a load that took d; an eviction.
func (h *Harness) Succeed(s Sent, d int64) {
	h.T.Helper()
	h.SucceedAtClock(s, d, 1380)
}

// SucceedAtClock is Succeed for a GPU running at clock MHz.
func (h *Harness) SucceedAtClock(s Sent, d int64, clock uint32) {
	h.T.Helper()
	now := uint64(h.D.Now)
	timing := workerapi.Timing{Begin: now - uint64(d), End: now, Duration: uint64(d)}
	var res workerapi.Result
	switch a := s.Action.(type) {
	case *workerapi.Infer:
		var out []byte
		if a.InputLen() > 0 {
			out = make([]byte, int(h.model(s.Worker, int(a.ModelID)).OutputSize)*int(a.BatchSize))
			for i := range out {
				out[i] = byte(i)
			}
		}
		res = &workerapi.InferResult{ID: a.ID, GPU: a.GPU, Exec: timing, GPUClockBefore: clock, GPUClock: clock,
			CopyOutput: workerapi.Timing{Begin: now, End: now}, ActionReceived: now - uint64(d), ResultSent: now, Output: out}
	case *workerapi.LoadWeights:
		res = &workerapi.LoadWeightsResult{ID: a.ID, Timing: timing, ActionReceived: now - uint64(d), ResultSent: now}
	case *workerapi.EvictWeights:
		res = &workerapi.EvictWeightsResult{ID: a.ID, Timing: workerapi.Timing{Begin: now, End: now}, ActionReceived: now, ResultSent: now}
	default:
		h.T.Fatalf("cannot succeed %T", a)
	}
	h.Result(s.Worker, res)
}

// Fail delivers, now, a worker's error result for s.
func (h *Harness) Fail(s Sent, code int32, message string) {
	h.T.Helper()
	now := uint64(h.D.Now)
	h.Result(s.Worker, &workerapi.ErrorResult{ID: s.Action.ActionID(), ActionType: s.Action.Type(),
		Code: code, Message: message, ActionReceived: now, ResultSent: now})
}

// Result hands the scheduler a worker's result now.
func (h *Harness) Result(worker int, res workerapi.Result) {
	h.T.Helper()
	h.ResultAt(h.D.Now, worker, res)
}

// ResultAt hands the scheduler, now, a worker's result that reached the
// controller at received (and waited in its queue since).
func (h *Harness) ResultAt(received int64, worker int, res workerapi.Result) {
	h.T.Helper()
	h.D.Deliver(received, worker, res)
	h.check()
}

// WorkerLost reports, now, that the connection to worker is gone.
func (h *Harness) WorkerLost(worker int) {
	h.T.Helper()
	h.D.WorkerLost(worker)
	h.check()
}

// ClientGone reports, now, that the client whose requests carry tag has
// disconnected.
func (h *Harness) ClientGone(tag any) {
	h.T.Helper()
	h.D.ClientGone(func(r *scheduler.Request) bool { return r.Tag == tag })
	h.check()
}

// WorkerRejoined reports, now, that a lost worker is back, listing the
// GPUs that are keys of gpus (as at the start, State; an id the worker did
// not have is a new GPU of its first GPU's size, added to State), each
// holding the models its value lists.
func (h *Harness) WorkerRejoined(worker int, gpus map[int][]int) {
	h.T.Helper()
	known := &h.State.Workers[worker]
	for _, id := range slices.Sorted(maps.Keys(gpus)) {
		if known.GPU(id) == nil { // a GPU it did not have before, sized as its first
			known.GPUs = append(known.GPUs, scheduler.GPU{ID: id, TotalPages: known.GPUs[0].TotalPages})
		}
	}
	w := *known
	w.GPUs = nil
	for _, g := range known.GPUs {
		if resident, ok := gpus[g.ID]; ok {
			g.LoadedModels = resident
			w.GPUs = append(w.GPUs, g)
		}
	}
	h.D.WorkerRejoined(&w)
	h.check()
}

// Ack reports, now, that the transmission of s ended, failed if err is set.
func (h *Harness) Ack(s Sent, err error) {
	h.T.Helper()
	h.D.Ack(s.Send, err)
	h.check()
}

func (h *Harness) model(worker, id int) *scheduler.Model {
	for i := range h.State.Workers[worker].Models {
		if m := &h.State.Workers[worker].Models[i]; m.ID == id {
			return m
		}
	}
	h.T.Fatalf("worker %d has no model %d", worker, id)
	return nil
}

// Infers returns the Infer actions sent, in order.
func (h *Harness) Infers() []Sent { return h.sendsOf(workerapi.InferType) }

// Loads returns the LoadWeights actions sent, in order.
func (h *Harness) Loads() []Sent { return h.sendsOf(workerapi.LoadWeightsType) }

// Evicts returns the EvictWeights actions sent, in order.
func (h *Harness) Evicts() []Sent { return h.sendsOf(workerapi.EvictWeightsType) }

func (h *Harness) sendsOf(t workerapi.ActionType) []Sent {
	var out []Sent
	for _, s := range h.Sends {
		if s.Action.Type() == t {
			out = append(out, s)
		}
	}
	return out
}

// Infer returns the action as an Infer, or nil.
func (s Sent) Infer() *workerapi.Infer { a, _ := s.Action.(*workerapi.Infer); return a }

// Load returns the action as a LoadWeights, or nil.
func (s Sent) Load() *workerapi.LoadWeights { a, _ := s.Action.(*workerapi.LoadWeights); return a }

// Evict returns the action as an EvictWeights, or nil.
func (s Sent) Evict() *workerapi.EvictWeights { a, _ := s.Action.(*workerapi.EvictWeights); return a }

// GPU is the worker-local GPU the action names (Infer, LoadWeights or
// EvictWeights), or −1.
func (s Sent) GPU() int {
	if g, ok := s.Action.(workerapi.OnGPU); ok {
		return int(g.GPUID())
	}
	return -1
}

// Answer returns r's response, if it has one.
func (h *Harness) Answer(r *scheduler.Request) (Answer, bool) {
	for _, a := range h.Answers {
		if a.Req == r {
			return a, true
		}
	}
	return Answer{}, false
}

// MustAnswer returns r's response, failing the test unless it has exactly
// one.
func (h *Harness) MustAnswer(r *scheduler.Request) Answer {
	h.T.Helper()
	var found []Answer
	for _, a := range h.Answers {
		if a.Req == r {
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		h.T.Fatalf("request %d has %d responses, want 1", r.UserRequestID, len(found))
	}
	return found[0]
}

// CheckExactlyOnce fails the test unless every request admitted so far has
// been answered exactly once, and nothing else was answered.
func (h *Harness) CheckExactlyOnce() {
	h.T.Helper()
	count := make(map[*scheduler.Request]int, len(h.Requests))
	for _, a := range h.Answers {
		count[a.Req]++
	}
	for _, r := range h.Requests {
		if n := count[r]; n != 1 {
			h.T.Errorf("request %d (model %d, arrived %d) answered %d times", r.UserRequestID, r.ModelID, r.Arrival, n)
		}
		delete(count, r)
	}
	for r := range count {
		h.T.Errorf("response to a request never admitted: %+v", r)
	}
}
