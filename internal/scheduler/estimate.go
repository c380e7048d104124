package scheduler

import "slices"

// Window is the original INFER5's estimate of a duration: a percentile of
// a rolling window of the last measurements, interpolated linearly between
// the two samples around rank p·(n−1) (spec/controller.md §4.6). With ten
// samples and p = 0.99, the original's, that is 0.91·max +
// 0.09·second-largest, "effectively the max" but not quite.
type Window struct {
	v      []int64 // a ring of the window's size
	n      int
	next   int
	p      float64
	sorted []int64 // scratch for Estimate
}

// NewWindow returns an empty window of the last size measurements (at
// least 1) whose estimate is their p-th percentile (0 to 1).
func NewWindow(size int, p float64) Window {
	return Window{v: make([]int64, size), sorted: make([]int64, size), p: p}
}

// Len is how many measurements the window holds.
func (w *Window) Len() int { return w.n }

// Insert adds a measurement, dropping the oldest from a full window.
func (w *Window) Insert(x int64) {
	w.v[w.next] = x
	w.next = (w.next + 1) % len(w.v)
	w.n = min(w.n+1, len(w.v))
}

// Reset empties the window.
func (w *Window) Reset() { w.n, w.next = 0, 0 }

// Estimate returns the window's percentile; the window must not be empty.
// The original interpolates in single precision; this uses double.
func (w *Window) Estimate() int64 {
	s := w.sorted[:w.n]
	copy(s, w.v[:w.n])
	slices.Sort(s)
	pos := w.p * float64(w.n-1)
	down := int(pos)
	if float64(down) == pos {
		return s[down]
	}
	up := down + 1
	// Each product rounded on its own: Go may fuse a product and a sum
	// into one multiply-add (it does on arm64), and an estimate 1 ns
	// apart would make schedules differ between machines.
	return int64(float64(float64(s[up])*(pos-float64(down))) + float64(float64(s[down])*(float64(up)-pos)))
}

// ReferenceClock is the SM clock (MHz) INFER5 takes when a worker reports
// none: the V100s' the original was measured on.
const ReferenceClock = 1380

// PlausibleClock reports whether mhz could be a GPU's SM clock: a worker's
// reading outside 100–10,000 MHz is taken for none (a clock of 1 MHz
// would have INFER5 predict every exec 1,380 times too long, and run
// nothing on the GPU again).
func PlausibleClock(mhz int64) bool { return mhz >= 100 && mhz <= 10000 }

// MeasuredClock is the clock an exec ran at, by which INFER5 normalises
// its duration: the mean of the clocks read at its start and end, ignoring
// clocks a worker did not report (0) or that are not plausible.
func MeasuredClock(before, after int64) int64 {
	if !PlausibleClock(before) {
		before = 0
	}
	if !PlausibleClock(after) {
		after = 0
	}
	switch {
	case before == 0 && after == 0:
		return ReferenceClock
	case before == 0:
		return after
	case after == 0:
		return before
	}
	return (before + after) / 2
}
