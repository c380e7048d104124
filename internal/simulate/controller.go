package simulate

import (
	"fmt"

	"github.com/clockwork-go/clockwork/client"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// The controller's side: the scheduler is fed events and asked for its
// decisions as internal/controller's loop does, with the network model in
// place of connections.

// result hands the scheduler a worker's result arriving at now.
func (s *sim) result(now int64, worker int, r workerapi.Result) {
	s.sched.Result(now, now, worker, r)
	s.decideSoon()
}

// decideSoon queues a decision at the current time, after every event
// already queued for it: the controller, too, takes all waiting events
// before it decides, so requests arriving together are batched together.
func (s *sim) decideSoon() {
	if !s.deciding {
		s.deciding = true
		s.clock.After(0, s.decideFn)
	}
}

// decide ticks the scheduler and carries out what it decided.
func (s *sim) decide() {
	s.deciding = false
	now := s.now()
	s.sched.Tick(now)
	out := &s.out
	out.Reset()
	s.sched.Ready(out)
	for _, snd := range out.Sends {
		s.transmit(now, snd)
	}
	for i := range out.Responses {
		s.respond(now, &out.Responses[i])
	}
	for i := range out.Actions {
		s.actLog.Log(&out.Actions[i]) // a write error is sticky: Close reports it
	}
	s.wake(now, out.Wake)
}

// wake makes sure the scheduler is ticked at its wake time at. A wake time
// that is not in the future is taken as "as soon as possible", as the
// controller's timer takes it.
func (s *sim) wake(now, at int64) {
	if at == 0 || (s.wakeAt != 0 && s.wakeAt <= at) {
		return
	}
	at = max(at, now+1)
	s.wakeAt = at
	s.at(at, func() {
		if s.wakeAt == at {
			s.wakeAt = 0
			s.decideSoon()
		}
	})
}

// transmit sends an action to its worker: the scheduler hears when its
// transmission ends, the worker gets it a latency later.
func (s *sim) transmit(now int64, snd scheduler.Send) {
	id := snd.Action.ActionID()
	if snd.Worker < 0 || snd.Worker >= len(s.workers) {
		s.sched.Sent(now, snd.Worker, id, fmt.Errorf("no worker %d", snd.Worker))
		s.decideSoon()
		return
	}
	w, a := s.workers[snd.Worker], snd.Action
	sent, arrives := w.down.send(now, actionSize(a))
	s.at(sent, func() {
		if w.lost {
			s.sched.Sent(sent, w.id, id, errLost)
		} else {
			w.outstanding[id] = a.Type()
			s.sched.Sent(sent, w.id, id, nil)
		}
		s.decideSoon()
	})
	s.at(arrives, func() {
		if !w.lost {
			w.deliver(arrives, a)
		}
	})
}

// respond logs a response and returns it to its client.
func (s *sim) respond(now int64, r *scheduler.Response) {
	if r.Departure == 0 {
		r.Departure = now
	}
	rec := r.Record()
	s.reqLog.Log(&rec)
	p, ok := r.Req.Tag.(*pending)
	if !ok {
		s.fail(fmt.Errorf("simulate: response to request %d, which no client sent", r.Req.UserRequestID))
		return
	}
	if p.answered {
		s.duplicates++
		s.fail(fmt.Errorf("simulate: request %d answered twice", r.Req.UserRequestID))
		return
	}
	p.answered = true
	s.answered++
	var err error
	if r.Status != 0 {
		err = &client.StatusError{Status: r.Status, Message: r.Message}
	}
	output := r.Output
	s.at(now+s.net.ClientLatency, func() { p.done(output, err) })
}
