package baseline

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
// far as max_gpus allows.
func (s *Scheduler) WorkerRejoined(now int64, w *scheduler.Worker) {
	s.setNow(now)
	for _, g := range s.gpus {
		spec := w.GPU(g.local)
		if g.worker != w.ID || !g.down || spec == nil {
			continue
		}
		g.down = false
		g.pages, g.free = spec.TotalPages, spec.TotalPages
		n := s.adopt(g, spec)
		fmt.Fprintf(s.log, "W%d-GPU%d is back in service (%d pages, model copies resident: %d)\n", g.worker, g.local, g.pages, n)
	}
	had := func(local int) bool {
		return slices.ContainsFunc(s.gpus, func(g *gpu) bool { return g.worker == w.ID && g.local == local })
	}
	for _, spec := range w.Joining(had, len(s.gpus), s.cfg.MaxGPUs, s.log) {
		g := s.newGPU(w.ID, spec)
		n := s.adopt(g, spec)
		fmt.Fprintf(s.log, "W%d-GPU%d joins the cluster (%d pages, model copies resident: %d)\n", g.worker, g.local, g.pages, n)
	}
}

// gpuDown takes g out of service until its worker rejoins listing it, as
// INFER5 does: it gets no more actions, and its models count as not
// there, so that their queues load them elsewhere; requests for a model
// that no GPU left can hold fail (load). What is in flight there is
// answered as usual, by its results or their timeouts.
func (s *Scheduler) gpuDown(g *gpu, reason string) {
	if g.down {
		return
	}
	g.down = true
	lost := 0
	for _, m := range g.models {
		if m.loadingOn == g {
			m.loadingOn = nil
		} else {
			m.resident = slices.DeleteFunc(m.resident, func(x *gpu) bool { return x == g })
			lost++
		}
	}
	clear(g.models)
	g.models, g.free = g.models[:0], 0
	clear(g.unserved)
	fmt.Fprintf(s.log, "W%d-GPU%d is down (%s); it gets no more work (model copies lost: %d)\n", g.worker, g.local, reason, lost)
}

// noteUnusable takes a's GPU out of service if the worker said it is
// broken (status 14).
func (s *Scheduler) noteUnusable(a *action, code int32, message string) {
	if code == workerapi.ErrGPUUnusable {
		s.gpuDown(a.g, message)
	}
}
