package cpuexec

import (
	"fmt"
	"testing"
	"time"
)

// marks is a kernel that records which parts ran it, each after busy for
// its part's duration.
type marks struct {
	ran  []int
	busy []time.Duration
}

func (k *marks) run(_ *memory, part, parts int, _ []float32) {
	for start := time.Now(); time.Since(start) < k.busy[part]; {
	}
	k.ran[part]++
}

// TestWorkersDo checks that do runs an op on every worker once and returns
// only when all have: with ops short and long against spinFor, so that the
// helpers wait for them polling and parked and the caller waits for the
// helpers both ways, and with gaps between ops longer than spinFor, after
// which the helpers have parked. The race detector (make test) watches the
// hand-offs.
func TestWorkersDo(t *testing.T) {
	for _, n := range []int{1, 2, 3} {
		w := NewWorkers(n)
		k := &marks{ran: make([]int, n), busy: make([]time.Duration, n)}
		long := 2 * spinFor
		for round := range 24 {
			for part := range n {
				k.busy[part] = 0
				switch (round + part) % 4 {
				case 1:
					k.busy[part] = 20 * time.Microsecond
				case 2:
					k.busy[part] = long // the other side parks waiting
				}
			}
			if round%6 == 5 {
				time.Sleep(long) // the helpers park waiting for the next op
			}
			w.do(k, &w.mem)
			for part, c := range k.ran {
				if c != round+1 {
					t.Fatalf("%d workers, op %d: part %d ran %d times, want %d", n, round, part, c, round+1)
				}
			}
		}
		w.Close()
		w.do(k, &w.mem) // the caller alone after Close
		if k.ran[0] != 25 {
			t.Errorf("%d workers after Close: part 0 ran %d times, want 25", n, k.ran[0])
		}
	}
}

// BenchmarkWorkersDo times do on two workers with ops that keep each busy
// for 0, 50 and 500 µs: what it adds to each op of a Run (a channel's
// hand-off to a parked goroutine added about 50 µs on the 2-core
// development machine).
func BenchmarkWorkersDo(b *testing.B) {
	for _, d := range []time.Duration{0, 50 * time.Microsecond, 500 * time.Microsecond} {
		b.Run(fmt.Sprintf("busy=%v", d), func(b *testing.B) {
			w := NewWorkers(2)
			defer w.Close()
			k := &marks{ran: make([]int, 2), busy: []time.Duration{d, d}}
			for b.Loop() {
				w.do(k, &w.mem)
			}
		})
	}
}
