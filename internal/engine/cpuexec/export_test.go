package cpuexec

import "time"

// RunShares runs each op of e's plan as parts workers' shares would, one
// share after another on the calling goroutine, each timed, and returns
// the sum over the ops of their slowest share (what as many cores as
// shares would take, memory shared between cores aside) and of all shares.
func RunShares(e *Executor, mem Memory, parts int) (critical, total time.Duration) {
	m := &memory{io: mem.IO, ws: mem.Workspace, pages: mem.Pages}
	s := &scratch{buf: make([]float32, e.scratch)}
	for _, k := range e.kernels {
		var slowest time.Duration
		for part := range parts {
			s.op++ // as another worker's: nothing left by the last share reused
			start := time.Now()
			k.run(m, part, parts, s)
			d := time.Since(start)
			slowest = max(slowest, d)
			total += d
		}
		critical += slowest
	}
	return critical, total
}
