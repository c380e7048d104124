package infer5_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/scheduler/infer5"
	"github.com/clockwork-go/clockwork/internal/scheduler/schedtest"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// TestRandomRunsKeepTheirPromises drives the scheduler through random
// clusters, configurations and workloads against workers that fail, lose,
// duplicate and reorder results, whose GPUs may break for good and whose
// connections may be lost (the worker rejoining later), on a network that
// delays and drops transmissions, and checks its two promises: every request is answered exactly once, and no batch is
// scheduled to finish after the exec deadline of any request in it. The exec deadline is computed here from
// the spec, independently of the scheduler.
func TestRandomRunsKeepTheirPromises(t *testing.T) {
	runs := 1000
	if testing.Short() {
		runs = 100
	}
	for seed := range uint64(runs) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { chaos(t, seed) })
	}
}

// TestInfer4RandomRunsKeepTheirPromises is the same for INFER4.
func TestInfer4RandomRunsKeepTheirPromises(t *testing.T) {
	runs := 500
	if testing.Short() {
		runs = 50
	}
	for seed := range uint64(runs) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { chaos(t, seed, infer5.Infer4()) })
	}
}

func chaos(t *testing.T, seed uint64, extra ...infer5.Option) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	pick := func(xs ...int64) int64 { return xs[rng.IntN(len(xs))] }

	// The cluster: a few GPUs with small caches, a few models that do not
	// all fit, some resident from the start.
	workers, gpus, pages := 1+rng.IntN(2), 1+rng.IntN(3), 4+rng.IntN(10)
	cluster := schedtest.NewCluster(workers, gpus).Pages(pages)
	models := make([]schedtest.Model, 1+rng.IntN(6))
	for i := range models {
		b1 := ms(0.3 + 8*rng.Float64())
		models[i] = schedtest.Model{
			Path: fmt.Sprintf("/zoo/m%d/model", i), InputSize: 1000, OutputSize: 16,
			Pages: 1 + rng.IntN(min(4, pages)), Load: ms(1 + 20*rng.Float64()),
			Exec: map[int]int64{1: b1, 2: b1 * 16 / 10, 4: b1 * 23 / 10, 8: b1 * 38 / 10, 16: b1 * 65 / 10},
		}
		if rng.IntN(4) == 0 {
			delete(models[i].Exec, 2)
		}
		cluster.Model(models[i], 1)
	}
	for w := range workers {
		for g := range gpus {
			free := pages
			for m := range models {
				if rng.IntN(3) == 0 && models[m].Pages <= free {
					cluster.Resident(w, g, m)
					free -= models[m].Pages
				}
			}
		}
	}
	st := cluster.State()

	cfg := schedtest.Config()
	cfg.ScheduleAhead = pick(ms(2), ms(5), ms(10), ms(15))
	cfg.LatestDelta = pick(0, ms(5), ms(10))
	cfg.DefaultSLO = pick(ms(10), ms(30), ms(100), ms(300))
	cfg.MaxBatch = int(pick(1, 2, 4, 8, 16))
	cfg.MaxExec = pick(ms(5), ms(50), ms(250))
	cfg.MaxGPUs = 1 + rng.IntN(workers*gpus+1) // all, and one more that may join later
	opts := []infer5.Option{
		infer5.DemandGuard(rng.IntN(2) == 0),
		infer5.ResultTimeout(pick(ms(50), ms(1000))),
	}
	opts = append(opts, extra...)

	sim := schedtest.NewSim(st)
	sim.Rand = rand.New(rand.NewPCG(seed, 0x51))
	sim.ErrorRate, sim.DropRate, sim.DupRate = 0.05, 0.02, 0.02
	sim.MaxJitter = pick(0, ms(2), ms(20))
	sim.Latency = pick(0, ms(0.2))

	if rng.IntN(3) == 0 { // a GPU breaks for good
		sim.Break(rng.IntN(workers), rng.IntN(gpus), rng.Int64N(ms(600)))
	}
	// A worker's connection may be lost, and the worker restart and rejoin.
	lost := schedtest.NewLoss(rng, workers, gpus, ms(400))

	h := schedtest.New(t, factory(opts...), cfg, st).WithSim(sim)
	onWire := 0
	h.D.SendError = func(s scheduler.Send) error {
		onWire--
		if rng.Float64() < 0.03 || lost.Lost(s.Worker) {
			return errors.New("connection dropped")
		}
		return nil
	}
	if rng.IntN(2) == 0 {
		h.D.SendTime = func(scheduler.Send) int64 { return rng.Int64N(ms(3)) }
	}

	// The oracle.
	deadlines := map[uint32]int64{}
	record := h.D.OnSend
	h.D.OnSend = func(at int64, s scheduler.Send) {
		record(at, s)
		if onWire++; onWire > 2 {
			t.Errorf("at %d: %d actions on the wire", at, onWire)
		}
		if inf, ok := s.Action.(*workerapi.Infer); ok {
			done := int64(inf.Latest) - cfg.LatestDelta + int64(inf.ExpectedDuration)
			for _, part := range inf.InputParts {
				id := binary.LittleEndian.Uint32(part)
				if dl := deadlines[id]; done > dl {
					t.Errorf("at %d: Infer %d predicted to finish at %d, after request %d's exec deadline %d",
						at, inf.ID, done, id, dl)
				}
			}
		}
	}

	// Infinite SLOs are left to TestSLOFactor: a request that waits forever
	// for a model whose loads keep failing would keep this run going.
	factors := []float32{0, 0, 0.5, 1, 2, 5, 20, 1000, -1, float32(math.NaN())}
	now := int64(0)
	for i := range 100 + rng.IntN(200) {
		now += rng.Int64N(ms(3))
		model := rng.IntN(len(models) + 1) // sometimes invalid
		f := factors[rng.IntN(len(factors))]
		tag := binary.LittleEndian.AppendUint32(nil, uint32(i))
		if model < len(models) {
			deadlines[uint32(i)] = now + execSLO(cfg, models[model].Exec[1], f)
		}
		lost.Play(h, sim, now)
		h.At(now).Infer(model, schedtest.SLOFactor(f), schedtest.Input(tag))
	}
	h.At(now + ms(10_000)) // past every deadline and result timeout
	h.CheckExactlyOnce()
}

// execSLO is spec/controller.md §4.5's exec SLO of a request.
func execSLO(cfg scheduler.Config, b1 int64, factor float32) int64 {
	slo := cfg.DefaultSLO
	if factor > 0 {
		slo = 1 << 50
		if x := float64(b1) * float64(factor); x < 1<<50 {
			slo = int64(x)
		}
	}
	exec := slo
	if slo >= ms(5) {
		exec = slo - ms(5)
	}
	return max(exec, cfg.ScheduleAhead+ms(5))
}
