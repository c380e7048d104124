// Package echo is the original's ECHO scheduler, a test of everything but
// scheduling: every inference request is answered at once with success and
// an empty output, and nothing is sent to workers.
package echo

import (
	"fmt"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Scheduler answers every request immediately.
type Scheduler struct {
	cfg     scheduler.Config
	known   map[int]bool // the models the workers hold
	pending []scheduler.Response
}

// New returns an ECHO scheduler for the models of st and prints its
// start-up line.
func New(cfg scheduler.Config, st *scheduler.State) *Scheduler {
	if cfg.Log != nil {
		fmt.Fprintln(cfg.Log, "EchoScheduler started")
	}
	s := &Scheduler{cfg: cfg, known: make(map[int]bool)}
	for _, w := range st.Workers {
		for _, m := range w.Models {
			s.known[m.ID] = true
		}
	}
	return s
}

// Infer implements scheduler.Scheduler. A request for a model no worker
// holds succeeds too, as in the original; it is marked UnknownModel, so
// that the metrics count it without a series for its id (a client sending
// a million ids made a scrape of 806 MB).
func (s *Scheduler) Infer(now int64, r *scheduler.Request) {
	s.pending = append(s.pending, scheduler.Response{Req: r, Departure: now, UnknownModel: !s.known[r.ModelID]})
}

// Result implements scheduler.Scheduler; ECHO sends no actions.
func (s *Scheduler) Result(now, received int64, worker int, res workerapi.Result) {
	if s.cfg.Log != nil {
		fmt.Fprintf(s.cfg.Log, "Unexpectedly received a result from a worker: %s\n", workerapi.Brief(res))
	}
}

// Sent implements scheduler.Scheduler.
func (s *Scheduler) Sent(int64, int, int32, error) {}

// WorkerLost implements scheduler.Scheduler; ECHO uses no workers.
func (s *Scheduler) WorkerLost(int64, int) {}

// WorkerRejoined implements scheduler.Scheduler; ECHO uses no workers.
func (s *Scheduler) WorkerRejoined(int64, *scheduler.Worker) {}

// ClientGone implements scheduler.Scheduler; ECHO answers every request
// at once, so it holds none.
func (s *Scheduler) ClientGone(int64, func(*scheduler.Request) bool) {}

// Tick implements scheduler.Scheduler.
func (s *Scheduler) Tick(int64) {}

// Ready implements scheduler.Scheduler.
func (s *Scheduler) Ready(out *scheduler.Output) {
	out.Responses = append(out.Responses, s.pending...)
	clear(s.pending)
	s.pending = s.pending[:0]
}
