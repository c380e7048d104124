package infer5

import (
	"github.com/clockwork-go/clockwork/internal/clientapi"
)

// Infer4 makes the scheduler INFER4, the original's earlier scheduler
// ("ConcurrentInferAndLoadScheduler", spec/controller.md §5), which the
// original's documentation runs. It is INFER5 with another way for a GPU
// to pick its next batch and with paced loads; everything else — SLOs,
// estimates, the load tracker, the network, results, telemetry, lost and
// broken GPUs — is shared:
//
//   - Each request gets, when admitted, one strategy per usable batch size
//     (priority = its exec deadline − that size's estimate), and they go to
//     every GPU holding its model; a GPU newly holding a model takes the
//     strategies of all its queued requests. A GPU's strategies are a heap
//     that grows with the load, not one per model and batch size.
//   - A model has one queue. A GPU pops strategies, most urgent first, and
//     tries each on the model's queue, sending as many batches as fit
//     within schedule_ahead, not one per pass.
//   - Requests that can no longer run are answered at once with status 8
//     (at the queue's front, too late for the GPU's next slot) or 7
//     (passed over by a batch), not left to time out with status 4.
//   - A GPU has at most two LoadWeights outstanding and consults the load
//     tracker at most every 0.1 ms.
func Infer4() Option {
	return func(o *options) { o.infer4 = true }
}

const (
	maxLoads4   = 2       // LoadWeights outstanding per GPU
	loadPacing4 = ms / 10 // between a GPU's consultations of the tracker
)

// strategy4 is one of a request's strategies: run it in a batch of batch
// with the requests that arrived after it, starting by priority.
type strategy4 struct {
	owner    *request // valid while the owner is queued and unanswered
	priority int64
	batch    int
}

func (st *strategy4) valid() bool { return !st.owner.dequeued && !st.owner.answered }

// queue4 is a model's single FIFO of requests (INFER4), each with its
// strategies, one per batch size, largest first.
type queue4 struct {
	reqs []queued4 // reqs[head:] are queued, in arrival (seqno) order
	head int
	next uint64 // the next request's seqno
}

type queued4 struct {
	r          *request
	strategies []strategy4
}

func (q *queue4) len() int          { return len(q.reqs) - q.head }
func (q *queue4) front() *request   { return q.reqs[q.head].r }
func (q *queue4) back() *request    { return q.reqs[len(q.reqs)-1].r }
func (q *queue4) at(i int) *request { return q.reqs[q.head+i].r }
func (q *queue4) queued() []queued4 { return q.reqs[q.head:] }
func (q *queue4) push(e queued4) {
	e.r.seqno = q.next
	q.next++
	q.reqs = append(q.reqs, e)
}
func (q *queue4) popFront() *request {
	r := q.reqs[q.head].r
	q.reqs[q.head] = queued4{}
	q.head++
	if q.head == len(q.reqs) {
		q.reqs, q.head = q.reqs[:0], 0
	} else if q.head >= 1024 && 2*q.head >= len(q.reqs) {
		n := copy(q.reqs, q.reqs[q.head:])
		clear(q.reqs[n:])
		q.reqs, q.head = q.reqs[:n], 0
	}
	return r
}

// admit4 queues q on its model and gives its strategies, largest batch
// size first, to every GPU holding the model.
func (s *Scheduler) admit4(q *request, m *model) {
	e := queued4{r: q, strategies: make([]strategy4, len(m.batch))}
	for i := range m.batch {
		b := m.batch[len(m.batch)-1-i]
		e.strategies[i] = strategy4{owner: q, priority: q.deadline - m.estimate(b, defaultClock), batch: b}
	}
	m.q4.push(e)
	for _, inst := range m.loaded {
		pushStrategies(inst.g, e)
		s.markCandidate(inst.g)
	}
}

func pushStrategies(g *gpu, e queued4) {
	for i := range e.strategies {
		g.strategies4.push(e.strategies[i].priority, &e.strategies[i])
	}
}

// scheduleInfer4 is the original INFER4's GPU.schedule_infer: take the
// strategies of models newly held, drop spent strategies, then try the
// most urgent ones while the GPU has less than schedule_ahead of work. It
// reports whether it sent an Infer.
func (s *Scheduler) scheduleInfer4(g *gpu) bool {
	now := s.now
	for _, inst := range g.activated {
		inst.active = false
		for _, e := range inst.m.q4.queued() {
			pushStrategies(g, e)
		}
	}
	clear(g.activated)
	g.activated = g.activated[:0]

	h := &g.strategies4
	for h.len() > 0 {
		if _, st := h.top(); st.valid() && st.owner.deadline > now {
			break
		}
		h.pop()
	}
	sent := false
	for h.len() > 0 {
		freeAt := g.exec.available(now)
		if freeAt >= now+s.cfg.ScheduleAhead {
			s.wakeGPU(g, g.exec.readyAt(now, s.cfg.ScheduleAhead))
			break
		}
		st := h.pop()
		m := st.owner.model
		inst := &g.instances[m.id]
		if !st.valid() || !inst.loaded {
			continue
		}
		if batch, i := s.tryDequeue4(m, s.batchBuf[:0], freeAt, g.exec.clock, st); len(batch) > 0 {
			s.batchBuf = batch
			s.sendInfer(inst, batch, i, freeAt)
			sent = true
		}
	}
	return sent
}

// tryDequeue4 is the original INFER4's Model.try_dequeue for a GPU free at
// freeAt running at clock MHz: the batch strategy st stands for, appended
// to dst, and the index of its batch size; none if the strategy cannot
// run now. Requests at the queue's front that cannot start in time are
// answered with status 8, and those the batch passes over with status 7.
//
// Deliberate differences (DIFFERENCES.md), which change decisions only
// when a model's requests have different SLOs: where too few requests
// arrived after the strategy's own, the original scans back from the
// newest with an inverted comparison that finds only requests which would
// finish late (with one SLO per model, none); here the strategy does not
// run, as there. The original takes the batch from the queue's front
// without checking each request's deadline; here every request taken must
// finish in time, those that would not are skipped (status 7), and a
// larger batch than the strategy's is taken only if enough requests finish
// in time at its size.
func (s *Scheduler) tryDequeue4(m *model, dst []*request, freeAt, clock int64, st *strategy4) ([]*request, int) {
	q, b, deadline := &m.q4, st.batch, st.owner.deadline
	completion := freeAt + m.estimate(b, clock)
	if deadline <= completion {
		return dst, 0
	}
	for q.len() > 0 && q.front().deadline < freeAt {
		s.dropQueued(q.popFront(), clientapi.StatusCouldNotStartInTime)
	}
	if q.len() < b {
		return dst, 0
	}
	// Enough requests from the strategy's own to the newest for its batch.
	available := 1 + int(q.back().seqno-st.owner.seqno)
	if available < b {
		return dst, 0
	}
	// A larger batch, if the strategy's deadline allows it and enough
	// requests finish in time at that size.
	// enough reports whether n queued requests finish in time at done,
	// looking no further than the n-th.
	enough := func(done int64, n int) bool {
		for i := 0; i < q.len() && n > 0; i++ {
			if q.at(i).deadline >= done {
				n--
			}
		}
		return n == 0
	}
	if larger := m.batch[max(m.lookup(available), 0)]; b < larger {
		done := freeAt + m.estimate(larger, clock)
		if done > deadline {
			return dst, 0
		}
		if enough(done, larger) {
			b, completion = larger, done
		}
	}
	if !enough(completion, b) {
		return dst, 0
	}
	for q.len() > 0 && q.front() != st.owner && q.front().deadline < completion {
		s.dropQueued(q.popFront(), clientapi.StatusControllerSkipped)
	}
	// The batch: the first b requests that finish in time.
	for len(dst) < b {
		r := q.popFront()
		if r.deadline < completion {
			s.dropQueued(r, clientapi.StatusControllerSkipped)
			continue
		}
		r.dequeued, r.locked = true, true
		dst = append(dst, r)
	}
	return dst, m.lookup(b)
}

// dropQueued answers a request taken off its model's queue without being
// run. (The original set its status and answered it at its deadline.)
func (s *Scheduler) dropQueued(r *request, status int32) {
	r.dequeued = true
	if s.respond(r, status, "", nil) {
		s.tracker.cancelled(r.model.id, &r.demand)
		s.starving(r)
	}
}

// loadPaced reports whether g may consult the load tracker now (INFER4:
// fewer than two loads outstanding, and 0.1 ms since the last time); if
// not and pacing is why, it notes when it may.
func (s *Scheduler) loadPaced(g *gpu) bool {
	if !s.opts.infer4 {
		return true
	}
	if g.loads >= maxLoads4 {
		return false
	}
	if next := g.lastLoad + loadPacing4; g.consulted && next > s.now {
		s.loadWake = min(s.loadWake, next)
		return false
	}
	return true
}
