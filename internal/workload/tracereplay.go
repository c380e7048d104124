package workload

import (
	"math"
	"math/rand/v2"
	"time"
)

// TraceReplay replays a per-minute invocation trace for one model as a
// Poisson process. Interval k lasts Interval and has rate
// Counts[k] × Scale / 60 requests per second: counts are read as requests
// per minute whatever the interval length, so a shorter interval replays
// the trace faster at the same rates.
//
// Arrivals are drawn in units of "minute-counts": a gap g drawn with mean
// 60 s / Scale takes g / Counts[k] of wall time in interval k. A gap that
// crosses the end of an interval carries its unused part over to the next
// interval, rescaled by that interval's count, so rates change exactly at
// interval boundaries. An interval with count 0 passes with no arrivals.
// After the last interval the trace starts again from the first.
type TraceReplay struct {
	ID       int32
	Model    Model
	Seed     uint64
	Counts   []uint32 // requests per minute, per interval; not empty
	Scale    float64
	Interval time.Duration // > 0
	// RandomStart starts at a uniformly random interval, at a uniformly
	// random point inside it; otherwise the replay starts with interval 0.
	RandomStart bool

	e   *Engine
	rng *rand.Rand
}

// Start implements Workload.
func (t *TraceReplay) Start(e *Engine) {
	t.e = e
	t.rng = e.Rand(t.Seed)
	k, left := 0, t.Interval
	if t.RandomStart {
		k = t.rng.IntN(len(t.Counts))
		left = 1 + time.Duration(t.rng.Int64N(int64(t.Interval)))
	}
	t.submit(k, e.Now()+left, t.draw())
}

// SetScale changes the scale factor from the next draw on.
func (t *TraceReplay) SetScale(s float64) { t.Scale = s }

// draw returns the next gap in minute-count nanoseconds (+Inf: none).
func (t *TraceReplay) draw() float64 {
	if t.Scale <= 0 {
		return math.Inf(1)
	}
	return t.rng.ExpFloat64() * 60e9 / t.Scale
}

// submit waits for the next arrival of interval k, which ends at end,
// gap minute-count nanoseconds from now.
func (t *TraceReplay) submit(k int, end time.Duration, gap float64) {
	left := end - t.e.Now()
	if c := float64(t.Counts[k]); c > 0 {
		if wait := gap / c; wait <= float64(left) {
			t.e.SetTimeout(time.Duration(wait), func() {
				t.e.Infer(t.ID, t.Model, nil)
				t.submit(k, end, t.draw())
			})
			return
		}
		gap -= float64(left) * c
	}
	t.e.SetTimeout(left, func() { t.submit((k+1)%len(t.Counts), end+t.Interval, gap) })
}
