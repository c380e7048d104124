package worker

// executor is one serial stage of a GPU (or the worker-wide model loader):
// a queue of tasks ordered by the time they become eligible, or joined the
// queue if that is later (ties in arrival order), and at most one
// operation in flight. A task never starts before it is eligible; whether
// it started too late is the task's own check.
//
// Tasks already eligible when they join run in the order they joined: by
// eligible time alone, a stream of tasks eligible ever further in the past
// (Earliest 0 shifted by a clock delta that the estimate lowers now and
// then) overtook one task for as long as the queue never emptied, and in
// the real worker that task's IO block held up the whole FIFO IO pool
// (status 76 after some hundred Infers).
type executor struct {
	name  string
	queue minHeap[queued]
	busy  bool // an operation is in flight
	seq   uint64
}

type queued struct {
	eligible int64
	seq      uint64
	t        *task
}

// before orders the queue: by eligible time, then arrival.
func (q queued) before(o queued) bool {
	if q.eligible != o.eligible {
		return q.eligible < o.eligible
	}
	return q.seq < o.seq
}

// push queues t, eligible at eligible, at now.
func (e *executor) push(now, eligible int64, t *task) {
	e.seq++
	e.queue.Push(queued{eligible: max(eligible, now), seq: e.seq, t: t})
}

// next pops the head if the executor is idle and the head is eligible at now.
func (e *executor) next(now int64) *task {
	if e.busy || e.queue.Len() == 0 || e.queue.Min().eligible > now {
		return nil
	}
	return e.queue.Pop().t
}

// wake is when the executor next needs attention (0: not time-driven).
func (e *executor) wake() int64 {
	if e.busy || e.queue.Len() == 0 {
		return 0
	}
	return e.queue.Min().eligible
}

// remove removes and returns the queued tasks that match reports.
func (e *executor) remove(match func(*task) bool) []*task {
	var out []*task
	for _, q := range e.queue.Remove(func(q queued) bool { return match(q.t) }) {
		out = append(out, q.t)
	}
	return out
}
