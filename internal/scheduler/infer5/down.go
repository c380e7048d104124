package infer5

import (
	"fmt"
	"slices"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// WorkerLost implements scheduler.Scheduler: the worker's GPUs are down.
func (s *Scheduler) WorkerLost(now int64, worker int) {
	s.setNow(now)
	for _, g := range s.gpus {
		if g.worker == worker {
			s.gpuDown(g, "connection to its worker lost")
		}
	}
}

// WorkerRejoined implements scheduler.Scheduler: the worker's GPUs that w
// lists are back in service, with the weights w says they hold. (Ours
// leaves out a GPU that answered status 14 until the process restarts.)
// The GPUs it lists that the scheduler has not had join the cluster, as
// far as max_gpus allows. Either kind serves only if its weights cache is
// the size of the others'.
func (s *Scheduler) WorkerRejoined(now int64, w *scheduler.Worker) {
	s.setNow(now)
	for _, g := range s.gpus {
		spec := w.GPU(g.local)
		if g.worker != w.ID || !g.down || spec == nil {
			continue
		}
		if spec.TotalPages != s.pagesPerGPU { // as for a GPU that joins
			fmt.Fprintf(s.log, "W%d-GPU%d stays out of service: its weights cache has %d pages, the others %d\n",
				g.worker, g.local, spec.TotalPages, s.pagesPerGPU)
			continue
		}
		g.down = false
		g.pages, g.free = spec.TotalPages, spec.TotalPages
		s.serve(g, spec, "is back in service")
	}
	had := func(local int) bool {
		return slices.ContainsFunc(s.gpus, func(g *gpu) bool { return g.worker == w.ID && g.local == local })
	}
	for _, spec := range w.Joining(had, len(s.gpus), s.cfg.MaxGPUs, s.log) {
		if spec.TotalPages != s.pagesPerGPU { // the original requires caches of one size
			fmt.Fprintf(s.log, "W%d-GPU%d is not used: its weights cache has %d pages, the others %d\n",
				w.ID, spec.ID, spec.TotalPages, s.pagesPerGPU)
			continue
		}
		g := s.newGPU(w.ID, spec)
		s.makeInstances(g, make([]instance, len(s.models)))
		s.tracker.growGPUs()
		s.serve(g, spec, "joins the cluster")
	}
}

// serve puts g in service with the weights spec says it holds.
func (s *Scheduler) serve(g *gpu, spec *scheduler.GPU, how string) {
	n := s.adopt(g, spec)
	for i := range g.instances {
		if g.instances[i].loaded { // its queued requests may run here now
			s.activate(&g.instances[i])
		}
	}
	s.markCandidate(g)
	fmt.Fprintf(s.log, "W%d-GPU%d %s (%d pages, model copies resident: %d)\n", g.worker, g.local, how, g.pages, n)
}

// noteUnusable takes a's GPU out of service if the worker said it is
// broken (e, status 14).
func (s *Scheduler) noteUnusable(a *action, e *workerapi.ErrorResult) {
	if e.Code == workerapi.ErrGPUUnusable {
		s.gpuDown(a.g, e.Message)
	}
}

// gpuDown takes g out of service until its worker rejoins listing it: it
// gets no more Infers, loads or evictions, and its models count as not
// there, so that their demand loads them elsewhere. What is in flight
// there is answered as usual, by its results or their timeouts. The
// original had no such state: its worker aborted on any CUDA error, and a
// GPU behind a lost connection kept being offered work that could only
// fail.
func (s *Scheduler) gpuDown(g *gpu, reason string) {
	if g.down {
		return
	}
	g.down = true
	lost := 0
	for i := range g.instances {
		inst := &g.instances[i]
		inst.gen++ // drops its strategies
		inst.active = false
		if inst.loaded || inst.loading {
			inst.version++ // a load in flight no longer counts
		}
		inst.loading = false
		if inst.loaded {
			inst.loaded = false
			inst.m.removeLoaded(inst)
			lost++
		}
	}
	clear(g.activated)
	g.activated, g.strategies = g.activated[:0], g.strategies[:0]
	g.strategies4 = timers[*strategy4]{}
	g.free = 0
	s.tracker.dropGPU(g.idx)
	fmt.Fprintf(s.log, "W%d-GPU%d is down (%s); it gets no more work (model copies lost: %d)\n", g.worker, g.local, reason, lost)
	// Its actions still queued for the network are never sent: one
	// decided before the loss of a worker would reach the process that
	// rejoins in its place.
	s.dropLate(g)
}
