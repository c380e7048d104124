package workload

import "time"

// ClosedLoop keeps Concurrency requests outstanding, sending the next one
// when one completes (successfully, with an error, or refused because the
// controller is initializing). Requests go round-robin over Models.
type ClosedLoop struct {
	ID          int32 // user id of its requests
	Models      []Model
	Concurrency int
	// Requests is the total number of requests to send (0: no limit). The
	// workload is done when the last of them completes.
	Requests int
	// Jitter delays the start, printing "Model <ID>'s start delayed by
	// <seconds> seconds".
	Jitter time.Duration

	e           *Engine
	next        int // index into Models
	sent        int
	started     int // of the first Concurrency requests
	outstanding int
}

// firstSteps is the most of a closed loop's first requests one engine
// callback sends: the engine stops (an interrupt, a time limit) between
// callbacks, and a concurrency of millions takes seconds to send.
const firstSteps = 1000

// Start implements Workload.
func (l *ClosedLoop) Start(e *Engine) {
	l.e = e
	if l.Jitter > 0 {
		e.Printf("Model %d's start delayed by %s seconds\n", l.ID, num(l.Jitter.Seconds()))
		e.SetTimeout(l.Jitter, l.begin)
		return
	}
	l.begin()
}

func (l *ClosedLoop) begin() {
	for i := 0; i < firstSteps && l.started < l.Concurrency && l.more(); i++ {
		l.started++
		l.send()
	}
	switch {
	case l.started < l.Concurrency && l.more():
		l.e.SetTimeout(0, l.begin) // the rest in the next callback
	case l.sent == 0:
		l.e.Done() // nothing to send at all
	}
}

func (l *ClosedLoop) more() bool { return l.Requests == 0 || l.sent < l.Requests }

func (l *ClosedLoop) send() {
	m := l.Models[l.next]
	l.next = (l.next + 1) % len(l.Models)
	l.sent++
	l.outstanding++
	l.e.Infer(l.ID, m, l.complete)
}

func (l *ClosedLoop) complete(error) {
	l.outstanding--
	switch {
	case l.more():
		l.send()
	case l.outstanding == 0:
		l.e.Done()
	}
}
