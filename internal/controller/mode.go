package controller

import (
	"context"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Test controllers. The original had two controllers that schedule
// nothing, for testing workers: DIRECT forwards each client request to
// worker 0 (direct.go) and STRESS drives the workers itself, loading,
// evicting and running copies of one model as fast as they take them
// (stress.go). Each replaces both the startup phase and the scheduler.
// Like the startup, each is a state machine driven by the controller's
// loop: it acts through the send it was made with and through each
// request's reply, and takes the time as an argument.
const (
	TestDirect = "DIRECT"
	TestStress = "STRESS"
)

// testMode is a test controller.
type testMode interface {
	begin(now int64)
	request(now int64, req clientapi.Request, r reply)
	// result takes a worker's answer; an error ends the controller.
	result(now int64, worker int, res workerapi.Result) error
	// lost reports a worker's connection gone (its actions get no
	// results); back reports it dialled again.
	lost(now int64, worker int, err error)
	back(now int64, worker int)
	// tick returns when the mode next wants to be called (0: on events).
	tick(now int64) int64
}

// actionIDs hands out a test controller's action ids: 0, 1, …, from 0
// again past 2^31−1 (the rejoin's are negative).
type actionIDs int32

func (a *actionIDs) next() int32 {
	id := int32(*a)
	if *a++; *a < 0 {
		*a = 0
	}
	return id
}

// newTestMode builds the test controller opts.Test names (Run checked
// that it is one).
func (c *Controller) newTestMode() testMode {
	if c.opts.Test == TestDirect {
		d := newDirect(c.out, c.sendStartup, c.opts.MaxBatch, c.opts.MaxExec)
		d.refuse = func() { c.workers[0].conn.Close() }
		return d
	}
	return newStress(c.out, c.sendStartup, len(c.workers), c.opts.Stress)
}

// testLoop is the controller's loop for a test controller.
func (c *Controller) testLoop(ctx context.Context) error {
	m := c.newTestMode()
	m.begin(clock.Now())
	alarm := clock.NewAlarm()
	defer alarm.Stop()
	alarm.Set(m.tick(clock.Now()))
	for {
		select {
		case ev := <-c.events:
			if err := c.handleTest(m, clock.Now(), ev); err != nil {
				return err
			}
		case <-alarm.C:
		case <-ctx.Done():
			return nil
		}
		alarm.Set(m.tick(clock.Now()))
	}
}

func (c *Controller) handleTest(m testMode, now int64, ev event) error {
	switch ev.kind {
	case evClientRequest:
		m.request(now, ev.req, ev.client.replier(ev))
	case evWorkerResult:
		return m.result(now, ev.worker, ev.result)
	case evWorkerDown:
		if c.workerDown(ev) {
			m.lost(now, ev.worker, ev.err)
			c.redialLater(ev.worker)
		}
	case evWorkerBack:
		c.reconnect(ev.worker, ev.conn, nil)
		m.back(now, ev.worker)
	case evClientsDown:
		return clientsDown(ev)
	}
	return nil
}
