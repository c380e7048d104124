package simulate

import (
	"fmt"

	"github.com/clockwork-go/clockwork/internal/config"
	simrt "github.com/clockwork-go/clockwork/internal/runtime/sim"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/worker"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// simWorker drives a worker.Engine in virtual time as worker.Server drives
// it in real time: actions are submitted when they arrive, the runtime
// operations it decides run on the simulated runtime and complete at their
// reported end, and results leave on the link to the controller.
type simWorker struct {
	id       int
	s        *sim
	eng      *worker.Engine
	rt       *simrt.Runtime
	down, up *link // controller → worker, worker → controller
	out      worker.Output
	wakeAt   int64 // pending wake-up, or 0

	// The controller's side of the connection (loss.go): the actions
	// transmitted and not answered, and whether the connection is lost
	// (this process's results never arrive; a rejoin is a new simWorker).
	outstanding map[int32]workerapi.ActionType
	lost        bool
}

func newWorker(s *sim, id, gpus int, c *config.Worker) *simWorker {
	rt := simrt.New(gpus)
	if s.cfg.SlowExecs.Share > 0 {
		// Each process draws its own: a rejoining worker (loss.go) a new
		// sequence, as a new process would.
		rt.SetSlowExecs(s.cfg.SlowExecs, s.cfg.Seed^uint64(id)<<32^uint64(s.workersMade))
	}
	s.workersMade++
	eng := worker.NewEngine(worker.Config{
		GPUs:                rt.NumGPUs(),
		InputStage:          rt.InputStage(),
		PageSize:            c.PageSize,
		Pages:               c.Pages(),
		IOPoolSize:          c.IOPoolSize,
		WorkspacePoolSize:   c.WorkspacePoolSize,
		HostIOPoolSize:      c.HostIOPoolSize,
		AllowZeroSizeInputs: c.AllowZeroSizeInputs,
	})
	return &simWorker{id: id, s: s, eng: eng, rt: rt, down: newLink(s.net), up: newLink(s.net),
		outstanding: make(map[int32]workerapi.ActionType)}
}

// reply is the tag of a startup action: its result is kept, not sent.
type reply struct{ res workerapi.Result }

// call runs a startup action at now and returns its result; startup
// actions (state queries, model loads from disk) finish at once.
func (w *simWorker) call(now int64, a workerapi.Action) (workerapi.Result, error) {
	rp := &reply{}
	w.eng.Submit(now, now, a, rp)
	w.settle(now)
	if rp.res == nil {
		return nil, fmt.Errorf("simulate: worker %d did not answer %s at once", w.id, a.Describe(uint64(now)))
	}
	return rp.res, nil
}

// state queries the worker's state as the controller's startup does.
func (w *simWorker) state(now int64, actionID int32) (scheduler.Worker, error) {
	res, err := w.call(now, &workerapi.GetWorkerState{ID: actionID})
	if err != nil {
		return scheduler.Worker{}, err
	}
	r, ok := res.(*workerapi.GetWorkerStateResult)
	if !ok {
		return scheduler.Worker{}, fmt.Errorf("simulate: worker %d answered GetWorkerState with %s", w.id, res)
	}
	return scheduler.WorkerFromMemory(w.id, &r.Memory), nil
}

// deliver submits an action that arrived from the controller at now.
func (w *simWorker) deliver(now int64, a workerapi.Action) {
	w.eng.Submit(now, now, a, nil)
	w.settle(now)
}

// settle runs everything the engine decides at now: results are sent,
// operations run, and those that end now complete at once.
func (w *simWorker) settle(now int64) {
	for {
		clear(w.out.Evictions)
		w.out.Ops, w.out.Results, w.out.Evictions = w.out.Ops[:0], w.out.Results[:0], w.out.Evictions[:0]
		w.eng.Ready(now, &w.out)
		for _, o := range w.out.Results {
			w.send(now, o)
		}
		for _, x := range w.out.Evictions { // as the worker's server does
			x.Deliver()
		}
		ran := false
		for _, op := range w.out.Ops {
			c := op.Run(w.rt)
			if done := c.Done(); done > now {
				at := done + w.s.cfg.WorkerTimerSlack
				w.s.at(at, func() {
					w.eng.Complete(at, &c)
					w.settle(at)
				})
				continue
			}
			w.eng.Complete(now, &c)
			ran = true
		}
		if !ran {
			break
		}
	}
	w.wake(now, w.out.Wake)
}

// wake makes sure the engine is called again at its wake time at (its
// timer fires WorkerTimerSlack late).
func (w *simWorker) wake(now, at int64) {
	if at == 0 {
		return
	}
	at = max(at, now+1) + w.s.cfg.WorkerTimerSlack
	if w.wakeAt != 0 && w.wakeAt <= at {
		return
	}
	w.wakeAt = at
	w.s.at(at, func() {
		if w.wakeAt == at {
			w.wakeAt = 0
			w.settle(at)
		}
	})
}

// send stamps a result with its send time and transmits it to the
// controller (a startup result goes back to its caller).
func (w *simWorker) send(now int64, o worker.Outcome) {
	if rp, ok := o.Tag.(*reply); ok {
		rp.res = o.Result
		return
	}
	r := o.Result
	received, _ := r.Stamps()
	r.SetStamps(received, uint64(now))
	_, arrives := w.up.send(now, resultSize(r))
	w.s.at(arrives, func() {
		if w.lost {
			return // the connection is gone
		}
		delete(w.outstanding, r.ActionID())
		w.s.result(arrives, w.id, r)
	})
}
