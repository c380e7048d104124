package infer5_test

import (
	"testing"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/scheduler/infer5"
	"github.com/clockwork-go/clockwork/internal/scheduler/schedtest"
)

var ms = schedtest.Ms

// b1, b2, ... are ResNet50's profiled exec times on a V100.
var (
	b1   = ms(3.322)
	b2   = ms(5.271)
	b4   = ms(7.495)
	b8   = ms(12.439)
	load = ms(8.372)
)

func factory(opts ...infer5.Option) schedtest.Factory {
	return func(cfg scheduler.Config, st *scheduler.State) (scheduler.Scheduler, error) {
		return infer5.New(cfg, st, opts...)
	}
}

// warm is one GPU holding ResNet50 (model 0) from the start, with the
// default configuration and opts.
func warm(t *testing.T, opts ...infer5.Option) *schedtest.Harness {
	t.Helper()
	st := schedtest.NewCluster(1, 1).Model(schedtest.ResNet50(), 1).Resident(0, 0, 0).State()
	return schedtest.New(t, factory(opts...), schedtest.Config(), st)
}

// window returns an Infer's or LoadWeights' [earliest, latest].
func window(s schedtest.Sent) (int64, int64) {
	type windowed interface{ Window() (uint64, uint64) }
	e, l := s.Action.(windowed).Window()
	return int64(e), int64(l)
}

func batchSizes(sends []schedtest.Sent) []int {
	var out []int
	for _, s := range sends {
		out = append(out, int(s.Infer().BatchSize))
	}
	return out
}
