package worker

import (
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// resultLines prints the console lines about results ("Sending …" for the
// results the original prints, "Dropping result …") on a goroutine of its
// own, in the order they are handed to it. The engine's goroutine, which
// sends every result, would otherwise format and write them itself: a
// GetWorkerState result of 3,600 models is half a megabyte of text, 14-28
// ms to format, during which no GPU was given its next operation (ten
// such requests in a row delayed an Infer by 176-233 ms on worker_dummy,
// 89-112 ms with the lines written here, on 2 cores). The original
// printed them on its IO thread, beside its executors.
//
// A state answer the same as the last one printed (the engine shares one
// list of models among its answers until it changes) is printed as
// "Sending R12:GetWorkerState: unchanged since R11" (or "Dropping result
// …", for a closed connection), where the original printed it again: 400
// GetWorkerState requests, 20 KB, from a peer that read nothing had
// worker_dummy holding 65,536 models print 1.9 GB in 30 s, still going;
// now 9.5 MB.
type resultLines struct {
	out   io.Writer
	mu    sync.Mutex
	lines []resultLine // to print, oldest first
	stop  bool
	wake  chan struct{} // something to print, or stop
	done  chan struct{} // closed once all is printed and the goroutine ended

	lastState *workerapi.GetWorkerStateResult // printed last (run's)
}

type resultLine struct {
	prefix string
	r      fmt.Stringer
}

func newResultLines(out io.Writer) *resultLines {
	l := &resultLines{out: out, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go l.run()
	return l
}

// add has prefix and r printed as a line; r must not change any more.
func (l *resultLines) add(prefix string, r fmt.Stringer) {
	l.mu.Lock()
	l.lines = append(l.lines, resultLine{prefix, r})
	l.mu.Unlock()
	l.signal()
}

func (l *resultLines) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// close prints what is left and ends the goroutine.
func (l *resultLines) close() {
	l.mu.Lock()
	l.stop = true
	l.mu.Unlock()
	l.signal()
	<-l.done
}

func (l *resultLines) run() {
	defer close(l.done)
	for range l.wake {
		l.mu.Lock()
		lines, stop := l.lines, l.stop
		l.lines = nil
		l.mu.Unlock()
		for _, x := range lines {
			if st, ok := x.r.(*workerapi.GetWorkerStateResult); ok {
				if l.lastState != nil && sameState(&st.Memory, &l.lastState.Memory) {
					fmt.Fprintf(l.out, "%s R%d:GetWorkerState: unchanged since R%d\n", x.prefix, st.ID, l.lastState.ID)
					continue
				}
				l.lastState = st
			}
			fmt.Fprintf(l.out, "%s %s\n", x.prefix, x.r)
		}
		if stop {
			return
		}
	}
}

// sameState reports whether a and b are the same state: the same list of
// models (the engine's, shared) and GPUs alike.
func sameState(a, b *workerapi.WorkerMemoryInfo) bool {
	return len(a.Models) == len(b.Models) && (len(a.Models) == 0 || &a.Models[0] == &b.Models[0]) &&
		a.PageSize == b.PageSize && a.HostWeightsCacheSize == b.HostWeightsCacheSize && a.HostIOPoolSize == b.HostIOPoolSize &&
		slices.EqualFunc(a.GPUs, b.GPUs, func(x, y workerapi.GPUInfo) bool {
			return x.ID == y.ID && x.WeightsCacheSize == y.WeightsCacheSize && x.WeightsCacheTotalPages == y.WeightsCacheTotalPages &&
				x.IOPoolSize == y.IOPoolSize && x.WorkspacePoolSize == y.WorkspacePoolSize && slices.Equal(x.Models, y.Models)
		})
}
