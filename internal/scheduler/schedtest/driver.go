package schedtest

import (
	"fmt"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/telemetry"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Driver runs a scheduler in virtual time the way the controller runs it in
// real time: every event is followed by Ready, transmissions are
// acknowledged with Sent, and the scheduler is ticked at the wake times it
// asks for. Actions go to Sim, if set, once transmitted.
type Driver struct {
	S   scheduler.Scheduler
	Sim *Sim
	Now int64

	// Transmission. By default every action is transmitted at once and
	// successfully. SendTime, if set, gives how long each takes; SendError,
	// if set, may fail it. ManualAck leaves acknowledgement to Ack.
	SendTime  func(scheduler.Send) int64
	SendError func(scheduler.Send) error
	ManualAck bool

	// Observers of what the scheduler decides.
	OnSend     func(at int64, s scheduler.Send)
	OnResponse func(at int64, r *scheduler.Response)
	OnAction   func(at int64, r *telemetry.ActionRecord)

	// Err records the first broken promise of the scheduler: a wake time
	// that is not in the future.
	Err error

	wake int64
	acks eventHeap[scheduler.Send]
	out  scheduler.Output
}

// Infer admits r, arriving now.
func (d *Driver) Infer(r *scheduler.Request) {
	r.Arrival = d.Now
	d.S.Infer(d.Now, r)
	d.Flush()
}

// Deliver hands the scheduler, now, a result from a worker that reached
// the controller at received.
func (d *Driver) Deliver(received int64, worker int, res workerapi.Result) {
	d.S.Result(d.Now, received, worker, res)
	d.Flush()
}

// WorkerLost reports, now, that the connection to a worker is gone.
func (d *Driver) WorkerLost(worker int) {
	d.S.WorkerLost(d.Now, worker)
	d.Flush()
}

// ClientGone reports, now, that the client of the requests gone picks
// has disconnected.
func (d *Driver) ClientGone(gone func(*scheduler.Request) bool) {
	d.S.ClientGone(d.Now, gone)
	d.Flush()
}

// WorkerRejoined reports, now, that a lost worker is back with w's state.
func (d *Driver) WorkerRejoined(w *scheduler.Worker) {
	d.S.WorkerRejoined(d.Now, w)
	d.Flush()
}

// Ack reports, now, the end of an action's transmission.
func (d *Driver) Ack(s scheduler.Send, err error) {
	d.S.Sent(d.Now, s.Worker, s.Action.ActionID(), err)
	if err == nil && d.Sim != nil {
		d.Sim.Submit(d.Now, s.Worker, s.Action)
	}
	d.Flush()
}

// Wake is the scheduler's latest wake time (0: none).
func (d *Driver) Wake() int64 { return d.wake }

// RunUntil advances time to t, delivering on the way, in time order,
// simulated results, transmission acknowledgements and ticks.
func (d *Driver) RunUntil(t int64) {
	for {
		next, ok := d.next()
		if !ok || next > t {
			break
		}
		d.Now = max(d.Now, next)
		for d.Sim != nil {
			if at, ok := d.Sim.Next(); !ok || at > d.Now {
				break
			}
			_, w, res := d.Sim.Pop()
			d.S.Result(d.Now, d.Now, w, res)
		}
		for d.acks.len() > 0 && d.acks.top() <= d.Now {
			_, s := d.acks.pop()
			err := d.sendError(s)
			d.S.Sent(d.Now, s.Worker, s.Action.ActionID(), err)
			if d.Sim != nil && err == nil {
				d.Sim.Submit(d.Now, s.Worker, s.Action)
			}
		}
		if d.wake != 0 && d.wake <= d.Now {
			d.S.Tick(d.Now)
		}
		d.Flush()
		if d.Err != nil {
			return // a scheduler that wants waking in the past would spin
		}
	}
	d.Now = max(d.Now, t)
}

func (d *Driver) next() (int64, bool) {
	next, ok := int64(0), false
	consider := func(t int64) {
		if !ok || t < next {
			next, ok = t, true
		}
	}
	if d.wake != 0 {
		consider(d.wake)
	}
	if d.Sim != nil {
		if at, has := d.Sim.Next(); has {
			consider(at)
		}
	}
	if d.acks.len() > 0 {
		consider(d.acks.top())
	}
	return next, ok
}

// Flush collects the scheduler's decisions, transmitting what it sends,
// until it has nothing more to say now.
func (d *Driver) Flush() {
	for {
		d.out.Reset()
		d.S.Ready(&d.out)
		d.wake = d.out.Wake
		if d.wake != 0 && d.wake <= d.Now && d.Err == nil {
			d.Err = fmt.Errorf("at %d the scheduler asked to be woken at %d", d.Now, d.wake)
		}
		for i := range d.out.Responses {
			if d.OnResponse != nil {
				d.OnResponse(d.Now, &d.out.Responses[i])
			}
		}
		for i := range d.out.Actions {
			if d.OnAction != nil {
				d.OnAction(d.Now, &d.out.Actions[i])
			}
		}
		acked := false
		for _, s := range d.out.Sends {
			if d.OnSend != nil {
				d.OnSend(d.Now, s)
			}
			switch {
			case d.ManualAck:
			case d.SendTime != nil:
				d.acks.push(d.Now+d.SendTime(s), s)
			default:
				err := d.sendError(s)
				d.S.Sent(d.Now, s.Worker, s.Action.ActionID(), err)
				if err == nil && d.Sim != nil {
					d.Sim.Submit(d.Now, s.Worker, s.Action)
				}
				acked = true
			}
		}
		if !acked {
			return
		}
	}
}

func (d *Driver) sendError(s scheduler.Send) error {
	if d.SendError == nil {
		return nil
	}
	return d.SendError(s)
}
