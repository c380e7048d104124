package infer5

import (
	"fmt"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// runLoad offers the GPUs with PCIe slack a load in turns, as the
// original's round-robin load threads do: each offer goes to the GPU after
// the one offered last, until every GPU in a row has declined, so that
// successive loads go to successive GPUs. (Turning once a round of offers
// made the turn depend on how many rounds found nothing to load: with an
// even number of GPUs, every load went to the same half of them, GPU 0
// evicting while GPU 1 stood empty.) The offers go first only to GPUs where
// the model they would load fits in free pages, then to all: a model is
// not loaded by evicting others while another GPU has room for it. With
// one GPU the decisions are the original's. It notes when a GPU whose PCIe
// link is busy will have slack again.
func (s *Scheduler) runLoad() {
	s.loadWake = never
	s.offerLoads(true)
	s.offerLoads(false)
}

// offerLoads is one series of offers in turns; with fitting, a GPU takes
// an offer only if the model it would load fits in its free pages.
func (s *Scheduler) offerLoads(fitting bool) {
	for declined := 0; declined < len(s.gpus) && s.tracker.wantsLoad(); {
		g := s.gpus[s.nextLoad]
		s.nextLoad = (s.nextLoad + 1) % len(s.gpus)
		if g.down {
			declined++
			continue
		}
		free := g.pcie.available(s.now)
		if free >= s.now+s.cfg.ScheduleAhead {
			s.loadWake = min(s.loadWake, g.pcie.readyAt(s.now, s.cfg.ScheduleAhead))
			declined++
			continue
		}
		if !s.loadPaced(g) {
			declined++
			continue
		}
		id := s.tracker.choose(g.idx)
		if id < 0 || fitting && g.free < s.models[id].pages {
			// A choice declined for want of room is not a consultation:
			// the offers to all GPUs come next.
			if id < 0 {
				g.lastLoad, g.consulted = s.now, true
			}
			declined++
			continue
		}
		g.lastLoad, g.consulted = s.now, true
		if s.scheduleLoad(g, free, id) {
			declined = 0
		} else {
			declined++
		}
	}
}

// scheduleLoad is the original's GPU.schedule_load for a GPU whose PCIe
// link is free at free: load model id, which the tracker chose for it,
// evicting models to make room. It reports whether it sent a LoadWeights.
func (s *Scheduler) scheduleLoad(g *gpu, free int64, id int) bool {
	s.tracker.loadModel(id, g.idx)
	m := s.models[id]
	inst := &g.instances[id]
	if inst.loaded || inst.loading {
		// The tracker and the instances disagree; the original crashes.
		fmt.Fprintf(s.log, "Load tracker chose model %d for W%d-GPU%d, which already has it\n", id, g.worker, g.local)
		return false
	}
	if m.pages <= g.pages {
		// (One that could never fit evicts nothing.)
		s.evictPages(g, m.pages)
	}
	if g.free < m.pages {
		// Applied before the next offer, as the original's tracker thread
		// applies it within microseconds: until then the model counts as
		// loading here, and no other GPU is offered it.
		s.tracker.loadComplete(id, g.idx, false)
		s.tracker.update(s.now)
		return false
	}
	g.free -= m.pages

	inst.version++
	inst.loading = true
	a := s.newAction(workerapi.LoadWeightsType, g, m)
	a.inst, a.version = inst, inst.version
	earliest, latest := s.window(a, free, m.weights)
	a.resultFrom = latest + m.weights
	a.wire = &workerapi.LoadWeights{
		ID: a.id, ModelID: int32(id), GPU: uint32(g.local),
		Earliest: uint64(earliest), Latest: uint64(latest), ExpectedDuration: uint64(m.weights),
	}
	g.pcie.add(a.id, m.weights, s.now)
	g.loads++
	s.send(a)
	return true
}

// evictPages evicts models from g, as the tracker picks them, until need
// pages are free or nothing more can go. Pages count as free as soon as the
// eviction is decided; Infers of an evicted model still in flight will fail
// at the worker.
func (s *Scheduler) evictPages(g *gpu, need int) {
	for g.free < need {
		id := s.tracker.evictModel(g.idx)
		if id < 0 {
			return
		}
		m := s.models[id]
		inst := &g.instances[id]
		inst.version++
		inst.loading = false
		if inst.loaded {
			inst.loaded = false
			m.removeLoaded(inst)
		}
		g.free += m.pages

		a := s.evictAction(g, m, inst)
		a.copiesLoaded++ // the original logs the count before the eviction
		s.send(a)
	}
}

// evictAction is an EvictWeights of m's instance inst on g.
func (s *Scheduler) evictAction(g *gpu, m *model, inst *instance) *action {
	a := s.newAction(workerapi.EvictWeightsType, g, m)
	a.inst, a.resultFrom = inst, s.now
	a.wire = &workerapi.EvictWeights{ID: a.id, ModelID: int32(m.id), GPU: uint32(g.local), Latest: workerapi.NoLatest}
	return a
}
