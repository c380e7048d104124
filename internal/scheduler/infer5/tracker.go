package infer5

import "github.com/clockwork-go/clockwork/internal/scheduler"

// workerTracker predicts when a GPU (or its PCIe link) will have finished
// the work the scheduler has sent it. Work is stored as expected
// nanoseconds × clock so that a clock change rescales what is outstanding.
// When the oldest work is overdue by more than lag, the tracker assumes it
// finished lag ago rather than stalling the GPU behind a lost result.
type workerTracker struct {
	clock     int64 // MHz
	workBegin int64 // when the oldest outstanding work started
	queue     []work
	total     int64 // Σ size of queue
}

type work struct {
	id   int32
	size int64 // expected ns × clock
}

func newWorkerTracker() workerTracker { return workerTracker{clock: defaultClock} }

func (t *workerTracker) add(id int32, expected, now int64) {
	if len(t.queue) == 0 {
		t.workBegin = now
	}
	size := expected * t.clock
	t.queue = append(t.queue, work{id, size})
	t.total += size
}

// available is the predicted time the work sent so far completes, but never
// earlier than now + future.
func (t *workerTracker) available(now int64) int64 {
	wb := t.workBegin
	if len(t.queue) > 0 {
		if front := t.queue[0].size / t.clock; wb+front+lag < now {
			wb = now - lag - front
		}
	}
	return max(wb+t.total/t.clock, now+future)
}

// readyAt is the earliest time ≥ now at which available() drops below that
// time + horizon, or never if only a result can bring that about (the
// tracker is in its overdue regime, where the predicted backlog stays
// constant as time passes). horizon must exceed future.
func (t *workerTracker) readyAt(now, horizon int64) int64 {
	if t.available(now) < now+horizon {
		return now
	}
	backlog := t.total / t.clock
	normal := t.workBegin + backlog - horizon + 1 // first t with workBegin + backlog < t + horizon
	if len(t.queue) == 0 {
		return normal
	}
	front := t.queue[0].size / t.clock
	overdue := t.workBegin + front + lag + 1 // first t with workBegin + front + lag < t
	switch {
	case now >= overdue:
		return never
	case normal < overdue:
		return normal
	case backlog-front < lag+horizon:
		return overdue
	}
	return never
}

// success records that work id completed at done (the worker's time,
// already converted to the controller's clock).
func (t *workerTracker) success(id int32, done int64) { t.remove(id, done, true) }

// error records that work id failed, noticed at now.
func (t *workerTracker) error(id int32, now int64) { t.remove(id, now, false) }

func (t *workerTracker) remove(id int32, at int64, ok bool) {
	if len(t.queue) == 0 {
		return
	}
	if t.queue[0].id == id {
		t.total -= t.queue[0].size
		t.workBegin = at
		t.queue = t.queue[1:]
		return
	}
	// Finished out of order: we do not know when, so a success just moves
	// the start of the remaining work later by its size.
	for i := range t.queue {
		if w := t.queue[i]; w.id == id {
			t.total -= w.size
			if ok {
				t.workBegin += w.size / t.clock
			}
			t.queue = append(t.queue[:i], t.queue[i+1:]...)
			return
		}
	}
}

// setClock changes the clock future conversions use. Workers that report
// no clock (0) leave it unchanged.
func (t *workerTracker) setClock(mhz uint32) {
	if scheduler.PlausibleClock(int64(mhz)) {
		t.clock = int64(mhz)
	}
}
