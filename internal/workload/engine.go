package workload

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"
)

// A Workload issues requests through an Engine. It counts as running from
// the start of Engine.Run until it calls Engine.Done (only finite workloads
// do) or something stops the engine.
type Workload interface {
	Start(e *Engine)
}

// Options configure an Engine.
type Options struct {
	Clock Clock     // default: a RealClock
	Out   io.Writer // console lines; default: discarded
	// Seed is mixed into every workload's random generator and the input
	// picker; runs with equal seeds make equal choices.
	Seed uint64
}

// Engine runs workloads: a min-heap of timers and a queue of completion
// callbacks, all run on the goroutine that calls Run.
type Engine struct {
	clock  Clock
	out    io.Writer
	seed   uint64
	inputs *inputs

	now     time.Duration
	timers  eventHeap
	seq     uint64
	added   []added
	limit   time.Duration
	running int
	stopped bool

	mu    sync.Mutex
	queue []func() // completions posted by other goroutines
	spare []func()
	wake  chan struct{}
}

type added struct {
	w     Workload
	after time.Duration
}

// NewEngine returns an engine with no workloads.
func NewEngine(o Options) *Engine {
	if o.Clock == nil {
		o.Clock = NewRealClock()
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	return &Engine{
		clock:  o.Clock,
		out:    o.Out,
		seed:   o.Seed,
		inputs: newInputs(rand.New(rand.NewPCG(o.Seed, 0x1f3a))),
		wake:   make(chan struct{}, 1),
	}
}

// Add adds a workload that starts when Run starts.
func (e *Engine) Add(w Workload) { e.AddAfter(w, 0) }

// AddAfter adds a workload that starts d after Run starts.
func (e *Engine) AddAfter(w Workload, d time.Duration) {
	e.added = append(e.added, added{w, d})
}

// Workloads is the number of workloads added.
func (e *Engine) Workloads() int { return len(e.added) }

// StopAfter makes Run return d after it starts (0: no limit).
func (e *Engine) StopAfter(d time.Duration) { e.limit = d }

// Now is the engine's current time: a timer's due time while its callback
// runs, otherwise the clock's time.
func (e *Engine) Now() time.Duration { return e.now }

// SetTimeout runs f on the engine goroutine d after Now. Timers due at the
// same time run in the order they were set.
func (e *Engine) SetTimeout(d time.Duration, f func()) {
	e.seq++
	heap.Push(&e.timers, event{at: e.now + max(d, 0), seq: e.seq, f: f})
}

// Rand returns a random generator for a workload with the given seed.
func (e *Engine) Rand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, e.seed)) }

// Printf writes a console line (format should end in a newline).
func (e *Engine) Printf(format string, args ...any) { fmt.Fprintf(e.out, format, args...) }

// Done tells the engine that one finite workload has finished; Run returns
// once every workload has.
func (e *Engine) Done() { e.running-- }

// Stop makes Run return after the current callback.
func (e *Engine) Stop() { e.stopped = true }

// Infer sends one request for m, carrying a pre-compressed input of m's
// input size and user id user, and calls done (if not nil) on the engine
// goroutine with the outcome.
func (e *Engine) Infer(user int32, m Model, done func(err error)) {
	// The id is set per request: a model shared by several workloads
	// sends each request with the id of the workload that issued it.
	m.SetUserID(user)
	cb := ignoreResult
	if done != nil {
		cb = func(_ []byte, err error) { e.post(func() { done(err) }) }
	}
	m.InferAsync(e.inputs.get(m.InputSize()), true, cb)
}

func ignoreResult([]byte, error) {}

// post queues f to run on the engine goroutine; safe from any goroutine.
func (e *Engine) post(f func()) {
	e.mu.Lock()
	e.queue = append(e.queue, f)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run starts the workloads and runs callbacks until every finite workload
// is done, a timer or the time limit stops the engine (nil), or ctx ends
// (ctx's error). An engine runs once.
func (e *Engine) Run(ctx context.Context) error {
	e.now = e.clock.Now()
	if e.limit > 0 {
		e.SetTimeout(e.limit, e.Stop)
	}
	for _, a := range e.added {
		w := a.w
		e.running++
		e.SetTimeout(a.after, func() { w.Start(e) })
	}
	for e.running > 0 && !e.stopped {
		if err := ctx.Err(); err != nil {
			return err
		}
		e.drain()
		if e.running <= 0 || e.stopped {
			break
		}
		e.now = e.clock.Now()
		if len(e.timers) > 0 && e.timers[0].at <= e.now {
			t := heap.Pop(&e.timers).(event)
			e.now = t.at
			t.f()
			continue
		}
		until := Never
		if len(e.timers) > 0 {
			until = e.timers[0].at
		}
		if err := e.clock.Wait(ctx, until, e.wake); err != nil {
			return err
		}
	}
	return nil
}

// drain runs the completions posted so far (not those they post).
func (e *Engine) drain() {
	e.mu.Lock()
	q := e.queue
	e.queue = e.spare[:0]
	e.mu.Unlock()
	if len(q) == 0 {
		e.spare = q
		return
	}
	e.now = e.clock.Now()
	for i, f := range q {
		f()
		q[i] = nil
	}
	e.spare = q[:0]
}
