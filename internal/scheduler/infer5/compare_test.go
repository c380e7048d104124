package infer5_test

import (
	"math/rand/v2"
	"testing"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/scheduler/baseline"
	"github.com/clockwork-go/clockwork/internal/scheduler/schedtest"
)

// TestGoodputVersusBaseline runs INFER5 and the conventional baseline on
// the same simulated cluster and workload — two GPUs, four ResNet50s, a
// load that first fits and then exceeds the cluster's capacity — and
// compares goodput: requests answered successfully within their SLO.
func TestGoodputVersusBaseline(t *testing.T) {
	for _, tc := range []struct {
		name string
		rate float64 // requests per second
	}{
		{"within capacity", 600},
		{"overloaded", 2000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clockwork := goodput(t, factory(), tc.rate)
			conventional := goodput(t, func(cfg scheduler.Config, st *scheduler.State) (scheduler.Scheduler, error) {
				return baseline.New(cfg, st)
			}, tc.rate)
			t.Logf("goodput at %.0f r/s: INFER5 %.1f%%, baseline %.1f%%", tc.rate, 100*clockwork, 100*conventional)
			if tc.rate < 1000 && clockwork < 0.99 {
				t.Errorf("INFER5 goodput %.3f within capacity, want ≥ 0.99", clockwork)
			}
			if clockwork < conventional {
				t.Errorf("INFER5 goodput %.3f below the baseline's %.3f", clockwork, conventional)
			}
		})
	}
}

func goodput(t *testing.T, mk schedtest.Factory, rate float64) float64 {
	st := schedtest.NewCluster(1, 2).Model(schedtest.ResNet50(), 4).Resident(0, 0, 0, 1).Resident(0, 1, 2, 3).State()
	h := schedtest.New(t, mk, schedtest.Config(), st).WithSim(schedtest.NewSim(st))
	rng := rand.New(rand.NewPCG(3, 4))
	now := int64(0)
	for now < ms(2000) {
		now += int64(rng.ExpFloat64() * 1e9 / rate)
		h.At(now).Infer(rng.IntN(4))
	}
	h.At(now + ms(60_000))
	h.CheckExactlyOnce()
	good := 0
	for _, a := range h.Answers {
		if a.Status == 0 && a.Departure <= a.Deadline {
			good++
		}
	}
	return float64(good) / float64(len(h.Requests))
}
