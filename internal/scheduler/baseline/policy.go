package baseline

import (
	"cmp"
	"slices"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// load starts loading each model that has queued requests but no copy,
// onto the GPU with the fewest queued requests that can make room for it,
// and among those the one with the most free pages: one where the model
// fits without evicting anything if there is such a GPU (by queue length
// alone, the first GPU evicted while an empty one stood by). The requests
// of a model that no GPU in service can hold (they went down) fail.
func (s *Scheduler) load() {
	for _, m := range s.models {
		if m == nil || len(m.queue) == 0 || len(m.resident) > 0 || m.loadingOn != nil {
			continue
		}
		if !s.fits(m) {
			for _, q := range m.queue {
				s.respond(q, m, clientapi.StatusError, noGPU, nil)
			}
			clear(m.queue)
			m.queue = m.queue[:0]
			continue
		}
		gpus := slices.DeleteFunc(slices.Clone(s.gpus), func(g *gpu) bool { return g.down })
		slices.SortStableFunc(gpus, func(a, b *gpu) int {
			if c := cmp.Compare(s.queued(a), s.queued(b)); c != 0 {
				return c
			}
			return cmp.Compare(b.free, a.free)
		})
		for _, g := range gpus {
			if s.makeRoom(g, m.pages) {
				s.startLoad(g, m)
				break
			}
		}
	}
}

// queued is the number of requests waiting for the models on g.
func (s *Scheduler) queued(g *gpu) int {
	n := 0
	for _, m := range g.models {
		n += len(m.queue)
	}
	return n
}

// makeRoom evicts models from g until need pages are free: idle models
// first, least recently used first, then models with queued requests
// likewise. It never evicts a model being loaded or running, nor one
// loaded here that has not yet run a batch: otherwise, under memory
// pressure, loads and evictions alternate and almost nothing runs. It
// evicts nothing if that cannot free enough.
func (s *Scheduler) makeRoom(g *gpu, need int) bool {
	var victims []*model
	free := g.free
	for _, m := range g.models {
		if m.loadingOn != g && !(g.busy && g.current == m) && !g.unserved[m.id] {
			victims = append(victims, m)
		}
	}
	slices.SortStableFunc(victims, func(a, b *model) int {
		if c := cmp.Compare(min(len(a.queue), 1), min(len(b.queue), 1)); c != 0 {
			return c // idle models first
		}
		return cmp.Compare(g.lastUse[a.id], g.lastUse[b.id])
	})
	n := 0
	for ; free < need && n < len(victims); n++ {
		free += victims[n].pages
	}
	if free < need {
		return false
	}
	for _, m := range victims[:n] {
		s.evict(g, m)
	}
	return true
}

func (s *Scheduler) evict(g *gpu, m *model) {
	g.models = slices.DeleteFunc(g.models, func(x *model) bool { return x == m })
	m.resident = slices.DeleteFunc(m.resident, func(x *gpu) bool { return x == g })
	g.free += m.pages
	delete(g.unserved, m.id)
	a := s.evictAction(g, m)
	a.copies++ // counted before the eviction, as INFER5 logs it
	s.send(a)
}

// evictAction is an EvictWeights of m on g.
func (s *Scheduler) evictAction(g *gpu, m *model) *action {
	a := s.newAction(workerapi.EvictWeightsType, g, m)
	a.wire = &workerapi.EvictWeights{ID: a.id, ModelID: int32(m.id), GPU: uint32(g.local), Latest: workerapi.NoLatest}
	return a
}

func (s *Scheduler) startLoad(g *gpu, m *model) {
	g.free -= m.pages
	g.models = append(g.models, m)
	m.loadingOn = g
	g.unserved[m.id] = true
	a := s.newAction(workerapi.LoadWeightsType, g, m)
	// Loads may queue on the GPU's weights link: each is expected to end
	// after those before it, and its result is overdue only a timeout
	// after that (a load behind more than the timeout of others used to
	// be given up while the worker went on to load it).
	a.expDuration = m.weights
	g.loadsEnd = max(g.loadsEnd, s.now) + m.weights
	a.expEnd = g.loadsEnd
	a.wire = &workerapi.LoadWeights{ID: a.id, ModelID: int32(m.id), GPU: uint32(g.local), Latest: workerapi.NoLatest,
		ExpectedDuration: uint64(m.weights)}
	s.send(a)
}

// dispatch gives every idle GPU a batch: of the model on it whose oldest
// queued request is the oldest, as many requests as the model's adaptive
// maximum allows.
func (s *Scheduler) dispatch() {
	for _, g := range s.gpus {
		if g.busy || g.down {
			continue
		}
		var best *model
		for _, m := range g.models {
			if m.loadingOn == g || len(m.queue) == 0 {
				continue
			}
			if best == nil || m.queue[0].seq < best.queue[0].seq {
				best = m
			}
		}
		if best != nil {
			s.startInfer(g, best)
		}
	}
}

func (s *Scheduler) startInfer(g *gpu, m *model) {
	n := min(len(m.queue), m.batch[m.maxBatch])
	a := s.newAction(workerapi.InferType, g, m)
	a.reqs = slices.Clone(m.queue[:n])
	clear(m.queue[:n])
	m.queue = m.queue[n:]
	a.queued = len(m.queue)
	for i, b := range m.batch {
		if b >= n {
			a.expDuration = m.exec[i]
			a.expEnd = s.now + a.expDuration
			break
		}
	}
	in := &workerapi.Infer{ID: a.id, ModelID: int32(m.id), GPU: uint32(g.local), Latest: workerapi.NoLatest,
		ExpectedDuration: uint64(a.expDuration), BatchSize: uint32(n),
		InputSizes: make([]uint32, n), InputParts: make([][]byte, n)}
	for i, q := range a.reqs {
		input, generated := s.cfg.Input(q.req, m.inputSize)
		a.generated = a.generated || generated
		in.InputParts[i], in.InputSizes[i] = input, uint32(len(input))
	}
	a.wire = in
	g.busy, g.current = true, m
	delete(g.unserved, m.id)
	s.touch(g, m)
	s.send(a)
}

// adapt grows the model's maximum batch to the next supported size after a
// batch processed within the SLO, and halves it after one that was not.
func (m *model) adapt(late bool) {
	if !late {
		m.maxBatch = min(m.maxBatch+1, len(m.batch)-1)
		return
	}
	half := m.batch[m.maxBatch] / 2
	for m.maxBatch > 0 && m.batch[m.maxBatch] > half {
		m.maxBatch--
	}
}

func (s *Scheduler) touch(g *gpu, m *model) {
	s.useSeq++
	g.lastUse[m.id] = s.useSeq
}
