package infer5

import (
	"fmt"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/telemetry"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Result implements scheduler.Scheduler. Results for actions the scheduler
// no longer awaits (late, duplicated, unknown, or from the wrong worker) are
// logged and ignored. Response outputs are slices of an InferResult's
// Output, not copies.
func (s *Scheduler) Result(now, received int64, worker int, res workerapi.Result) {
	s.setNow(now)
	received = min(received, s.now)
	if res == nil {
		return
	}
	a := s.inflight[res.ActionID()]
	if a == nil {
		if late := s.givenUp[res.ActionID()]; late != nil {
			s.lateLoad(worker, late, res)
			return
		}
		fmt.Fprintf(s.log, "Ignoring result from worker %d for an action not awaited: %s\n", worker, workerapi.Brief(res))
		return
	}
	if a.g.worker != worker {
		fmt.Fprintf(s.log, "Ignoring result from worker %d for action %d, sent to worker %d\n", worker, a.id, a.g.worker)
		return
	}
	switch r := res.(type) {
	case *workerapi.ErrorResult:
		if r != nil {
			s.failed(a, r, received)
			return
		}
	case *workerapi.InferResult:
		if r != nil && a.kind == workerapi.InferType {
			s.inferDone(a, r, received)
			return
		}
	case *workerapi.LoadWeightsResult:
		if r != nil && a.kind == workerapi.LoadWeightsType {
			s.loadDone(a, r, received)
			return
		}
	case *workerapi.EvictWeightsResult:
		if r != nil && a.kind == workerapi.EvictWeightsType {
			s.evictDone(a, r, received)
			return
		}
	}
	s.fail(a, workerapi.ErrRuntimeError, fmt.Sprintf("Unexpected %s result for %s action", res.Type(), a.kind), received)
}

// fail ends a with an error the scheduler determined itself, at time at.
func (s *Scheduler) fail(a *action, code int32, message string, at int64) {
	s.failed(a, &workerapi.ErrorResult{
		ID: a.id, ActionType: a.kind, Code: code, Message: message,
		ActionReceived: uint64(at), ResultSent: uint64(at),
	}, at)
}

// failed ends a with error e, received at received. Every request of a
// failed Infer gets the worker's status and message.
func (s *Scheduler) failed(a *action, e *workerapi.ErrorResult, received int64) {
	delete(s.inflight, a.id)
	code := e.Code
	if code == workerapi.Success { // an error must not look like a success
		code = workerapi.ErrRuntimeError
	}
	g, m := a.g, a.m
	switch a.kind {
	case workerapi.InferType:
		g.exec.error(a.id, s.now)
		for _, q := range a.reqs {
			s.respond(q, code, e.Message, nil)
			s.tracker.completed(m.id, &q.demand, g.idx)
		}
		s.markCandidate(g)
	case workerapi.LoadWeightsType:
		// The original compared versions with an assignment, so it always
		// gave the instance up; only the load it belongs to may.
		if inst := a.inst; inst.version == a.version && inst.loading {
			inst.version++
			inst.loading = false
			g.free += m.pages
			s.tracker.loadComplete(m.id, g.idx, false)
		}
		g.pcie.error(a.id, s.now)
		g.loads--
	case workerapi.EvictWeightsType:
		// The pages were reclaimed when the eviction was decided; the
		// original crashes here instead.
		fmt.Fprintf(s.log, "EvictWeights of model %d on W%d-GPU%d failed: %d %s\n", m.id, g.worker, g.local, code, e.Message)
	}
	r := s.record(a, code, received)
	r.WorkerActionReceived, r.WorkerResultSent = int64(e.ActionReceived), int64(e.ResultSent)
	s.records = append(s.records, r)
	s.noteUnusable(a, e)
}

// reported is a completion time a worker reported, at most now: a time
// ahead of the controller's (a worker's clock set wrong, or a bug) would
// hold its GPU's trackers busy until then, and no work would go to the GPU
// meanwhile.
func (s *Scheduler) reported(end int64) int64 { return min(end, s.now) }

func (s *Scheduler) inferDone(a *action, res *workerapi.InferResult, received int64) {
	delete(s.inflight, a.id)
	g, m := a.g, a.m
	g.exec.success(a.id, s.reported(int64(res.Exec.End)))
	g.exec.setClock(res.GPUClock)
	m.measure(a.batchIdx, int64(res.Exec.Duration), scheduler.MeasuredClock(int64(res.GPUClockBefore), int64(res.GPUClock)), s.now)

	// Outputs are split evenly; clients whose inputs the controller made
	// up get none.
	per := 0
	if !a.generated {
		per = len(res.Output) / len(a.reqs)
	}
	good := 0
	for i, q := range a.reqs {
		var out []byte
		if per > 0 {
			out = res.Output[i*per : (i+1)*per : (i+1)*per]
		}
		if s.respond(q, workerapi.Success, "", out) && s.now <= q.realDeadline {
			good++
		}
		s.tracker.completed(m.id, &q.demand, g.idx)
	}
	s.markCandidate(g)

	r := s.record(a, workerapi.Success, received)
	r.WorkerDuration = int64(res.Exec.Duration)
	r.WorkerExecComplete = int64(res.Exec.End)
	r.WorkerGPUClockBefore, r.WorkerGPUClock = int(res.GPUClockBefore), int(res.GPUClock)
	r.WorkerCopyOutputEnd = int64(res.CopyOutput.End)
	r.WorkerActionReceived, r.WorkerResultSent = int64(res.ActionReceived), int64(res.ResultSent)
	r.GoodputFraction = float64(good) / float64(len(a.reqs))
	s.records = append(s.records, r)
}

func (s *Scheduler) loadDone(a *action, res *workerapi.LoadWeightsResult, received int64) {
	delete(s.inflight, a.id)
	g, m, inst := a.g, a.m, a.inst
	if inst.version == a.version && inst.loading {
		inst.loading = false
		inst.loaded = true
		m.addLoaded(inst)
		s.tracker.loadComplete(m.id, g.idx, true)
		s.activate(inst)
	}
	g.pcie.success(a.id, s.reported(int64(res.Timing.End)))
	g.loads--
	m.measureWeights(int64(res.Timing.Duration))

	r := s.record(a, workerapi.Success, received)
	r.WorkerDuration, r.WorkerExecComplete = int64(res.Timing.Duration), int64(res.Timing.End)
	r.WorkerActionReceived, r.WorkerResultSent = int64(res.ActionReceived), int64(res.ResultSent)
	r.GoodputFraction = 1
	s.records = append(s.records, r)
}

func (s *Scheduler) evictDone(a *action, res *workerapi.EvictWeightsResult, received int64) {
	delete(s.inflight, a.id)
	r := s.record(a, workerapi.Success, received)
	r.WorkerDuration = int64(res.Timing.Duration)
	r.WorkerActionReceived, r.WorkerResultSent = int64(res.ActionReceived), int64(res.ResultSent)
	r.GoodputFraction = 1
	s.records = append(s.records, r)
}

// record starts the telemetry of a's completion.
func (s *Scheduler) record(a *action, status int32, received int64) telemetry.ActionRecord {
	batch := 1
	if a.kind == workerapi.InferType {
		batch = len(a.reqs)
	}
	return telemetry.ActionRecord{
		ActionID: a.id, ActionType: int(a.kind), Status: status,
		Worker: a.g.worker, GPU: a.g.local, ModelID: a.m.id, BatchSize: batch,
		ExpectedDuration: a.expDuration, ExpectedExecComplete: a.expComplete, ExpectedGPUClock: a.expClock,
		Sent: a.sent, ResultReceived: received, Processed: s.now,
		RequestsQueued: a.requestsQueued, CopiesLoaded: a.copiesLoaded,
	}
}
