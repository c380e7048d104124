package infer5

import (
	"fmt"
	"io"
	"slices"

	"github.com/clockwork-go/clockwork/internal/console"
	"github.com/clockwork-go/clockwork/internal/scheduler"
)

// model is one model id: its usable batch sizes and their execution
// estimates, and its queued requests.
//
// The original keeps one FIFO per batch size and appends every request to
// all of them; requests only ever leave a FIFO at its front. So every FIFO
// is a suffix of the same arrival sequence, and here they are one ring of
// requests indexed by sequence number plus one head per batch size.
type model struct {
	id         int
	path       string
	pages      int
	inputSize  uint64
	outputSize uint64

	batch []int // usable batch sizes, ascending
	// estimates per batch size: the profiled exec time in ns until the
	// first measurement, then the measurements' estimate in ns × MHz
	// (see exec).
	estimates []int64
	windows   []scheduler.Window
	weights   int64 // weights transfer estimate, ns
	weightsW  scheduler.Window
	// profiled are the estimates and weights transfer time before any
	// measurement, which forget goes back to.
	profiled        []int64
	profiledWeights int64
	measured        int64 // when an exec of the model last ended, 0 if none
	b1              int64 // profiled b1 exec: the base of slo_factor, never updated

	ring  []*request // requests with seqno in [low, tail), at seqno & (len-1)
	low   uint64
	tail  uint64
	heads []uint64 // per batch size: seqno of its queue's front

	loaded []*instance // instances with the weights loaded: len is copies_loaded

	q4 queue4 // INFER4's single queue (the ring above stays empty there)
}

// newModel builds a model from worker 0's profile, keeping batch size 1 and
// every size within max_batch whose profiled time is known, positive and
// within max_exec. It returns nil if no batch size is usable.
func newModel(p *scheduler.Model, cfg scheduler.Config, est estimator, log io.Writer) *model {
	type size struct {
		b   int
		est int64
	}
	var sizes []size
	for i, b := range p.BatchSizes {
		est := int64(defaultExecEstimate)
		if i < len(p.ExecDurations) {
			est = p.ExecDurations[i]
		}
		sizes = append(sizes, size{b, est})
	}
	slices.SortStableFunc(sizes, func(a, b size) int { return a.b - b.b })

	m := &model{
		id: p.ID, path: p.Path, pages: p.NumWeightsPages,
		inputSize: p.InputSize, outputSize: p.OutputSize, weights: bounded(p.WeightsTransfer),
	}
	for _, s := range sizes {
		if s.b < 1 || slices.Contains(m.batch, s.b) {
			continue
		}
		if s.b != 1 && (s.est <= 0 || s.est > cfg.MaxExec || s.b > cfg.MaxBatch) {
			fmt.Fprintf(log, "Excluding b%d with estimate %dmodel=%s\n", s.b, s.est, console.Safe(p.Path))
			continue
		}
		m.batch = append(m.batch, s.b)
		m.estimates = append(m.estimates, bounded(s.est))
	}
	if len(m.batch) == 0 {
		return nil
	}
	m.windows = make([]scheduler.Window, len(m.batch))
	for i := range m.windows {
		m.windows[i] = scheduler.NewWindow(est.size, est.p)
	}
	m.weightsW = scheduler.NewWindow(est.size, est.p)
	m.profiled, m.profiledWeights = slices.Clone(m.estimates), m.weights
	m.heads = make([]uint64, len(m.batch))
	m.ring = make([]*request, 8)
	m.b1 = m.estimate(1, defaultClock)
	return m
}

// lookup returns the index of the largest usable batch size ≤ n (the
// largest if n exceeds it), or −1 if n is below the smallest.
func (m *model) lookup(n int) int {
	i := len(m.batch) - 1
	for i >= 0 && m.batch[i] > n {
		i--
	}
	return i
}

// estimate is the expected exec time of a batch of n at the given clock.
func (m *model) estimate(n int, clock int64) int64 {
	if i := m.lookup(n); i >= 0 {
		return m.exec(i, clock)
	}
	return defaultExecEstimate * defaultClock / clock
}

// exec is the expected exec time of batch size index i at clock MHz.
// Measurements are normalised by the clock they ran at. A profiled time
// ran at whatever clock the worker's GPU had when it loaded the model,
// which the controller does not know, so it is used as it is until the
// first measurement. (The original stores it as if measured at 1380 MHz:
// on a GPU running at 1980 MHz every batch size was predicted 30% short
// from the first result on the GPU until its own first measurement.)
func (m *model) exec(i int, clock int64) int64 {
	if m.windows[i].Len() == 0 {
		return m.estimates[i]
	}
	return m.estimates[i] / clock
}

// measure adds the measured exec time of batch size index i at clock MHz.
// After the first measurement only measurements count.
func (m *model) measure(i int, duration, clock, now int64) {
	m.windows[i].Insert(bounded(duration) * clock)
	m.estimates[i] = m.windows[i].Estimate()
	m.measured = now
}

// maxMeasured bounds a measured or profiled duration (about 18 minutes):
// a worker's figure of 2^62 ns, normalised by its clock, wrapped to a
// negative estimate, and summed with others, the trackers' work.
const maxMeasured = 1 << 40

func bounded(duration int64) int64 { return min(max(duration, 0), maxMeasured) }

// forget drops the model's measurements: its estimates are the profiled
// times again.
func (m *model) forget() {
	for i := range m.windows {
		m.windows[i].Reset()
	}
	copy(m.estimates, m.profiled)
	m.weightsW.Reset()
	m.weights = m.profiledWeights
	m.measured = 0
}

func (m *model) measureWeights(duration int64) {
	m.weightsW.Insert(bounded(duration))
	m.weights = m.weightsW.Estimate()
}

// enqueue appends q to every batch size's queue.
func (m *model) enqueue(q *request) {
	if int(m.tail-m.low) == len(m.ring) {
		ring := make([]*request, 2*len(m.ring))
		for s := m.low; s < m.tail; s++ {
			ring[s&uint64(len(ring)-1)] = m.ring[s&uint64(len(m.ring)-1)]
		}
		m.ring = ring
	}
	q.seqno = m.tail
	m.ring[m.tail&uint64(len(m.ring)-1)] = q
	m.tail++
}

func (m *model) at(seqno uint64) *request { return m.ring[seqno&uint64(len(m.ring)-1)] }

func (m *model) queued(i int) int { return int(m.tail - m.heads[i]) }

// requestsQueued is the number of requests in the batch-1 queue, for
// telemetry. (One of the two terms is always zero: INFER5 queues in the
// ring, INFER4 in q4.)
func (m *model) requestsQueued() int { return m.queued(0) + m.q4.len() }

// strategies appends to dst a strategy per non-empty queue of batch size
// ≤ maxBatch, largest first: its priority is the latest time the queue's
// front request could start at that batch size (at the reference clock).
func (m *model) strategies(dst []strategy, maxBatch int) []strategy {
	for i := len(m.batch) - 1; i >= 0; i-- {
		if m.heads[i] == m.tail || m.batch[i] > maxBatch {
			continue
		}
		front := m.at(m.heads[i])
		dst = append(dst, strategy{
			priority: front.deadline - m.exec(i, defaultClock),
			batch:    int32(m.batch[i]),
			model:    int32(m.id),
		})
	}
	return dst
}

// tryDequeue takes the next batch for a GPU free at freeAt running at clock
// MHz, if one of at least minBatch requests is possible. Requests that
// cannot finish by their deadline at a batch size leave the front of that
// size's queue. The batch size tried is the largest whose queue (and every
// smaller one) holds a full batch; its batch is the first requests, in
// arrival order, that can finish in time, falling back to smaller sizes if
// there are too few. Every queue then skips past the last request taken, so
// requests passed over are abandoned: they will time out. It returns the
// batch, appended to dst, and the index of its size.
//
// The original checks only the front of a queue, so when a model's
// requests have different SLOs a request behind the front could be batched
// after its deadline, or after it had timed out; here every request taken
// is checked. When deadlines follow arrival order, as they do when a
// model's requests share an SLO, nothing is passed over and the two agree.
func (m *model) tryDequeue(dst []*request, freeAt, clock int64, minBatch int) ([]*request, int) {
	for i := range m.batch {
		done := freeAt + m.exec(i, clock)
		for m.heads[i] < m.tail && m.at(m.heads[i]).deadline < done {
			m.heads[i]++
		}
	}
	i := 0
	for i < len(m.batch)-1 && m.queued(i+1) >= m.batch[i+1] {
		i++
	}
	for ; i >= 0 && m.batch[i] >= minBatch && m.queued(i) >= m.batch[i]; i-- {
		b, done := m.batch[i], freeAt+m.exec(i, clock)
		found, s := 0, m.heads[i]
		for ; s < m.tail && found < b; s++ {
			if m.at(s).deadline >= done {
				found++
			}
		}
		if found < b {
			continue
		}
		for k := m.heads[i]; k < s; k++ {
			if q := m.at(k); q.deadline >= done {
				q.locked = true
				dst = append(dst, q)
			}
		}
		for j := range m.heads {
			m.heads[j] = max(m.heads[j], s)
		}
		m.trim()
		return dst, i
	}
	m.trim()
	return dst, 0
}

// trim drops ring entries that no queue holds any more.
func (m *model) trim() {
	low := slices.Min(m.heads)
	for s := m.low; s < low; s++ {
		m.ring[s&uint64(len(m.ring)-1)] = nil
	}
	m.low = low
}

func (m *model) addLoaded(inst *instance) {
	inst.loadedAt = len(m.loaded)
	m.loaded = append(m.loaded, inst)
}

func (m *model) removeLoaded(inst *instance) {
	last := m.loaded[len(m.loaded)-1]
	m.loaded[inst.loadedAt] = last
	last.loadedAt = inst.loadedAt
	m.loaded = m.loaded[:len(m.loaded)-1]
	inst.loadedAt = -1
}

// copies is the number of GPUs the scheduler believes hold the weights.
func (m *model) copies() int { return len(m.loaded) }
