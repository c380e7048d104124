package workload

import (
	"fmt"
	"strings"
	"time"
)

var burstyDefs = []*Def{
	{
		Name:   "bursty_experiment",
		Params: []Param{{Name: "num_models", Kind: Count, Default: "3600", Help: "number of 'major' resnet50_v2 instances"}},
		Help: []string{
			"Paper Fig. 6: after 300 s with no major traffic, the first k majors share 1000 r/s (Poisson) in",
			"second 300+k, one more active each second; one more 'minor' instance gets 200 r/s throughout.",
			"Never ends (the major trace loops).",
		},
		Check: checkBursty,
		Build: buildBursty,
	},
	{
		Name: "bursty_experiment1",
		Help: []string{"resnet50_v2 x3600, each Poisson at 1 r/s; 360 more start every minute. Never ends. (Not in the original's command line.)"},
		Build: func(env *Env, _ Args) error {
			ms, err := loadRN50Chunks(env, 3600)
			if err != nil {
				return err
			}
			for i, m := range ms {
				env.Engine.AddAfter(NewPoisson(int32(i), m, uint64(i), 1), time.Duration(i/360)*time.Minute)
			}
			return nil
		},
	},
	{
		Name: "bursty_experiment_simple",
		Help: []string{"resnet50_v2 x3600, each Poisson at 0.1 r/s. Never ends. (Not in the original's command line.)"},
		Build: func(env *Env, _ Args) error {
			ms, err := loadRN50Chunks(env, 3600)
			if err != nil {
				return err
			}
			poissonLoops(env, ms, 0.1)
			return nil
		},
	},
}

func loadRN50Chunks(env *Env, n int) ([]Model, error) {
	path, err := env.ModelPath(DefaultModel)
	if err != nil {
		return nil, err
	}
	return loadChunks(env, path, n)
}

// Shape of bursty_experiment's major trace.
const (
	burstyLeadIn    = 300       // intervals with no major traffic
	burstyPerMinute = 60 * 1000 // requests per "minute" shared by the active majors: 1000 r/s
	burstyMinorRate = 200       // requests/second of the minor instance
)

// burstyTrace returns the per-interval counts of n majors: zero for the
// lead-in, then in interval lead-in+k the first k+1 majors share the
// requests round-robin.
func burstyTrace(n int) [][]uint32 {
	counts := make([][]uint32, n)
	for i := range counts {
		counts[i] = make([]uint32, burstyLeadIn+n)
	}
	for k := range n {
		active := k + 1
		each, extra := burstyPerMinute/active, burstyPerMinute%active
		for j := range active {
			c := each
			if j < extra {
				c++
			}
			counts[j][burstyLeadIn+k] = uint32(c)
		}
	}
	return counts
}

// burstyMaxModels bounds bursty_experiment's majors: its trace holds
// n × (300 + n) counts, 400 MB at this bound (the original's too; 100,000
// ran the client out of memory).
const burstyMaxModels = 10_000

func checkBursty(a Args) error {
	if n := a.Int("num_models"); n > burstyMaxModels {
		return fmt.Errorf("num_models is at most %d, not %d (its trace holds num_models × (300 + num_models) counts)", burstyMaxModels, n)
	}
	return nil
}

func buildBursty(env *Env, a Args) error {
	n := a.Int("num_models")
	counts := burstyTrace(n)
	show := func(i int) {
		var b strings.Builder
		fmt.Fprintf(&b, "Model %d", i)
		for _, c := range counts[i] {
			fmt.Fprintf(&b, " %d", c)
		}
		env.Engine.Printf("%s\n", b.String())
	}
	if n <= 11 {
		for i := range n {
			show(i)
		}
	} else {
		for i := range 5 {
			show(i)
		}
		env.Engine.Printf("...\n")
		for i := n - 6; i < n; i++ {
			show(i)
		}
	}
	ms, err := loadRN50Chunks(env, n)
	if err != nil {
		return err
	}
	minor, err := env.LoadZooModel(DefaultModel, 1)
	if err != nil {
		return err
	}
	for i, m := range ms {
		env.Engine.Add(&TraceReplay{ID: int32(i), Model: m, Seed: uint64(i), Counts: counts[i], Scale: 1,
			Interval: time.Second})
	}
	env.Engine.Add(NewPoisson(int32(n), minor[0], uint64(n), burstyMinorRate))
	return nil
}
