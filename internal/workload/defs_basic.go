package workload

import (
	"fmt"
	"math"
	"strings"
	"time"
)

var basicDefs = []*Def{
	{
		Name: "example",
		Help: []string{
			"Every zoo model x1, loaded alphabetically (prints \"Loading <name>\"); per model, all with user id = its index:",
			"FixedRate 5 r/s, Poisson 10 r/s, bursty Poisson 10 r/s (bursts ~10 s, idle ~20 s),",
			"closed loop of 1, bursty closed loop of 1 (bursts ~10 s, idle ~20 s). Never ends.",
		},
		Build: buildExample,
	},
	{
		Name: "fill_memory",
		Help: []string{
			"resnet50_v2 x411, more than fit in one GPU's weights cache; all Poisson open loop:",
			"instance 0 at 1000 r/s, instances 1-10 at 10 r/s, instances 11-410 at 1 r/s. Never ends.",
		},
		Build: buildFillMemory,
	},
	{
		Name:   "spam",
		Params: []Param{{Name: "modelname", Kind: String, Default: DefaultModel, Help: "zoo model"}},
		Help:   []string{"100 instances of the model, each with a closed loop of 100. Never ends."},
		Build:  buildSpam,
	},
	{
		Name:  "spam2",
		Help:  []string{"resnet50_v2 x100, each Poisson at 1000 r/s. Never ends. (Not in the original's command line.)"},
		Build: buildSpam2,
	},
	{
		Name:  "single-spam",
		Help:  []string{"resnet50_v2 x100, each with a closed loop of 1000. Never ends."},
		Build: buildSingleSpam,
	},
	{
		Name:  "simple",
		Help:  []string{"resnet50_v2 x2, each with a closed loop of 1. Never ends."},
		Build: buildSimple,
	},
	{
		Name: "simple-slo-factor",
		Help: []string{
			"resnet50_v2 x3, each with a closed loop of 1; every 10 s each model's SLO factor changes:",
			"model 0 starts at 4 and is multiplied by 1.25, model 1 starts at 4 and gets +1,",
			"model 2 toggles between 10 and 1. Never ends.",
		},
		Build: buildSimpleSLOFactor,
	},
	{
		Name: "simple-parametric",
		Params: []Param{
			{Name: "models", Kind: Count, Help: "number of resnet50_v2 copies"},
			{Name: "clients", Kind: Count, Help: "number of closed-loop clients; each gets a contiguous slice of ceil(models/clients) models, used round-robin"},
			{Name: "concurrency", Kind: Count, Help: "outstanding requests per client"},
			{Name: "requests", Kind: Count, Help: "requests per client"},
		},
		Help: []string{
			"Closed-loop clients over resnet50_v2 copies (user id = client index); prints each client's model ids.",
			"Ends when every client has sent all its requests and had all its answers.",
		},
		Build: buildSimpleParametric,
	},
	{
		Name: "poisson-open-loop",
		Params: []Param{
			{Name: "num_models", Kind: Count, Help: "number of resnet50_v2 copies"},
			{Name: "rate", Kind: Positive, Help: "total requests/second, split evenly across the models"},
		},
		Help:  []string{"One Poisson open loop per model. Never ends."},
		Build: buildPoissonOpenLoop,
	},
	{
		Name: "comparison_experiment",
		Params: []Param{
			{Name: "num_models", Kind: Count, Default: "15", Help: "number of resnet50_v2 copies"},
			{Name: "total_requests", Kind: Positive, Default: "1000", Help: "total requests/second across all models"},
		},
		Help:  []string{"One Poisson open loop per model. Never ends."},
		Build: buildComparison,
	},
	{
		Name: "comparison_experiment2",
		Params: []Param{
			{Name: "num_models", Kind: Count, Default: "15", Help: "number of resnet50_v2 copies"},
			{Name: "concurrency", Kind: Count, Default: "16", Help: "closed-loop concurrency per model"},
		},
		Help:  []string{"Closed-loop version of comparison_experiment (paper Fig. 5). Never ends."},
		Build: buildComparisonClosed,
	},
}

func buildExample(env *Env, _ Args) error {
	zoo, err := env.Zoo()
	if err != nil {
		return err
	}
	e := env.Engine
	for i, z := range zoo {
		e.Printf("Loading %s\n", z.Name)
		ms, err := env.Load(z.Path, 1)
		if err != nil {
			return err
		}
		m, id := ms[0], int32(i)
		e.Add(NewFixedRate(id, m, 0, 5))
		e.Add(NewPoisson(id, m, 1, 10))
		e.Add(&BurstyOpenLoop{ID: id, Model: m, Seed: 1, Rate: 10, Burst: 10 * time.Second, Idle: 20 * time.Second})
		e.Add(&ClosedLoop{ID: id, Models: ms, Concurrency: 1})
		e.Add(&BurstyClosedLoop{ID: id, Model: m, Concurrency: 1, Seed: 0, Burst: 10 * time.Second, Idle: 20 * time.Second})
	}
	return nil
}

func buildFillMemory(env *Env, _ Args) error {
	ms, err := env.LoadZooModel(DefaultModel, 411)
	if err != nil {
		return err
	}
	for i, m := range ms {
		rate := 1.0
		switch {
		case i == 0:
			rate = 1000
		case i <= 10:
			rate = 10
		}
		env.Engine.Add(NewPoisson(int32(i), m, uint64(i), rate))
	}
	return nil
}

// closedLoops adds a closed loop of concurrency per model, all with user id 0.
func closedLoops(env *Env, name string, copies, concurrency int) error {
	ms, err := env.LoadZooModel(name, copies)
	if err != nil {
		return err
	}
	for _, m := range ms {
		env.Engine.Add(&ClosedLoop{ID: 0, Models: []Model{m}, Concurrency: concurrency})
	}
	return nil
}

func buildSpam(env *Env, a Args) error { return closedLoops(env, a.String("modelname"), 100, 100) }

func buildSingleSpam(env *Env, _ Args) error { return closedLoops(env, DefaultModel, 100, 1000) }

func buildSimple(env *Env, _ Args) error { return closedLoops(env, DefaultModel, 2, 1) }

// poissonLoops adds a Poisson open loop at rate per model, with user id and
// seed the model's index.
func poissonLoops(env *Env, ms []Model, rate float64) []*OpenLoop {
	loops := make([]*OpenLoop, len(ms))
	for i, m := range ms {
		loops[i] = NewPoisson(int32(i), m, uint64(i), rate)
		env.Engine.Add(loops[i])
	}
	return loops
}

func buildSpam2(env *Env, _ Args) error {
	ms, err := env.LoadZooModel(DefaultModel, 100)
	if err != nil {
		return err
	}
	poissonLoops(env, ms, 1000)
	return nil
}

func buildSimpleSLOFactor(env *Env, _ Args) error {
	ms, err := env.LoadZooModel(DefaultModel, 3)
	if err != nil {
		return err
	}
	e := env.Engine
	for _, m := range ms {
		e.Add(&ClosedLoop{ID: 0, Models: []Model{m}, Concurrency: 1})
	}
	const period = 10 * time.Second
	e.Add(AdjustSLO(period, 4, ms[0:1], step("mul", 1.25), nil))
	e.Add(AdjustSLO(period, 4, ms[1:2], step("add", 1), nil))
	e.Add(AdjustSLO(period, 10, ms[2:3], func(v float64) float64 {
		if v == 10 {
			return 1
		}
		return 10
	}, nil))
	return nil
}

func buildSimpleParametric(env *Env, a Args) error {
	copies, clients := a.Int("models"), a.Int("clients")
	ms, err := env.LoadZooModel(DefaultModel, copies)
	if err != nil {
		return err
	}
	per := int(math.Ceil(float64(copies) / float64(clients)))
	for i := 0; i < clients && i*per < copies; i++ {
		slice := ms[i*per : min((i+1)*per, copies)]
		var line strings.Builder
		fmt.Fprintf(&line, "Adding ClosedLoop client %d with models:", i)
		for _, m := range slice {
			fmt.Fprintf(&line, " %d", m.ID())
		}
		env.Engine.Printf("%s\n", line.String())
		env.Engine.Add(&ClosedLoop{ID: int32(i), Models: slice, Concurrency: a.Int("concurrency"),
			Requests: a.Int("requests")})
	}
	return nil
}

func buildPoissonOpenLoop(env *Env, a Args) error {
	n, rate := a.Int("num_models"), a.Float("rate")
	path, err := env.ModelPath(DefaultModel)
	if err != nil {
		return err
	}
	env.Engine.Printf("Loading %d %s models\n", n, DefaultModel)
	env.Engine.Printf("Cumulative request rate across models: %s requests/seconds\n", num(rate))
	ms, err := env.Load(path, n)
	if err != nil {
		return err
	}
	env.Engine.Printf("Adding a PoissonOpenLoop Workload (%s requests/second) for each model\n", num(rate/float64(n)))
	poissonLoops(env, ms, rate/float64(n))
	return nil
}

func buildComparison(env *Env, a Args) error {
	n := a.Int("num_models")
	ms, err := env.LoadZooModel(DefaultModel, n)
	if err != nil {
		return err
	}
	poissonLoops(env, ms, a.Float("total_requests")/float64(n))
	return nil
}

func buildComparisonClosed(env *Env, a Args) error {
	ms, err := env.LoadZooModel(DefaultModel, a.Int("num_models"))
	if err != nil {
		return err
	}
	for i, m := range ms {
		env.Engine.Add(&ClosedLoop{ID: int32(i), Models: []Model{m}, Concurrency: a.Int("concurrency")})
	}
	return nil
}
