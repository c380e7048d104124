package cpuexec

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// marks is a kernel that records which parts ran it and on which worker,
// each part after busy for its duration (or until its wait, if any, is
// closed).
type marks struct {
	ran   []int
	by    []*scratch
	parts []int // of how many each part said it was
	busy  []time.Duration
	wait  []chan struct{}
	after func(part int) // called as each part ends
}

func newMarks(parts int) *marks {
	return &marks{ran: make([]int, parts), by: make([]*scratch, parts), parts: make([]int, parts),
		busy: make([]time.Duration, parts), wait: make([]chan struct{}, parts)}
}

func (k *marks) run(_ *memory, part, parts int, s *scratch) {
	if k.wait[part] != nil {
		<-k.wait[part]
	}
	for start := time.Now(); time.Since(start) < k.busy[part]; {
	}
	k.ran[part]++
	k.by[part] = s
	k.parts[part] = parts
	if k.after != nil {
		k.after(part)
	}
}

// TestWorkersDo checks that do runs each part of an op once, on some
// worker, and returns only when all have run: with parts short and long
// against spinFor, so that the helpers wait for them polling and parked and
// the caller waits for the helpers both ways, and with gaps between ops
// longer than spinFor, after which the helpers have parked. The race
// detector (make test) watches the hand-offs.
func TestWorkersDo(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		w := NewWorkers(n)
		parts := n * partsEach
		if n == 1 {
			parts = 1 // one worker runs an op whole
		}
		k := newMarks(parts)
		long := 2 * spinFor
		for round := range 24 {
			for part := range parts {
				k.busy[part] = 0
				switch (round + part/partsEach) % 4 {
				case 1:
					k.busy[part] = 3 * time.Microsecond
				case 2:
					k.busy[part] = long / partsEach * 2 // the other side parks waiting
				}
			}
			if round%6 == 5 {
				time.Sleep(long) // the helpers park waiting for the next op
			}
			w.do(k, &w.mem)
			for part, c := range k.ran {
				if c != round+1 || k.parts[part] != parts {
					t.Fatalf("%d workers, op %d: part %d ran %d times, of %d parts; want %d, of %d", n, round, part, c,
						k.parts[part], round+1, parts)
				}
			}
		}
		w.Close()
		k1 := newMarks(1)
		w.do(k1, &w.mem) // the caller alone after Close
		if k1.ran[0] != 1 || k1.parts[0] != 1 {
			t.Errorf("%d workers after Close: part 0 ran %d times of %d parts, want once of 1", n, k1.ran[0], k1.parts[0])
		}
	}
}

// TestWorkersSteal checks that a worker held up leaves its parts to the
// others: the helper's first part waits until all its other parts have
// run, which only the caller, taking them from the back of the helper's
// lane, can do (else do never returns).
func TestWorkersSteal(t *testing.T) {
	w := NewWorkers(2)
	defer w.Close()
	for round := range 20 {
		k := newMarks(2 * partsEach)
		held := make(chan struct{})
		k.wait[partsEach] = held
		var rest atomic.Int32
		k.after = func(part int) {
			if part > partsEach && rest.Add(1) == partsEach-1 {
				close(held)
			}
		}
		done := make(chan struct{})
		go func() {
			w.do(k, &w.mem)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: the helper's parts were not taken by the caller", round)
		}
		for part, c := range k.ran {
			if c != 1 {
				t.Fatalf("round %d: part %d ran %d times", round, part, c)
			}
			if part > partsEach && k.by[part] != &w.lanes[0].scratch {
				t.Fatalf("round %d: part %d of the held helper's ran on another worker than the caller", round, part)
			}
		}
	}
}

// BenchmarkWorkersDo times do on two workers with ops whose parts keep
// each worker busy for 0, 50 and 500 µs in all: what it adds to each op of
// a Run (a channel's hand-off to a parked goroutine added about 50 µs on
// the 2-core development machine; taking 16 parts, about 1.5 µs).
func BenchmarkWorkersDo(b *testing.B) {
	for _, d := range []time.Duration{0, 50 * time.Microsecond, 500 * time.Microsecond} {
		b.Run(fmt.Sprintf("busy=%v", d), func(b *testing.B) {
			w := NewWorkers(2)
			defer w.Close()
			k := newMarks(2 * partsEach)
			for i := range k.busy {
				k.busy[i] = d / partsEach
			}
			for b.Loop() {
				w.do(k, &w.mem)
			}
		})
	}
}

// TestSleeperRechecks checks that a sleeper whose wake-up is lost (ready
// made true with no rouse, as under an emulator whose atomics reorder a
// store and a load) still returns, by its recheck, and that a rouse wakes
// it as before.
func TestSleeperRechecks(t *testing.T) {
	s := newSleeper()
	for _, roused := range []bool{false, true} {
		var ready atomic.Bool
		go func() {
			time.Sleep(2 * spinFor) // past the spinning: asleep on wake
			ready.Store(true)
			if roused {
				s.rouse()
			}
		}()
		done := make(chan struct{})
		go func() {
			s.await(ready.Load)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("roused %v: await never returned", roused)
		}
		if s.parked.Load() {
			t.Errorf("roused %v: still marked parked", roused)
		}
	}
}
