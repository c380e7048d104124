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
// counters that the waiting side polls for up to spinFor before it parks:
// a parked goroutine woken by a channel took about 50 µs to start on the
// 2-core development machine (a 50 µs op ran in 103 µs on two workers),
// which a model of 60 small ops paid at each of them.
type Workers struct {
	mu      sync.Mutex // held for a whole Run
	helpers []*helper
	scratch [][]float32
	mem     memory // the buffers of the Run in progress
	waiting atomic.Bool
	wake    chan struct{} // the caller of do, parked waiting for the helpers
}

// spinFor is how long a side waiting for the other polls before it parks:
// longer than most ops, and than most gaps between them in a Run.
const spinFor = time.Millisecond

// A helper is one goroutine of a Workers: posted counts the tasks handed
// to it, finished those it has run; each waits for the other to move.
type helper struct {
	posted   atomic.Uint64
	finished atomic.Uint64
	parked   atomic.Bool
	wake     chan struct{}
	task     task
	_        [64]byte // posted and finished of the next helper on a line of their own
}

// task is one op to run as part part of len(helpers)+1; a nil k stops the
// helper.
type task struct {
	k    kernel
	m    *memory
	part int
}

// NewWorkers starts n-1 goroutines (the caller of Run is worker 0); n ≤ 0
// means GOMAXPROCS.
func NewWorkers(n int) *Workers {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	w := &Workers{scratch: make([][]float32, n), wake: make(chan struct{}, 1)}
	for range n - 1 {
		h := &helper{wake: make(chan struct{}, 1)}
		w.helpers = append(w.helpers, h)
		go w.loop(h)
	}
	return w
}

// Size is the number of workers.
func (w *Workers) Size() int { return len(w.scratch) }

// Close stops the goroutines; later runs use the calling goroutine only.
func (w *Workers) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, h := range w.helpers {
		h.post(task{})
	}
	w.helpers = nil
	w.scratch = w.scratch[:1]
}

// post hands t to h and wakes it where it has parked.
func (h *helper) post(t task) {
	h.task = t
	h.posted.Add(1) // publishes task: h reads it after seeing posted move
	rouse(&h.parked, h.wake)
}

func (w *Workers) loop(h *helper) {
	for seen := uint64(0); ; {
		await(func() bool { return h.posted.Load() != seen }, &h.parked, h.wake)
		seen++
		t := h.task
		if t.k == nil {
			return
		}
		t.k.run(t.m, t.part, len(w.scratch), w.scratch[t.part])
		h.finished.Store(seen)
		rouse(&w.waiting, w.wake)
	}
}

// await returns once ready does: it polls for up to spinFor, yielding the
// processor now and then, then announces in parked that it sleeps on wake
// (the other side, having made ready true, sends on wake where it sees
// parked: one of the two sees the other's write).
func await(ready func() bool, parked *atomic.Bool, wake chan struct{}) {
	start := time.Now()
	for spins := 0; !ready(); spins++ {
		if spins%64 != 63 {
			continue
		}
		if time.Since(start) < spinFor {
			runtime.Gosched() // where another goroutine would run here
			continue
		}
		parked.Store(true)
		for !ready() {
			<-wake
		}
		parked.Store(false)
		return
	}
}

// rouse is await's other side, once ready has been made true: it wakes the
// waiter where parked says it sleeps on wake (a token left over makes a
// later await check ready once more).
func rouse(parked *atomic.Bool, wake chan struct{}) {
	if parked.Load() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
}

// reserve grows every worker's scratch to n floats.
func (w *Workers) reserve(n int) {
	for i, s := range w.scratch {
		if len(s) < n {
			w.scratch[i] = make([]float32, n)
		}
	}
}

// do runs k on every worker and waits for all.
func (w *Workers) do(k kernel, m *memory) {
	for i, h := range w.helpers {
		h.post(task{k: k, m: m, part: i + 1})
	}
	k.run(m, 0, len(w.scratch), w.scratch[0])
	for _, h := range w.helpers {
		target := h.posted.Load()
		await(func() bool { return h.finished.Load() == target }, &w.waiting, w.wake)
	}
}

// span is part's share [lo, hi) of n units.
func span(n, part, parts int) (lo, hi int) {
	return n * part / parts, n * (part + 1) / parts
}
