package simulate

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Loss is a worker whose connection the controller loses At after the
// workload starts: the worker process is gone, its results never arrive,
// and the controller answers the actions it had transmitted to it with
// errors and tells the scheduler (WorkerLost), as the real controller
// does. With Rejoin set (after At), a new worker process answers at its
// address Rejoin after the start: it gets the cluster's models and its
// GPUs go back to the scheduler (WorkerRejoined), as the controller's
// rejoin does; its redial and the load's duration are not modelled.
type Loss struct {
	Worker     int
	At, Rejoin time.Duration
}

// errLost fails what is transmitted to a lost worker.
var errLost = errors.New("connection to the worker lost")

// scheduleLosses queues cfg.Losses on the clock, from the workload's start.
func (s *sim) scheduleLosses(start int64) error {
	for _, l := range s.cfg.Losses {
		switch {
		case l.Worker < 0 || l.Worker >= len(s.workers):
			return fmt.Errorf("simulate: lost worker %d of %d", l.Worker, len(s.workers))
		case l.At <= 0:
			return fmt.Errorf("simulate: worker %d lost at %v: must be after the start", l.Worker, l.At)
		case l.Rejoin != 0 && l.Rejoin <= l.At:
			return fmt.Errorf("simulate: worker %d rejoins at %v, not after its loss at %v", l.Worker, l.Rejoin, l.At)
		}
		s.at(start+int64(l.At), func() { s.lose(l.Worker) })
		if l.Rejoin != 0 {
			s.at(start+int64(l.Rejoin), func() { s.rejoin(l.Worker) })
		}
	}
	return nil
}

// lose loses the connection to worker id now.
func (s *sim) lose(id int) {
	w := s.workers[id]
	if w.lost {
		return
	}
	w.lost = true
	now := s.now()
	fmt.Fprintf(s.console, "Lost connection to worker %d\n", id)
	s.sched.WorkerLost(now, id)
	ids := make([]int32, 0, len(w.outstanding))
	for a := range w.outstanding {
		ids = append(ids, a)
	}
	slices.Sort(ids) // deterministic runs
	for _, a := range ids {
		s.sched.Result(now, now, id, &workerapi.ErrorResult{ID: a, ActionType: w.outstanding[a], Code: workerapi.ErrRuntimeError,
			Message: "worker connection lost: " + errLost.Error(), ActionReceived: uint64(now), ResultSent: uint64(now)})
	}
	clear(w.outstanding)
	s.decideSoon()
}

// rejoin has a new worker process answer at worker id's address now.
func (s *sim) rejoin(id int) {
	if !s.workers[id].lost {
		return
	}
	now := s.now()
	w := newWorker(s, id, s.cfg.GPUs, s.wcfg)
	st, err := s.bringUp(now, w)
	if err != nil {
		s.fail(fmt.Errorf("simulate: worker %d cannot rejoin: %w", id, err))
		return
	}
	s.workers[id] = w
	fmt.Fprintf(s.console, "Worker %d rejoined with %d GPUs\n", id, len(st.GPUs))
	s.sched.WorkerRejoined(now, &st)
	s.decideSoon()
}

// bringUp loads the cluster's models into a new worker process, as the
// controller's rejoin does, and returns its state.
func (s *sim) bringUp(now int64, w *simWorker) (scheduler.Worker, error) {
	loads, err := scheduler.ModelLoads(s.state.Workers[w.id].Models, nil)
	if err != nil {
		return scheduler.Worker{}, err
	}
	for _, a := range loads {
		a.ID, a.Latest = s.nextAction, workerapi.NoLatest
		a.MaxBatchSize, a.MaxExecDuration = uint32(s.schedCfg.MaxBatch), uint64(s.schedCfg.MaxExec)
		s.nextAction++
		res, err := w.call(now, a)
		if err == nil && res.Status() != workerapi.Success {
			err = fmt.Errorf("loading %s: %s", a.Path, res)
		}
		if err != nil {
			return scheduler.Worker{}, err
		}
	}
	query := s.nextAction
	s.nextAction++
	return w.state(now, query)
}
