package cuda

import (
	goruntime "runtime"
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
	done      chan struct{}
}

func newWaiter(start, ev cu.Event) *waiter {
	return &waiter{start: start, ev: ev, done: make(chan struct{}, 1)}
}

// idleSpin is how long the checker keeps polling for new work after the
// last completion before it sleeps: while a GPU serves, the next stage's
// event comes within microseconds, and waking a sleeping thread costs
// more than that.
const idleSpin = 2 * time.Millisecond

func startChecker(ctx cu.Context) (*checker, error) {
	c := &checker{ctx: ctx, in: make(chan *waiter, 64), stop: make(chan struct{}), done: make(chan struct{})}
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
			w.done <- struct{}{}
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

// wait hands w to the checker and returns once its event has completed:
// when the checker saw it, and the GPU time since w.start. The caller
// need not hold its OS thread meanwhile.
func (c *checker) wait(w *waiter) (int64, uint64, error) {
	c.in <- w
	<-w.done
	return w.at, w.dur, w.err
}

// close stops the checker; nothing may be pending.
func (c *checker) close() {
	close(c.stop)
	<-c.done
}
