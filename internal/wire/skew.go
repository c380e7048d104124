package wire

import "math"

// SkewWindow is the number of samples over which the one-way delay minima are
// taken, as in the original.
const SkewWindow = 1024

// slidingMin keeps the minimum of the last SkewWindow values in O(1) amortised
// time per insertion (a monotonic deque over a ring buffer).
type slidingMin struct {
	seq  uint64             // number of values inserted so far
	vals [SkewWindow]int64  // deque values, increasing from head to tail
	seqs [SkewWindow]uint64 // insertion sequence of each deque value
	head int                // index of the deque's first element
	n    int                // deque length
}

func (w *slidingMin) insert(v int64) {
	// Drop values that can never be the minimum again.
	for w.n > 0 {
		last := (w.head + w.n - 1) % SkewWindow
		if w.vals[last] < v {
			break
		}
		w.n--
	}
	// Drop the front if it has left the window.
	if w.n > 0 && w.seq-w.seqs[w.head] >= SkewWindow {
		w.head = (w.head + 1) % SkewWindow
		w.n--
	}
	tail := (w.head + w.n) % SkewWindow
	w.vals[tail] = v
	w.seqs[tail] = w.seq
	w.n++
	w.seq++
}

func (w *slidingMin) min() int64 {
	if w.n == 0 {
		return math.MaxInt64
	}
	return w.vals[w.head]
}

// Skew estimates the clock difference and round-trip time to a peer from
// timestamps carried in every pre-header (spec/worker.md §2.6). Each side keeps
// the minimum of its own receive deltas (my receive time minus the peer's send
// time) and of the peer's reported minimum; with θ = my clock − peer clock,
// local ≈ d_in + θ and remote ≈ d_out − θ, so (local − remote)/2 ≈ θ and
// local + remote ≈ RTT. The minimum filters out queueing noise.
//
// Skew is not safe for concurrent use; Conn guards it.
type Skew struct {
	local  slidingMin
	remote slidingMin
}

// Observe records one received message: rxBegin is my clock when its
// pre-header arrived, peerSend the peer's clock when it began writing it, and
// peerDelta the peer's own current local delta (MaxInt64 while unknown).
func (s *Skew) Observe(rxBegin int64, peerSend uint64, peerDelta int64) {
	s.local.insert(rxBegin - int64(peerSend))
	s.remote.insert(peerDelta)
}

// LocalDelta is the minimum of my receive deltas, or MaxInt64 before any
// message was received. It is sent in every pre-header.
func (s *Skew) LocalDelta() int64 { return s.local.min() }

// ClockDelta estimates my clock minus the peer's clock, or 0 while the peer's
// delta is unknown.
func (s *Skew) ClockDelta() int64 {
	r := s.remote.min()
	l := s.local.min()
	if r == math.MaxInt64 || l == math.MaxInt64 {
		return 0
	}
	return (l - r) / 2
}

// RTT estimates the round-trip time, or 0 while the peer's delta is unknown.
func (s *Skew) RTT() int64 {
	r := s.remote.min()
	l := s.local.min()
	if r == math.MaxInt64 || l == math.MaxInt64 {
		return 0
	}
	return l + r
}

// Adjust shifts timestamp t by d with saturation, so that the sentinels 0
// and MaxUint64 survive conversion between peer clocks (spec/worker.md §2.7):
// for d ≥ 0 the result is max(t, t+d), for d < 0 it is min(t, t+d), where
// t+d wraps.
func Adjust(t uint64, d int64) uint64 {
	s := t + uint64(d)
	if d >= 0 {
		if s < t {
			return t
		}
		return s
	}
	if s > t {
		return t
	}
	return s
}
