package infer5

import (
	"fmt"
	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/scheduler"
)

// request is an admitted inference request.
type request struct {
	req          *scheduler.Request
	model        *model
	seqno        uint64
	deadline     int64 // the scheduling (exec) deadline: arrival + exec_slo
	realDeadline int64 // arrival + slo, reported in the response
	arrivalCount int
	demand       demand
	locked       bool // placed in an action, which now answers it
	answered     bool
	dequeued     bool // INFER4: taken off its model's queue
}

// slos computes a request's SLO (scheduler.SLO) and its internal
// deadlines relative to arrival (spec/controller.md §4.5). The exec SLO aims buffer before the SLO and
// the load-weights SLO leaves room for a load, a b1 execution, buffer and
// schedule_ahead; both are floored at schedule_ahead + buffer, so a tight
// SLO may be served after its reported deadline.
func slos(defaultSLO, scheduleAhead, b1, weights int64, factor float32) (slo, execSLO, weightsSLO int64) {
	slo = scheduler.SLO(defaultSLO, b1, factor)
	floor := scheduleAhead + buffer

	// The original computes min(slo, slo − x) in unsigned arithmetic, where
	// the subtraction wraps when x > slo, leaving slo.
	execSLO = slo
	if slo >= buffer {
		execSLO = slo - buffer
	}
	execSLO = max(execSLO, floor)

	weightsSLO = slo
	if x := weights + b1 + buffer + scheduleAhead; slo >= x {
		weightsSLO = slo - x
	}
	weightsSLO = max(min(weightsSLO, maxLoadWeightsSLO), floor)
	return slo, execSLO, weightsSLO
}

// admit handles a request for a known model: deadlines, demand, queueing,
// and activation of the model on the GPUs holding it.
func (s *Scheduler) admit(r *scheduler.Request, m *model) {
	arrival := r.Arrival
	if arrival == 0 {
		arrival = s.now
	}
	slo, execSLO, weightsSLO := slos(s.cfg.DefaultSLO, s.cfg.ScheduleAhead, m.b1, m.weights, r.SLOFactor)

	q := s.newRequest()
	*q = request{
		req:          r,
		model:        m,
		deadline:     arrival + execSLO,
		realDeadline: arrival + slo,
		arrivalCount: m.copies(),
	}
	q.demand = s.tracker.addRequest(m.id, m.estimate(1, defaultClock), execSLO, weightsSLO)
	s.timeouts.push(q.deadline, q)
	if s.opts.infer4 {
		s.admit4(q, m)
		return
	}
	m.enqueue(q)

	// The original activates the model on every GPU; only GPUs holding its
	// weights can use strategies, and those already active keep theirs.
	for _, inst := range m.loaded {
		s.activate(inst)
	}
}

// newRequest hands out requests from chunks to keep admission cheap.
func (s *Scheduler) newRequest() *request {
	if len(s.slab) == 0 {
		s.slab = make([]request, 256)
	}
	q := &s.slab[0]
	s.slab = s.slab[1:]
	return q
}

// expire answers, with status 4, every request whose exec deadline has come
// without it being placed in an action. Such requests stay in their model's
// queues until a dequeue attempt drops them; they can never be placed
// there, because every placement predicts a completion after now.
func (s *Scheduler) expire() {
	for s.timeouts.len() > 0 {
		if at, _ := s.timeouts.top(); at > s.now {
			return
		}
		q := s.timeouts.pop()
		if q.locked || q.answered {
			continue
		}
		s.respond(q, clientapi.StatusTimeout, "", nil)
		s.tracker.cancelled(q.model.id, &q.demand)
		s.starving(q)
	}
}

// ClientGone implements scheduler.Scheduler. Every request not yet placed
// in an action is still in the timeouts heap; those of the gone client are
// answered now and left in their models' queues as a timed-out request is
// (their deadline moved to now, so no placement takes them).
func (s *Scheduler) ClientGone(now int64, gone func(*scheduler.Request) bool) {
	s.setNow(now)
	for i := range s.timeouts.items {
		q := s.timeouts.items[i].v
		if q.locked || q.answered || !gone(q.req) {
			continue
		}
		s.respond(q, clientapi.StatusError, scheduler.ClientGoneMessage, nil)
		s.tracker.cancelled(q.model.id, &q.demand)
		q.deadline = min(q.deadline, s.now)
	}
}

// estimateExpiry is how long a model may go without running while its
// requests time out before its estimates go back to the profiled times.
// One slow exec (a GPU's hiccup, a worker's bogus figure) can raise a
// model's estimate past its requests' deadlines; then none of them runs,
// no measurement comes to lower it, and the original never served the
// model again.
const estimateExpiry = 10_000 * ms

// starving resets the estimates of q's model, as q times out unrun, if
// the model has not run for estimateExpiry and its batch-1 estimate alone
// put q past its deadline (not a queue, a load or a busy GPU).
func (s *Scheduler) starving(q *request) {
	m := q.model
	if m.measured == 0 || s.now-m.measured < estimateExpiry || m.exec(0, defaultClock) <= q.deadline-q.req.Arrival-future {
		return
	}
	m.forget()
	fmt.Fprintf(s.log, "Model %d has not run for %ds while its requests timed out: its estimates are the profiled times again\n",
		m.id, estimateExpiry/(1000*ms))
}

// respond answers q unless it was answered already, and reports whether it
// answered it now.
func (s *Scheduler) respond(q *request, status int32, message string, output []byte) bool {
	if q.answered {
		return false
	}
	q.answered = true
	s.responses = append(s.responses, scheduler.Response{
		Req:            q.req,
		Status:         status,
		Message:        message,
		Output:         output,
		Deadline:       q.realDeadline,
		Departure:      s.now,
		ArrivalCount:   q.arrivalCount,
		DepartureCount: q.model.copies(),
	})
	return true
}
