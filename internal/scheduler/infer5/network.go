package infer5

import (
	"fmt"
	"slices"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// network is the original's NetworkExecutor: actions are transmitted in
// the order they were decided, at most networkConcurrency at a time across
// all workers, so that each transmission — an Infer may carry megabytes of
// inputs — gets the link to itself rather than sharing it with all the
// others. An Infer still waiting when its send-by time has passed (other
// actions have none) is not sent; it fails with status 45 at its report time instead. The original
// noticed that only when a transmission ended; ours notices it when the
// send-by time passes, so that transmissions that never end (a worker that
// stopped reading) hold back no answers, and the result timeout of an
// action runs from the start of its transmission.
type network struct {
	pending []*action // from head on
	head    int
	busy    []int32 // ids being transmitted
}

// send queues a for transmission.
func (s *Scheduler) send(a *action) {
	s.inflight[a.id] = a
	s.net.pending = append(s.net.pending, a)
	s.transmit()
}

// transmit starts transmissions while slots are free.
func (s *Scheduler) transmit() {
	n := &s.net
	for n.head < len(n.pending) && len(n.busy) < networkConcurrency {
		a := n.pending[n.head]
		n.pending[n.head] = nil
		n.head++
		if a.sendBy < s.now {
			s.tooLate.push(max(a.errorAt, s.now), tooLate{a, s.now})
			continue
		}
		n.busy = append(n.busy, a.id)
		s.sends = append(s.sends, scheduler.Send{Worker: a.g.worker, Action: a.wire})
		s.overdue.push(max(a.resultFrom, s.now)+s.opts.resultTimeout, a)
	}
	if n.head == len(n.pending) {
		n.pending, n.head = n.pending[:0], 0
	} else if n.head > 1024 && 2*n.head > len(n.pending) {
		k := copy(n.pending, n.pending[n.head:])
		clear(n.pending[k:])
		n.pending, n.head = n.pending[:k], 0
	}
}

// tooLate is a synthetic network error: the action could not be sent in
// time, as decided at at.
type tooLate struct {
	a  *action
	at int64
}

// Sent implements scheduler.Scheduler.
func (s *Scheduler) Sent(now int64, worker int, id int32, err error) {
	s.setNow(now)
	i := slices.Index(s.net.busy, id)
	if i < 0 {
		fmt.Fprintf(s.log, "Ignoring transmission report from worker %d for action %d, which was not being sent\n", worker, id)
		return
	}
	s.net.busy = slices.Delete(s.net.busy, i, i+1)
	if a := s.inflight[id]; a != nil && err != nil {
		// The worker will never see it: fail it as a worker would.
		s.fail(a, workerapi.NetworkSendTooLate, "Could not send action to worker: "+err.Error(), s.now)
	}
	s.transmit()
}

// dropLate takes the actions whose send-by time has passed out of the
// queue while every slot is busy (transmit drops them otherwise), and
// those of GPU g, if not nil, which is down: they fail at their report
// time, and at once, as a worker's lost actions do.
func (s *Scheduler) dropLate(g *gpu) {
	n := &s.net
	if g == nil && len(n.busy) < networkConcurrency {
		return
	}
	k := n.head
	for _, a := range n.pending[n.head:] {
		switch {
		case g != nil && a.g == g:
			s.fail(a, workerapi.ErrRuntimeError, "GPU out of service before the action was sent", s.now)
		case a.sendBy < s.now:
			s.tooLate.push(max(a.errorAt, s.now), tooLate{a, s.now})
		default:
			n.pending[k] = a
			k++
		}
	}
	clear(n.pending[k:])
	n.pending = n.pending[:k]
}

// sendByWake is when dropLate has work: just after the earliest send-by
// time in the queue while every slot is busy (never otherwise).
func (s *Scheduler) sendByWake() int64 {
	n := &s.net
	w := never
	if len(n.busy) < networkConcurrency {
		return w
	}
	for _, a := range n.pending[n.head:] {
		if a.sendBy < never {
			w = min(w, a.sendBy+1)
		}
	}
	return w
}

// deliverTooLate fails the actions the network gave up on, once their
// report time has come.
func (s *Scheduler) deliverTooLate() {
	for s.tooLate.len() > 0 {
		if at, _ := s.tooLate.top(); at > s.now {
			return
		}
		e := s.tooLate.pop()
		if s.inflight[e.a.id] == e.a {
			s.fail(e.a, workerapi.NetworkSendTooLate, "Could not send action to worker in time", e.at)
		}
	}
}

// deliverOverdue fails transmitted actions whose result never came.
func (s *Scheduler) deliverOverdue() {
	for s.overdue.len() > 0 {
		if at, _ := s.overdue.top(); at > s.now {
			return
		}
		a := s.overdue.pop()
		if s.inflight[a.id] != a {
			continue
		}
		fmt.Fprintf(s.log, "No result from worker %d for action %d; giving up on it\n", a.g.worker, a.id)
		s.fail(a, clientapi.StatusTimeout, "Worker did not return a result in time", s.now)
		if a.kind == workerapi.LoadWeightsType {
			if s.givenUp == nil || len(s.givenUp) >= maxGivenUp {
				s.givenUp = make(map[int32]*action)
			}
			s.givenUp[a.id] = a
		}
	}
}

// maxGivenUp bounds the loads given up on whose results are still
// watched for (lateLoad); results that never come are forgotten so.
const maxGivenUp = 4096

// lateLoad handles the result of a LoadWeights given up on: if it
// succeeded, the worker holds the weights in pages counted free here, so
// they are evicted, unless the model is being loaded there again (which
// takes the same pages).
func (s *Scheduler) lateLoad(worker int, a *action, res workerapi.Result) {
	delete(s.givenUp, a.id)
	fmt.Fprintf(s.log, "Late result from worker %d for action %d, given up on: %s\n", worker, a.id, res)
	g, inst := a.g, a.inst
	if _, ok := res.(*workerapi.LoadWeightsResult); !ok || g.worker != worker || g.down || inst.loaded || inst.loading {
		return
	}
	s.send(s.evictAction(g, a.m, inst))
}
