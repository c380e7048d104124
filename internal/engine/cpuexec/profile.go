package cpuexec

import (
	"fmt"
	"slices"
	"time"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// An OpTime is one op's times over Profile's rounds.
type OpTime struct {
	Op           engine.Op
	Best, Median time.Duration
}

// Profile runs the plan rounds times with w, as Run does, timing each op
// apart from now's readings (nanoseconds) before and after it, and returns
// each op's best and median time in plan order. An op's time includes
// handing it to the workers and waiting for the last of them; the ops'
// medians add up to about a Run's time. Best of several rounds is what the
// op takes when nothing else wants the CPU, which on a shared machine the
// median need not show.
func (e *Executor) Profile(w *Workers, mem Memory, rounds int, now func() int64) ([]OpTime, error) {
	if rounds < 1 {
		return nil, fmt.Errorf("cpuexec: profile of %d rounds", rounds)
	}
	took := make([][]int64, len(e.kernels))
	for i := range took {
		took[i] = make([]int64, rounds)
	}
	if err := e.run(w, mem, rounds, now, took); err != nil {
		return nil, err
	}
	times := make([]OpTime, len(took))
	for i, t := range took {
		slices.Sort(t)
		times[i] = OpTime{
			Op:     e.plan.Ops[i],
			Best:   time.Duration(t[0]),
			Median: time.Duration(t[(rounds-1)/2]+t[rounds/2]) / 2,
		}
	}
	return times, nil
}
