package infer5

import (
	"io"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/telemetry"
)

// Scheduler is the INFER5 scheduler. Create it with New; drive it as
// scheduler.Scheduler describes.
type Scheduler struct {
	cfg  scheduler.Config
	opts options
	log  io.Writer

	models      []*model // by id; nil for ids worker 0 does not have
	gpus        []*gpu
	pagesPerGPU int // every GPU's weights cache at startup (validate)
	tracker     *loadTracker
	net         network

	now      int64
	nextID   int32
	inflight map[int32]*action

	timeouts timers[*request]  // exec deadlines
	tooLate  timers[tooLate]   // synthetic network errors, by report time
	overdue  timers[*action]   // result deadlines
	givenUp  map[int32]*action // loads whose result timed out, by id (lateLoad)
	gpuWakes timers[*gpu]      // when busy GPUs can take more work

	candidates  []*gpu // GPUs due an infer pass
	rr          int    // rotates the GPU an infer round starts at
	spare       []*gpu
	strategyBuf []strategy
	batchBuf    []*request
	nextLoad    int
	loadWake    int64 // when a busy PCIe link frees while loads are wanted

	loggedInputs bool
	slab         []request

	// Decided since the last Ready.
	sends     []scheduler.Send
	responses []scheduler.Response
	records   []telemetry.ActionRecord
}

var _ scheduler.Scheduler = (*Scheduler)(nil)

// Infer implements scheduler.Scheduler. Requests for model ids the
// scheduler does not know are answered at once with status 1.
func (s *Scheduler) Infer(now int64, r *scheduler.Request) {
	s.setNow(now)
	if r.ModelID < 0 || r.ModelID >= len(s.models) || s.models[r.ModelID] == nil {
		s.responses = append(s.responses, scheduler.UnknownModel(r, s.now))
		return
	}
	s.admit(r, s.models[r.ModelID])
}

// Tick implements scheduler.Scheduler.
func (s *Scheduler) Tick(now int64) { s.setNow(now) }

// Ready implements scheduler.Scheduler. Decisions are made here, at the
// latest time any event carried: events since the previous Ready are
// handled together, as the original's threads would have found them.
func (s *Scheduler) Ready(out *scheduler.Output) {
	s.advance()
	out.Sends = append(out.Sends, s.sends...)
	out.Responses = append(out.Responses, s.responses...)
	out.Actions = append(out.Actions, s.records...)
	clear(s.sends)
	clear(s.responses)
	s.sends, s.responses, s.records = s.sends[:0], s.responses[:0], s.records[:0]
	out.Wake = s.wake()
}

// setNow moves the scheduler's clock forward; it never goes back.
func (s *Scheduler) setNow(now int64) { s.now = max(s.now, now) }

// advance does everything due at s.now: what the original's admission,
// results, infer, load and tracker threads would do.
func (s *Scheduler) advance() {
	for {
		s.dropLate(nil)
		s.deliverTooLate()
		s.deliverOverdue()
		s.expire()
		for s.gpuWakes.len() > 0 {
			at, g := s.gpuWakes.top()
			if at > s.now {
				break
			}
			s.gpuWakes.pop()
			if g.wakeAt == at {
				g.wakeAt = 0
				s.markCandidate(g)
			}
		}
		s.runInfer()
		s.tracker.update(s.now)
		s.runLoad()
		if !s.due() {
			return
		}
	}
}

// due reports whether a synthetic error became due while deciding.
func (s *Scheduler) due() bool {
	if s.tooLate.len() == 0 {
		return false
	}
	at, _ := s.tooLate.top()
	return at <= s.now
}

// wake is the earliest future time at which something must happen without
// an event: a request's exec deadline, a queued action's send-by time, a
// synthetic error's report time, a result's deadline, or a busy GPU or
// PCIe link getting room for more work. Load demand expiring is not among them: it only ever makes loads
// less likely, and it is applied before any load decision.
func (s *Scheduler) wake() int64 {
	w := min(s.loadWake, s.sendByWake())
	for s.timeouts.len() > 0 {
		at, q := s.timeouts.top()
		if !q.locked && !q.answered {
			w = min(w, at)
			break
		}
		s.timeouts.pop()
	}
	if s.tooLate.len() > 0 {
		at, _ := s.tooLate.top()
		w = min(w, at)
	}
	for s.overdue.len() > 0 {
		at, a := s.overdue.top()
		if s.inflight[a.id] == a {
			w = min(w, at)
			break
		}
		s.overdue.pop()
	}
	for s.gpuWakes.len() > 0 {
		at, g := s.gpuWakes.top()
		if g.wakeAt == at {
			w = min(w, at)
			break
		}
		s.gpuWakes.pop()
	}
	if w == never {
		return 0
	}
	return w
}
