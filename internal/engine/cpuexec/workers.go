package cpuexec

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Workers is a team of goroutines that run ops together, with per-worker
// scratch memory. One Workers serves any number of Executors, one Run at a
// time (Run serialises them).
//
// An op is handed to each helper, and its end awaited, through atomic
// counters that the waiting side polls for up to spinFor before it parks
// (in a sleeper, which also checks again now and then): a parked
// goroutine woken by a channel took about 50 µs to start on the 2-core
// development machine (a 50 µs op ran in 103 µs on two workers), which a
// model of 60 small ops paid at each of them.
//
// With more than one worker, an op's work is cut into partsEach parts a
// worker, of about equal cost (each kernel cuts its own); each worker runs
// its own parts from the front and then takes the others' from the back,
// so that a worker whose CPU is slow, or taken for a while by another
// process or, on a virtual machine, by the host, leaves its last parts to
// the others rather than have them wait: on the 2-core development
// machine, half of each op for each of two workers left one idle, waiting
// for the other, for 12-42 % of a Run (ResNet-18, ResNet-50 and
// MobileNetV2 at batch size 1); with parts taken so, the caller waited
// for 2-5 %. A worker's own parts are consecutive, so a convolution packs
// each tile of patches once where it ran alone (scratch.holds), and again
// only for parts taken from another.
type Workers struct {
	mu      sync.Mutex // held for a whole Run
	lanes   []lane     // lanes[0] the caller's
	helpers []*helper  // helpers[i] runs lanes[i+1]
	mem     memory     // the buffers of the Run in progress
	ops     uint64     // the ops run: the number of the one in progress
	caller  *sleeper   // where the caller of do waits for the helpers
}

// partsEach is the parts of an op each worker owns where there are two
// or more.
const partsEach = 8

// A lane is one worker's parts of the op in progress and its scratch.
type lane struct {
	left    atomic.Uint64 // its parts not yet taken, [lo, hi): lo<<32 | hi
	_       [56]byte      // on a line of its own
	scratch scratch
	_       [64]byte
}

// scratch is one worker's memory for the ops it runs: buf, and what the
// last op left in it that its next part may reuse.
type scratch struct {
	buf []float32
	op  uint64 // the op being run (Workers.ops)
	// holds is the position tile of the convolution whose patches the
	// panel in buf holds, packed in op holdsOp.
	holds   int
	holdsOp uint64
}

// spinFor is how long a side waiting for the other polls before it parks:
// longer than most ops, and than most gaps between them in a Run.
const spinFor = time.Millisecond

// A helper is one goroutine of a Workers: posted counts the ops handed
// to it, finished those it is done with; each waits for the other to move.
type helper struct {
	posted   atomic.Uint64
	finished atomic.Uint64
	sleeper  *sleeper // where it waits for ops
	task     task
	_        [64]byte // posted and finished of the next helper on a line of their own
}

// task is one op for a helper to run its parts of; a nil k stops it.
type task struct {
	k kernel
	m *memory
}

// NewWorkers starts n-1 goroutines (the caller of Run is worker 0); n ≤ 0
// means GOMAXPROCS.
func NewWorkers(n int) *Workers {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	w := &Workers{lanes: make([]lane, n), caller: newSleeper()}
	for i := range n - 1 {
		h := &helper{sleeper: newSleeper()}
		w.helpers = append(w.helpers, h)
		go w.loop(h, i+1)
	}
	return w
}

// Size is the number of workers.
func (w *Workers) Size() int { return len(w.lanes) }

// Close stops the goroutines; later runs use the calling goroutine only.
func (w *Workers) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range w.helpers {
		h.post(task{})
	}
	w.helpers = nil
	w.lanes = w.lanes[:1]
}

// post hands t to h and wakes it where it has parked.
func (h *helper) post(t task) {
	h.task = t
	h.posted.Add(1) // publishes task: h reads it after seeing posted move
	h.sleeper.rouse()
}

func (w *Workers) loop(h *helper, i int) {
	for seen := uint64(0); ; {
		h.sleeper.await(func() bool { return h.posted.Load() != seen })
		seen++
		t := h.task
		if t.k == nil {
			return
		}
		w.work(t.k, t.m, i)
		h.finished.Store(seen)
		w.caller.rouse()
	}
}

// A sleeper is where one side waits for the other: parked says that it
// sleeps, or is about to, on wake.
type sleeper struct {
	parked atomic.Bool
	wake   chan struct{}
	// recheck wakes a parked sleeper whatever the other side does, after
	// recheckFirst and then twice as long each time up to recheckMost, so
	// that a wake-up lost costs that long, not the process, and a helper
	// idle between inferences wakes 10 times a second. None is lost where
	// atomics are sequentially consistent, as Go's are; under qemu-user
	// emulating arm64 on x86-64 the caller and its helpers twice slept for
	// good, each waiting for the other (cross-check.sh).
	recheck *time.Timer
}

const (
	recheckFirst = 5 * time.Millisecond
	recheckMost  = 100 * time.Millisecond
)

func newSleeper() *sleeper {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &sleeper{wake: make(chan struct{}, 1), recheck: t}
}

// await returns once ready does: it polls for up to spinFor, yielding the
// processor now and then, then announces in parked that it sleeps on wake
// (the other side, having made ready true, sends on wake where it sees
// parked: one of the two sees the other's write).
func (s *sleeper) await(ready func() bool) {
	start := time.Now()
	for spins := 0; !ready(); spins++ {
		if spins%64 != 63 {
			continue
		}
		if time.Since(start) < spinFor {
			runtime.Gosched() // where another goroutine would run here
			continue
		}
		s.parked.Store(true)
		for d := recheckFirst; !ready(); d = min(2*d, recheckMost) {
			s.recheck.Reset(d)
			select {
			case <-s.wake:
			case <-s.recheck.C:
			}
		}
		s.recheck.Stop()
		s.parked.Store(false)
		return
	}
}

// rouse is await's other side, once ready has been made true: it wakes the
// sleeper where parked says it sleeps on wake (a token left over makes a
// later await check ready once more).
func (s *sleeper) rouse() {
	if s.parked.Load() {
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// reserve grows every worker's scratch to n floats.
func (w *Workers) reserve(n int) {
	for i := range w.lanes {
		if s := &w.lanes[i].scratch; len(s.buf) < n {
			s.buf = make([]float32, n)
		}
	}
}

// do runs k on every worker and waits for all.
func (w *Workers) do(k kernel, m *memory) {
	w.ops++
	per := uint64(w.each())
	for i := range w.lanes {
		w.lanes[i].left.Store(uint64(i)*per<<32 | uint64(i+1)*per)
	}
	for _, h := range w.helpers {
		h.post(task{k: k, m: m})
	}
	w.work(k, m, 0)
	for _, h := range w.helpers {
		target := h.posted.Load()
		w.caller.await(func() bool { return h.finished.Load() == target })
		h.task = task{} // so that an executor dropped (and what it holds) goes before the next op
	}
}

// each is the parts of an op each worker owns: partsEach, or one alone.
func (w *Workers) each() int {
	if len(w.lanes) == 1 {
		return 1
	}
	return partsEach
}

// work runs worker i's parts of k, and then any the others have not
// taken, from the back of their lanes.
func (w *Workers) work(k kernel, m *memory, i int) {
	n := len(w.lanes)
	parts := n * w.each()
	s := &w.lanes[i].scratch
	s.op = w.ops // written before the helpers were posted the op
	for j := range n {
		l := &w.lanes[(i+j)%n]
		for {
			part, ok := l.take(j == 0)
			if !ok {
				break
			}
			k.run(m, part, parts, s)
		}
	}
}

// take takes the first part left in l (or the last), if any.
func (l *lane) take(first bool) (int, bool) {
	for {
		v := l.left.Load()
		lo, hi := v>>32, v&(1<<32-1)
		if lo >= hi {
			return 0, false
		}
		next, part := (lo+1)<<32|hi, lo
		if !first {
			next, part = lo<<32|(hi-1), hi-1
		}
		if l.left.CompareAndSwap(v, next) {
			return int(part), true
		}
	}
}

// span is part's share [lo, hi) of n units.
func span(n, part, parts int) (lo, hi int) {
	return n * part / parts, n * (part + 1) / parts
}
