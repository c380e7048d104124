package cpuexec

import (
	"runtime"
	"sync"
)

// Workers is a team of goroutines that run ops together, with per-worker
// scratch memory. One Workers serves any number of Executors, one Run at a
// time (Run serialises them).
type Workers struct {
	mu      sync.Mutex // held for a whole Run
	tasks   []chan task
	done    chan struct{}
	scratch [][]float32
	mem     memory // the buffers of the Run in progress
}

// task is one op to run as part part of len(tasks)+1.
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
	w := &Workers{done: make(chan struct{}, n), scratch: make([][]float32, n)}
	for range n - 1 {
		ch := make(chan task)
		w.tasks = append(w.tasks, ch)
		go w.loop(ch)
	}
	return w
}

// Size is the number of workers.
func (w *Workers) Size() int { return len(w.scratch) }

// Close stops the goroutines; later runs use the calling goroutine only.
func (w *Workers) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ch := range w.tasks {
		close(ch)
	}
	w.tasks = nil
	w.scratch = w.scratch[:1]
}

func (w *Workers) loop(ch chan task) {
	for t := range ch {
		t.k.run(t.m, t.part, len(w.scratch), w.scratch[t.part])
		w.done <- struct{}{}
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
	for i, ch := range w.tasks {
		ch <- task{k: k, m: m, part: i + 1}
	}
	k.run(m, 0, len(w.scratch), w.scratch[0])
	for range w.tasks {
		<-w.done
	}
}

// span is part's share [lo, hi) of n units.
func span(n, part, parts int) (lo, hi int) {
	return n * part / parts, n * (part + 1) / parts
}
