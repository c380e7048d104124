package baseline

import (
	"fmt"
	"math"
	"slices"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/telemetry"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

func (s *Scheduler) newAction(kind workerapi.ActionType, g *gpu, m *model) *action {
	a := &action{id: s.nextID, kind: kind, g: g, m: m, sent: s.now, queued: len(m.queue), copies: len(m.resident)}
	s.nextID++
	return a
}

func (s *Scheduler) send(a *action) {
	s.inflight[a.id] = a
	s.sends = append(s.sends, scheduler.Send{Worker: a.g.worker, Action: a.wire})
}

// Sent implements scheduler.Scheduler.
func (s *Scheduler) Sent(now int64, worker int, id int32, err error) {
	s.setNow(now)
	a := s.inflight[id]
	switch {
	case a == nil:
	case err != nil:
		s.fail(a, workerapi.NetworkSendTooLate, "Could not send action to worker: "+err.Error())
	default:
		a.due = max(s.now+a.expDuration, a.expEnd) + resultTimeout
		s.overdue = append(s.overdue, a)
	}
}

// maxGivenUp bounds the loads given up on whose results are still
// watched for (lateLoad); results that never come are forgotten so.
const maxGivenUp = 4096

// lateLoad handles the result of a LoadWeights given up on, as INFER5
// does: if it succeeded, the worker holds the weights in pages counted
// free here, so they are evicted, unless the model is resident or loading
// there again (which takes the same pages).
func (s *Scheduler) lateLoad(worker int, a *action, res workerapi.Result) {
	delete(s.givenUp, a.id)
	fmt.Fprintf(s.log, "Late result from worker %d for action %d, given up on: %s\n", worker, a.id, res)
	g, m := a.g, a.m
	if _, ok := res.(*workerapi.LoadWeightsResult); !ok || g.worker != worker || g.down || slices.Contains(g.models, m) {
		return
	}
	s.send(s.evictAction(g, m))
}

// giveUpOnLostResults fails transmitted actions whose result is overdue.
func (s *Scheduler) giveUpOnLostResults() {
	kept := s.overdue[:0]
	for _, a := range s.overdue {
		switch {
		case s.inflight[a.id] != a:
		case a.due <= s.now:
			fmt.Fprintf(s.log, "No result from worker %d for action %d; giving up on it\n", a.g.worker, a.id)
			s.fail(a, clientapi.StatusTimeout, "Worker did not return a result in time")
			if a.kind == workerapi.LoadWeightsType {
				if s.givenUp == nil || len(s.givenUp) >= maxGivenUp {
					s.givenUp = make(map[int32]*action)
				}
				s.givenUp[a.id] = a
			}
		default:
			kept = append(kept, a)
		}
	}
	clear(s.overdue[len(kept):])
	s.overdue = kept
}

// Result implements scheduler.Scheduler.
func (s *Scheduler) Result(now, received int64, worker int, res workerapi.Result) {
	s.setNow(now)
	received = min(received, s.now)
	if res == nil {
		return
	}
	a := s.inflight[res.ActionID()]
	if late := s.givenUp[res.ActionID()]; a == nil && late != nil {
		s.lateLoad(worker, late, res)
		return
	}
	if a == nil || a.g.worker != worker {
		fmt.Fprintf(s.log, "Ignoring result from worker %d for an action not awaited: %s\n", worker, workerapi.Brief(res))
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
			delete(s.inflight, a.id)
			rec := s.record(a, 0, received)
			rec.WorkerDuration = int64(r.Timing.Duration)
			rec.WorkerActionReceived, rec.WorkerResultSent = int64(r.ActionReceived), int64(r.ResultSent)
			rec.GoodputFraction = 1
			s.records = append(s.records, rec)
			return
		}
	}
	s.fail(a, workerapi.ErrRuntimeError, fmt.Sprintf("Unexpected %s result for %s action", res.Type(), a.kind))
}

// fail ends a with an error the scheduler determined itself, now.
func (s *Scheduler) fail(a *action, code int32, message string) {
	s.failed(a, &workerapi.ErrorResult{
		ID: a.id, ActionType: a.kind, Code: code, Message: message,
		ActionReceived: uint64(s.now), ResultSent: uint64(s.now),
	}, s.now)
}

// failed ends a with error e, received at received.
func (s *Scheduler) failed(a *action, e *workerapi.ErrorResult, received int64) {
	delete(s.inflight, a.id)
	code, message := e.Code, e.Message
	if code == workerapi.Success {
		code = workerapi.ErrRuntimeError
	}
	g, m := a.g, a.m
	switch a.kind {
	case workerapi.InferType:
		for _, q := range a.reqs {
			s.respond(q, m, code, message, nil)
		}
		g.busy, g.current = false, nil
	case workerapi.LoadWeightsType:
		if m.loadingOn == g {
			m.loadingOn = nil
			g.models = slices.DeleteFunc(g.models, func(x *model) bool { return x == m })
			g.free += m.pages
			delete(g.unserved, m.id)
			// As a conventional server does, fail the requests waiting for
			// the model; new ones will try loading it again.
			for _, q := range m.queue {
				s.respond(q, m, code, message, nil)
			}
			clear(m.queue)
			m.queue = m.queue[:0]
		}
	case workerapi.EvictWeightsType:
		fmt.Fprintf(s.log, "EvictWeights of model %d on W%d-GPU%d failed: %d %s\n", m.id, g.worker, g.local, code, message)
	}
	rec := s.record(a, code, received)
	rec.WorkerActionReceived, rec.WorkerResultSent = int64(e.ActionReceived), int64(e.ResultSent)
	s.records = append(s.records, rec)
	s.noteUnusable(a, code, message)
}

func (s *Scheduler) inferDone(a *action, res *workerapi.InferResult, received int64) {
	delete(s.inflight, a.id)
	g, m := a.g, a.m
	g.busy, g.current = false, nil
	per := 0
	if !a.generated {
		per = len(res.Output) / len(a.reqs)
	}
	good, slo := 0, int64(math.MaxInt64)
	for i, q := range a.reqs {
		var out []byte
		if per > 0 {
			out = res.Output[i*per : (i+1)*per : (i+1)*per]
		}
		s.respond(q, m, workerapi.Success, "", out)
		if s.now <= q.deadline {
			good++
		}
		slo = min(slo, q.deadline-q.req.Arrival)
	}
	// As Clipper's AIMD does, adapt to how long the batch itself took, not
	// to its requests' queueing: a backlog is no reason for smaller batches.
	m.adapt(s.now-a.sent > slo)

	rec := s.record(a, 0, received)
	rec.WorkerDuration, rec.WorkerExecComplete = int64(res.Exec.Duration), int64(res.Exec.End)
	rec.WorkerGPUClockBefore, rec.WorkerGPUClock = int(res.GPUClockBefore), int(res.GPUClock)
	rec.WorkerCopyOutputEnd = int64(res.CopyOutput.End)
	rec.WorkerActionReceived, rec.WorkerResultSent = int64(res.ActionReceived), int64(res.ResultSent)
	rec.GoodputFraction = float64(good) / float64(len(a.reqs))
	s.records = append(s.records, rec)
}

func (s *Scheduler) loadDone(a *action, res *workerapi.LoadWeightsResult, received int64) {
	delete(s.inflight, a.id)
	g, m := a.g, a.m
	if m.loadingOn == g {
		m.loadingOn = nil
		m.resident = append(m.resident, g)
		s.touch(g, m)
	}
	rec := s.record(a, 0, received)
	rec.WorkerDuration, rec.WorkerExecComplete = int64(res.Timing.Duration), int64(res.Timing.End)
	rec.WorkerActionReceived, rec.WorkerResultSent = int64(res.ActionReceived), int64(res.ResultSent)
	rec.GoodputFraction = 1
	s.records = append(s.records, rec)
}

// respond answers q unless it was answered already.
func (s *Scheduler) respond(q *request, m *model, status int32, message string, output []byte) {
	if q.answered {
		return
	}
	q.answered = true
	s.responses = append(s.responses, scheduler.Response{
		Req: q.req, Status: status, Message: message, Output: output,
		Deadline: q.deadline, Departure: s.now, ArrivalCount: q.arrivalCount, DepartureCount: len(m.resident),
	})
}

// record starts the telemetry of a's completion, whose result reached the
// controller at received.
func (s *Scheduler) record(a *action, status int32, received int64) telemetry.ActionRecord {
	batch := max(len(a.reqs), 1)
	return telemetry.ActionRecord{
		ActionID: a.id, ActionType: int(a.kind), Status: status,
		Worker: a.g.worker, GPU: a.g.local, ModelID: a.m.id, BatchSize: batch,
		ExpectedDuration: a.expDuration, ExpectedExecComplete: a.expEnd, Sent: a.sent, ResultReceived: received, Processed: s.now,
		RequestsQueued: a.queued, CopiesLoaded: a.copies,
	}
}
