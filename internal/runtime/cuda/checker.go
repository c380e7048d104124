//go:build linux && cgo

package cuda

import (
	goruntime "runtime"
	"sync/atomic"
	"time"

	"github.com/clockwork-go/clockwork/internal/clock"
	cu "github.com/clockwork-go/clockwork/internal/cuda"
)

// checker is a GPU's AsyncTaskChecker: one goroutine, locked to its OS
// thread with the GPU's context current, that spins on cuEventQuery over
// the events it was handed and stamps the time each completes. A blocking
// synchronisation would add 50-90 µs at p50 and much more in the tail
// (spec/runtime.md). While nothing is pending it sleeps on its channel, so
// an idle worker burns no core.
type checker struct {
	ctx  cu.Context
	spin bool // stages spin on their waiters near the expected end (wait)
	in   chan *waiter
	stop chan struct{}
	done chan struct{}
}

// waiter is one pending completion: of event ev and, if start is set, the
// GPU time since start. Each stage of a GPU owns one and reuses it, so
// waiting allocates nothing.
type waiter struct {
	start, ev cu.Event
	at        int64  // clock.Now() when the checker saw ev complete
	dur       uint64 // ns of GPU time from start to ev
	err       error
	// state hands the completion over: the checker sets it done, and
	// sends on done only to a waiter that parked (see checker.wait).
	state atomic.Uint32
	done  chan struct{}
	timer *time.Timer // a parked waiter's wake-up for its spin (reused)
}

// Waiter states.
const (
	waitPending uint32 = iota // handed to the checker, the waiter not parked
	waitParked                // the waiter blocks on done
	waitDone                  // the checker saw the event complete
)

func newWaiter(start, ev cu.Event) *waiter {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &waiter{start: start, ev: ev, done: make(chan struct{}, 1), timer: t}
}

// complete hands a completion to w's waiter: a spinning one sees the
// state change, a parked one gets a send on done.
func (w *waiter) complete() {
	for {
		switch w.state.Load() {
		case waitPending:
			if w.state.CompareAndSwap(waitPending, waitDone) {
				return
			}
		case waitParked:
			if w.state.CompareAndSwap(waitParked, waitDone) {
				w.done <- struct{}{}
				return
			}
		default:
			return
		}
	}
}

// idleSpin is how long the checker keeps polling for new work after the
// last completion before it sleeps: while a GPU serves, the next stage's
// event comes within microseconds, and waking a sleeping thread costs
// more than that.
const idleSpin = 2 * time.Millisecond

func startChecker(ctx cu.Context, spin bool) (*checker, error) {
	c := &checker{ctx: ctx, spin: spin, in: make(chan *waiter, 64), stop: make(chan struct{}), done: make(chan struct{})}
	ready := make(chan error)
	go c.loop(ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return c, nil
}

func (c *checker) loop(ready chan<- error) {
	defer close(c.done)
	goruntime.LockOSThread() // for good: the thread ends with the goroutine
	if err := c.ctx.SetCurrent(); err != nil {
		ready <- err
		return
	}
	ready <- nil
	pending := make([]*waiter, 0, 16)
	idle := clock.Now()
	for {
		if len(pending) == 0 && clock.Now()-idle > int64(idleSpin) {
			select {
			case w := <-c.in:
				pending = append(pending, w)
			case <-c.stop:
				return
			}
		}
		for more := true; more; {
			select {
			case w := <-c.in:
				pending = append(pending, w)
			default:
				more = false
			}
		}
		kept := pending[:0]
		for _, w := range pending {
			ok, err := w.ev.Query()
			if !ok && err == nil {
				kept = append(kept, w)
				continue
			}
			w.at, w.err = clock.Now(), err
			if err == nil && w.start != (cu.Event{}) {
				var ms float32
				ms, w.err = cu.ElapsedTime(w.start, w.ev)
				w.dur = uint64(float64(ms) * 1e6)
			}
			w.complete()
			idle = w.at
		}
		clear(pending[len(kept):])
		pending = kept
		if len(pending) == 0 {
			select {
			case <-c.stop:
				return
			default:
			}
		}
	}
}

// Handing a completion over. A goroutine woken by a channel send from the
// checker lands on the checker's processor, which never yields, and runs
// only once another thread steals it: tens of µs at p50 and up to idleSpin
// in the tail, three times per Infer (cmd/gpucheck -overhead). So where
// the cores allow (checker.spin), a stage waiting for work it expects to
// end within spinLead spins on its waiter's state instead, parked until
// then, and parks again spinTail past the expected end. The lead covers a
// Go timer waking up to a millisecond late.
const (
	spinLead = 2 * time.Millisecond
	spinTail = time.Millisecond
)

// spinCores is how many cores per GPU spinning waits need besides the
// rest of the worker: the checker and up to three waiting stages.
const spinCores = 4

// wait hands w to the checker and returns once its event has completed:
// when the checker saw it, and the GPU time since w.start. The work is
// expected to take about expect (0 if unknown; negative: do not spin).
// The caller need not hold its OS thread meanwhile.
func (c *checker) wait(w *waiter, expect time.Duration) (int64, uint64, error) {
	w.state.Store(waitPending)
	c.in <- w
	if c.spin && expect >= 0 && w.spinUntil(clock.Now()+int64(expect)) {
		return w.at, w.dur, w.err
	}
	if w.state.CompareAndSwap(waitPending, waitParked) {
		<-w.done
	}
	return w.at, w.dur, w.err
}

// spinUntil waits for the completion expected at end: parked until
// spinLead before it, then spinning until spinTail after it. It reports
// whether the completion came; if not, the state is pending again.
func (w *waiter) spinUntil(end int64) bool {
	if lead := time.Duration(end-clock.Now()) - spinLead; lead > 0 {
		if !w.state.CompareAndSwap(waitPending, waitParked) {
			return true
		}
		w.timer.Reset(lead)
		select {
		case <-w.done:
			w.timer.Stop()
			return true
		case <-w.timer.C:
		}
		if !w.state.CompareAndSwap(waitParked, waitPending) {
			<-w.done // the checker completed it meanwhile and sends
			return true
		}
	}
	for deadline := end + int64(spinTail); clock.Now() < deadline; {
		if w.state.Load() == waitDone {
			return true
		}
	}
	return w.state.Load() == waitDone
}

// close stops the checker; nothing may be pending.
func (c *checker) close() {
	close(c.stop)
	<-c.done
}
