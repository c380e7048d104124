package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// workerConn is the connection to one worker. Its fields other than conn
// belong to the controller's loop.
type workerConn struct {
	id   int
	addr string
	conn *wire.Conn
	down error // set once the connection is lost
	// rejoin is set while a reconnected worker is brought to the
	// cluster's models (rejoin.go); a scheduler's action for it fails
	// meanwhile (none is sent to a lost worker's GPUs).
	rejoin *rejoin
	// refusals is how many rejoins in a row ended without the worker
	// back, refused (dropRejoin) or cut off with the connection, carried
	// over reconnections: the next redial waits the longer (redialDelay).
	refusals int

	// Scheduler actions sent and not yet answered, so that a lost
	// connection can fail them (the original hung or crashed).
	outstanding map[int32]*outAction
}

type outAction struct {
	typ     workerapi.ActionType
	written bool
}

// dialWorker connects to a worker, retrying until timeout (a worker may
// still be starting), and starts its reader.
func dialWorker(ctx context.Context, id int, addr string, timeout time.Duration, events chan<- event) (*workerConn, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("controller: worker address %q: %w", addr, err)
	}
	deadline := time.Now().Add(timeout)
	var d net.Dialer
	for {
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			w := &workerConn{id: id, addr: addr, conn: wire.NewConn(nc), outstanding: make(map[int32]*outAction)}
			go w.read(events)
			return w, nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return nil, fmt.Errorf("controller: cannot connect to worker %s: %w", addr, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (w *workerConn) read(events chan<- event) {
	for {
		msg, err := w.conn.Receive()
		at := clock.Now()
		if err == nil {
			var r workerapi.Result
			if r, err = workerapi.DecodeResult(msg); err == nil {
				events <- event{kind: evWorkerResult, worker: w.id, result: r, at: at}
				continue
			}
		}
		w.conn.Close()
		if errors.Is(err, io.EOF) {
			err = errors.New("closed by worker")
		}
		events <- event{kind: evWorkerDown, worker: w.id, err: err}
		return
	}
}

// sendStartup sends a startup action (not tracked).
func (c *Controller) sendStartup(worker int, a workerapi.Action) {
	msg, err := workerapi.EncodeAction(a)
	if err == nil {
		err = c.workers[worker].conn.Send(msg)
	}
	if err != nil {
		fmt.Fprintf(c.out, "Cannot send %s to worker %d: %v\n", a.Describe(0), worker, err)
	}
}

// sendScheduled sends a scheduler's action; the scheduler hears of the
// transmission's end through Sent.
func (c *Controller) sendScheduled(worker int, a workerapi.Action) {
	id := a.ActionID()
	refuse := func(err error) {
		c.sched.Sent(0, worker, id, err)
		c.refused = true
	}
	if worker < 0 || worker >= len(c.workers) {
		refuse(fmt.Errorf("no worker %d", worker))
		return
	}
	w := c.workers[worker]
	if w.rejoin != nil {
		refuse(fmt.Errorf("worker %d is rejoining", worker))
		return
	}
	msg, err := workerapi.EncodeAction(a)
	if err != nil {
		refuse(err)
		return
	}
	w.outstanding[id] = &outAction{typ: a.Type()}
	events := c.events
	msg.Sent = func(err error) {
		ev := event{kind: evWorkerSent, worker: worker, actionID: id, err: err}
		select {
		case events <- ev:
		default:
			// Never block the caller: this may run on the loop itself
			// (a send on a closed connection fails at once).
			go func() { events <- ev }()
		}
	}
	w.conn.Send(msg) // a failure reaches msg.Sent
}

// answered removes an action on its result; false if it was not outstanding.
func (w *workerConn) answered(id int32) bool {
	_, ok := w.outstanding[id]
	delete(w.outstanding, id)
	return ok
}

// written marks an outstanding action as transmitted and returns its type.
func (w *workerConn) written(id int32) (workerapi.ActionType, bool) {
	a, ok := w.outstanding[id]
	if !ok {
		return 0, false
	}
	a.written = true
	return a.typ, true
}

func (w *workerConn) forget(id int32) { delete(w.outstanding, id) }

// takeWritten removes and returns the transmitted, unanswered actions.
func (w *workerConn) takeWritten() map[int32]workerapi.ActionType {
	out := make(map[int32]workerapi.ActionType)
	for id, a := range w.outstanding {
		if a.written {
			out[id] = a.typ
			delete(w.outstanding, id)
		}
	}
	return out
}
