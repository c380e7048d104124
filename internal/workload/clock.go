package workload

import (
	"container/heap"
	"context"
	"errors"
	"math"
	"time"
)

// Never is the deadline of a wait that only a wake-up can end.
const Never = time.Duration(math.MaxInt64)

// Clock is the engine's time source: a monotonic duration since the clock
// started.
type Clock interface {
	Now() time.Duration
	// Wait returns once the clock reads at least until, or wake is ready,
	// or ctx is done (returning ctx's error). It may return early.
	Wait(ctx context.Context, until time.Duration, wake <-chan struct{}) error
}

// RealClock is the process's monotonic clock.
type RealClock struct {
	start time.Time
	timer *time.Timer
}

// NewRealClock returns a RealClock that reads zero now.
func NewRealClock() *RealClock {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &RealClock{start: time.Now(), timer: t}
}

// Now implements Clock.
func (c *RealClock) Now() time.Duration { return time.Since(c.start) }

// Wait implements Clock by sleeping.
func (c *RealClock) Wait(ctx context.Context, until time.Duration, wake <-chan struct{}) error {
	var fire <-chan time.Time
	if until != Never {
		d := until - c.Now()
		if d <= 0 {
			return ctx.Err()
		}
		c.timer.Reset(d)
		defer c.timer.Stop()
		fire = c.timer.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wake:
	case <-fire:
	}
	return nil
}

// ErrStalled is returned by a run on a Virtual clock that has nothing left
// to do: no timer is due and no event is scheduled, so nothing can ever
// happen again.
var ErrStalled = errors.New("workload: virtual time stalled: no timers and no pending events")

// Virtual is a Clock for tests and simulations: time stands still until the
// engine waits, then jumps to the next engine timer or the next event
// scheduled with After, whichever comes first. Events run on the engine's
// goroutine, inside Wait, so a run is deterministic. The zero value reads 0.
type Virtual struct {
	now    time.Duration
	seq    uint64
	events eventHeap
}

// Now implements Clock.
func (v *Virtual) Now() time.Duration { return v.now }

// After schedules f to run at Now()+d, during a later Wait. Fake models use
// it to answer requests after a virtual delay.
func (v *Virtual) After(d time.Duration, f func()) {
	v.seq++
	heap.Push(&v.events, event{at: v.now + max(d, 0), seq: v.seq, f: f})
}

// Wait implements Clock by advancing time: it runs the next event due by
// until, or jumps to until.
func (v *Virtual) Wait(ctx context.Context, until time.Duration, _ <-chan struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(v.events) > 0 && v.events[0].at <= until {
		ev := heap.Pop(&v.events).(event)
		v.now = max(v.now, ev.at)
		ev.f()
		return nil
	}
	if until == Never {
		return ErrStalled
	}
	v.now = max(v.now, until)
	return nil
}

type event struct {
	at  time.Duration
	seq uint64
	f   func()
}

// eventHeap orders events by time, then by scheduling order.
type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || h[i].at == h[j].at && h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	ev := old[len(old)-1]
	old[len(old)-1] = event{}
	*h = old[:len(old)-1]
	return ev
}
