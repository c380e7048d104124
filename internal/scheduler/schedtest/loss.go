package schedtest

import "math/rand/v2"

// Loss scripts, for random runs, the loss of a worker's connection and
// the worker's return as a new process, as the controller reports them
// (scheduler.Scheduler's WorkerLost, the lost actions' errors, and
// WorkerRejoined with every GPU empty, sometimes one more than it had).
// A zero Loss loses nothing.
type Loss struct {
	worker, gpus     int
	lostAt, rejoinAt int64 // 0: never
	lost, rejoined   bool
}

// NewLoss picks, one time in three, a worker of a cluster of workers ×
// gpus to lose before within, and maybe to rejoin up to 300 ms later, in
// half of those with a GPU more.
func NewLoss(rng *rand.Rand, workers, gpus int, within int64) *Loss {
	l := &Loss{gpus: gpus}
	if rng.IntN(3) != 0 {
		return l
	}
	l.worker = rng.IntN(workers)
	l.lostAt = 1 + rng.Int64N(within)
	if rng.IntN(2) == 0 {
		l.rejoinAt = l.lostAt + 1 + rng.Int64N(300_000_000)
		l.gpus += rng.IntN(2)
	}
	return l
}

// Lost reports whether worker's connection is down now.
func (l *Loss) Lost(worker int) bool { return l.lost && !l.rejoined && worker == l.worker }

// Play plays what is due by now on h and sim, at its own time.
func (l *Loss) Play(h *Harness, sim *Sim, now int64) {
	if l.lostAt != 0 && !l.lost && l.lostAt <= now {
		h.At(max(l.lostAt, h.Now()))
		l.lost = true
		h.WorkerLost(l.worker)
		for _, r := range sim.Lose(l.worker) {
			h.Result(l.worker, r)
		}
	}
	if l.rejoinAt != 0 && l.lost && !l.rejoined && l.rejoinAt <= now {
		h.At(max(l.rejoinAt, h.Now()))
		l.rejoined = true
		sim.Restart(l.worker, l.gpus)
		gpus := make(map[int][]int, l.gpus)
		for g := range l.gpus {
			gpus[g] = nil
		}
		h.WorkerRejoined(l.worker, gpus)
	}
}
