package workload

import (
	"errors"
	"fmt"
	"time"
)

var (
	distChoices = []string{"poisson", "fixed-rate"}
	opChoices   = []string{"add", "mul"}
)

var experimentDefs = []*Def{
	{
		Name: "scalability-exp-1",
		Params: []Param{
			{Name: "num-models", Kind: Count, Help: "number of resnet50_v2 copies"},
			{Name: "rate-min", Kind: Positive, Help: "starting total request rate (requests/second)"},
			{Name: "rate-max", Kind: Positive, Help: "the run ends once the total rate exceeds this"},
			{Name: "rate-factor", Kind: Positive, Help: "rate increment (add: requests/second; mul: factor)"},
			{Name: "rate-op", Kind: String, Choices: opChoices, Help: "how rate-factor is applied"},
			{Name: "period", Kind: Seconds, Help: "seconds between rate changes"},
		},
		Help: []string{
			"One Poisson open loop per model, the total rate split evenly; every period the rate changes",
			"(prints \"Updating rate to <per-model rate>\"). Ends when the rate exceeds rate-max.",
		},
		Build: buildScalability,
	},
	{
		Name: "slo-exp-1",
		Params: []Param{
			{Name: "model", Kind: String, Help: "zoo model, e.g. resnet50_v2"},
			{Name: "copies", Kind: Count, Help: "number of model instances"},
			{Name: "dist", Kind: String, Choices: distChoices, Help: "arrival process"},
			{Name: "rate", Kind: Positive, Help: "total requests/second, split evenly across the instances"},
			{Name: "slo-start", Kind: Float, Help: "starting SLO multiplier (0: the controller's default SLO)"},
			{Name: "slo-end", Kind: Float, Help: "the run ends once the multiplier exceeds this"},
			{Name: "slo-factor", Kind: Float, Help: "multiplier change per period"},
			{Name: "slo-op", Kind: String, Choices: opChoices, Help: "how slo-factor is applied"},
			{Name: "period", Kind: Seconds, Help: "seconds between SLO changes"},
		},
		Help: []string{
			"Open loops with an SLO sweep (paper Fig. 7), e.g. `slo-exp-1 resnet50_v2 4 poisson 100 2 32 2 mul 7`",
			"sets the SLO multiplier to 2 4 8 16 32, 7 s each (prints \"Updating slo_factor to X\").",
		},
		Build: buildSLO1,
	},
	{
		Name: "slo-exp-2",
		Params: []Param{
			{Name: "model", Kind: String, Help: "zoo model, e.g. resnet50_v2"},
			{Name: "copies-fg", Kind: Uint, Help: "number of foreground (latency-sensitive) instances"},
			{Name: "dist-fg", Kind: String, Choices: distChoices, Help: "FG arrival process"},
			{Name: "rate-fg", Kind: Float, Help: "total FG requests/second, split evenly (> 0 with FG instances)"},
			{Name: "slo-start-fg", Kind: Float, Help: "starting FG SLO multiplier (0: the controller's default SLO)"},
			{Name: "slo-end-fg", Kind: Float, Help: "the run ends once the FG multiplier exceeds this"},
			{Name: "slo-factor-fg", Kind: Float, Help: "FG multiplier change per period"},
			{Name: "slo-op-fg", Kind: String, Choices: opChoices, Help: "how slo-factor-fg is applied"},
			{Name: "period-fg", Kind: Seconds, Help: "seconds between FG SLO changes"},
			{Name: "copies-bg", Kind: Uint, Help: "number of background (batch) instances, loaded after the FG ones"},
			{Name: "concurrency-bg", Kind: Uint, Help: "closed-loop concurrency per BG instance (≥ 1 with BG instances)"},
			{Name: "slo-bg", Kind: Float, Help: "BG SLO multiplier (0: the controller's default SLO)"},
		},
		Help: []string{
			"Latency-sensitive FG open loops with an SLO sweep, next to BG closed loops that start after 10 s",
			"(paper Fig. 8). Ends with the FG sweep; with copies-fg 0 it never ends.",
		},
		Check: checkSLO2,
		Build: buildSLO2,
	},
}

func buildScalability(env *Env, a Args) error {
	n := float64(a.Int("num-models"))
	ms, err := env.LoadZooModel(DefaultModel, a.Int("num-models"))
	if err != nil {
		return err
	}
	start := a.Float("rate-min") / n
	loops := poissonLoops(env, ms, start)
	by := a.Float("rate-factor")
	if a.String("rate-op") == "add" {
		by /= n
	}
	env.Engine.Add(AdjustRate(a.Seconds("period"), start, loops, step(a.String("rate-op"), by),
		above(a.Float("rate-max")/n)))
	return nil
}

// sloSweep adds open loops for ms at rate in total and a timer sweeping
// their SLO factor.
func sloSweep(env *Env, ms []Model, dist string, rate float64, start, end, by float64, op string, period time.Duration) {
	rate /= float64(len(ms))
	for i, m := range ms {
		loop := NewPoisson(int32(i), m, uint64(i), rate)
		loop.Poisson = dist == "poisson"
		env.Engine.Add(loop)
	}
	env.Engine.Add(AdjustSLO(period, start, ms, step(op, by), above(end)))
}

func buildSLO1(env *Env, a Args) error {
	ms, err := env.LoadZooModel(a.String("model"), a.Int("copies"))
	if err != nil {
		return err
	}
	sloSweep(env, ms, a.String("dist"), a.Float("rate"), a.Float("slo-start"), a.Float("slo-end"),
		a.Float("slo-factor"), a.String("slo-op"), a.Seconds("period"))
	return nil
}

// checkSLO2 checks the FG parameters only where there are FG instances
// and the BG ones only where there are BG instances, as the original did
// (the paper's Fig. 8 runs with copies-bg and concurrency-bg 0).
func checkSLO2(a Args) error {
	nFG, nBG := a.Int("copies-fg"), a.Int("copies-bg")
	switch {
	case nFG == 0 && nBG == 0:
		return errors.New("copies-fg and copies-bg are both 0: nothing to run")
	case nFG > 0 && a.Float("rate-fg") <= 0:
		return fmt.Errorf("rate-fg: %q is not a number > 0", a.String("rate-fg"))
	case nBG > 0 && a.Int("concurrency-bg") < 1:
		return fmt.Errorf("concurrency-bg: %q is not an integer ≥ 1", a.String("concurrency-bg"))
	}
	return nil
}

func buildSLO2(env *Env, a Args) error {
	nFG, nBG := a.Int("copies-fg"), a.Int("copies-bg")
	path, err := env.ModelPath(a.String("model"))
	if err != nil {
		return err
	}
	if nFG > 0 {
		ms, err := env.Load(path, nFG)
		if err != nil {
			return err
		}
		sloSweep(env, ms, a.String("dist-fg"), a.Float("rate-fg"), a.Float("slo-start-fg"),
			a.Float("slo-end-fg"), a.Float("slo-factor-fg"), a.String("slo-op-fg"), a.Seconds("period-fg"))
	}
	if nBG > 0 {
		ms, err := env.Load(path, nBG)
		if err != nil {
			return err
		}
		for i, m := range ms {
			m.SetSLOFactor(float32(a.Float("slo-bg")))
			env.Engine.Add(&ClosedLoop{ID: int32(nFG + i), Models: []Model{m},
				Concurrency: a.Int("concurrency-bg"), Jitter: 10 * time.Second})
		}
	}
	return nil
}
