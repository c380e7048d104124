package baseline

import (
	"fmt"
	"slices"

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

// gpuDown takes g out of service for good, as INFER5 does: it gets no
// more actions, and its models count as not there, so that their queues
// load them elsewhere; requests for a model that no GPU left can hold
// fail (load). What is in flight there is answered as usual, by its
// results or their timeouts.
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
