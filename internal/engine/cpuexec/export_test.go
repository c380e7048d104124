package cpuexec

import (
	"fmt"
	"math"
	"time"

	"github.com/clockwork-go/clockwork/internal/engine"
)

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

// newIm2colConv is newConv with Winograd's kernel left out of the choice:
// a 3 × 3 convolution computed as a GEMM over its patches.
func newIm2colConv(o *engine.Conv) (kernel, int, error) {
	defer func(n int) { winogradMinTiles = n }(winogradMinTiles)
	winogradMinTiles = math.MaxInt
	return newConv(o)
}

// newWinogradConv is Winograd's kernel for the 3 × 3 convolution o, whether
// or not newConv would choose it.
func newWinogradConv(o *engine.Conv) (kernel, int, error) {
	k, _, err := newIm2colConv(o)
	if err != nil {
		return nil, 0, err
	}
	ck, ok := k.(*convKernel)
	if !ok {
		return nil, 0, fmt.Errorf("%T for a 3 × 3 convolution", k)
	}
	w, scratch := newWinograd(ck)
	return w, scratch, nil
}
