//go:build linux && cgo

package cuda

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/clock"
	cu "github.com/clockwork-go/clockwork/internal/cuda"
)

// TestWaiterHandOff races the checker's side of a completion (complete)
// against a waiter that spins, parks for its lead, or parks at once, at
// random times: every wait must see its own completion, and no send may
// be left over for the next one.
func TestWaiterHandOff(t *testing.T) {
	w := newWaiter(cu.Event{}, cu.Event{})
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		w.state.Store(waitPending)
		delay := time.Duration(r.IntN(1200)) * time.Microsecond
		if i%3 == 0 {
			delay = 0
		}
		go func() {
			if delay > 0 {
				time.Sleep(delay)
			}
			w.at = int64(i)
			w.complete()
		}()
		var expect time.Duration
		switch i % 4 {
		case 0: // spin at once
		case 1: // park for a lead first
			expect = time.Duration(r.IntN(2000)) * time.Microsecond
		case 2: // past the expected end before it comes
			expect = -spinTail - time.Millisecond
		case 3: // do not spin
			expect = -1
		}
		if expect < -1 || expect >= 0 {
			if !w.spinUntil(clock.Now() + int64(expect)) {
				if w.state.CompareAndSwap(waitPending, waitParked) {
					<-w.done
				}
			}
		} else if w.state.CompareAndSwap(waitPending, waitParked) {
			<-w.done
		}
		if w.state.Load() != waitDone || w.at != int64(i) {
			t.Fatalf("wait %d: state %d, saw completion %d", i, w.state.Load(), w.at)
		}
		if len(w.done) != 0 {
			t.Fatalf("wait %d left a send behind", i)
		}
	}
}
