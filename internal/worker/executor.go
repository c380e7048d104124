package worker

import "container/heap"

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
	queue taskQueue
	busy  bool // an operation is in flight
	seq   uint64
}

type queued struct {
	eligible int64
	seq      uint64
	t        *task
}

type taskQueue []queued

func (q taskQueue) Len() int { return len(q) }
func (q taskQueue) Less(i, j int) bool {
	if q[i].eligible != q[j].eligible {
		return q[i].eligible < q[j].eligible
	}
	return q[i].seq < q[j].seq
}
func (q taskQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *taskQueue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *taskQueue) Pop() any {
	old := *q
	n := len(old)
	x := old[n-1]
	old[n-1] = queued{}
	*q = old[:n-1]
	return x
}

// push queues t, eligible at eligible, at now.
func (e *executor) push(now, eligible int64, t *task) {
	e.seq++
	heap.Push(&e.queue, queued{eligible: max(eligible, now), seq: e.seq, t: t})
}

// next pops the head if the executor is idle and the head is eligible at now.
func (e *executor) next(now int64) *task {
	if e.busy || len(e.queue) == 0 || e.queue[0].eligible > now {
		return nil
	}
	return heap.Pop(&e.queue).(queued).t
}

// wake is when the executor next needs attention (0: not time-driven).
func (e *executor) wake() int64 {
	if e.busy || len(e.queue) == 0 {
		return 0
	}
	return e.queue[0].eligible
}

// drain removes and returns every queued task.
func (e *executor) drain() []*task {
	out := make([]*task, 0, len(e.queue))
	for _, q := range e.queue {
		out = append(out, q.t)
	}
	e.queue = nil
	return out
}
