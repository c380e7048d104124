package workload

import (
	"strconv"
	"time"
)

// loadPerWorker is the original's estimate of the share of trace 1 that
// one worker can serve: scale factor = load factor × 0.125 × workers.
const loadPerWorker = 0.125

// memoryLimit is the original's estimate of how many model instances fit
// in GPU memory; loading more prints a warning.
const memoryLimit = 3100

// copiesByMemoryLoad maps memory_load_factor to copies of every zoo model
// (use_all_models) and copies of resnet50_v2 alone.
var copiesByMemoryLoad = map[int][2]int{1: {3, 200}, 2: {13, 800}, 3: {29, 1800}, 4: {66, 3600}}

var traceChoices = func() []string {
	c := make([]string, 14)
	for i := range c {
		c[i] = strconv.Itoa(i + 1)
	}
	return c
}()

var (
	workersParam = Param{Name: "num_workers", Kind: Count, Default: "1", Help: "number of workers the load is sized for"}
	mlfParam     = Param{Name: "memory_load_factor", Kind: Uint, Default: "4", Choices: []string{"1", "2", "3", "4"},
		Help: "instances per zoo model: 1: x3, 2: x13, 3: x29, 4: x66 (resnet50_v2 only: 200, 800, 1800, 3600)"}
)

var azureDefs = []*Def{
	{
		Name: "azure",
		Params: []Param{
			workersParam,
			{Name: "use_all_models", Kind: Bool, Default: "1", Help: "load every zoo model, or just resnet50_v2"},
			{Name: "load_factor", Kind: Positive, Default: "1.0", Help: "approximate load relative to what the workers can handle (0.5: half, 2.0: twice)"},
			mlfParam,
			{Name: "interval", Kind: Seconds, Default: "60", Help: "seconds of replay per trace minute"},
			{Name: "trace", Kind: Uint, Default: "1", Choices: traceChoices, Help: "day of the Azure Functions trace to replay"},
			{Name: "randomise", Kind: Bool, Default: "0", Help: "start each function at a random point of the trace"},
		},
		Help: []string{
			"Replays an Azure Functions trace from AZURE_TRACE_DIR (paper Figs. 9-10): every function is a Poisson",
			"replay of its per-minute counts × scale, scale = load_factor × 0.125 × num_workers; functions, most",
			"invoked first, map to model instances in contiguous blocks. Never ends (the trace loops).",
		},
		Build: buildAzure,
	},
	{
		Name: "azure_scalability_exp",
		Params: []Param{
			workersParam,
			{Name: "load_factor_min", Kind: Positive, Default: "0.1", Help: "starting load factor"},
			{Name: "load_factor_max", Kind: Positive, Default: "2.0", Help: "the run ends once the load factor exceeds this"},
			{Name: "load_factor_inc", Kind: Positive, Default: "2.0", Help: "factor applied to the load factor every period"},
			{Name: "load_factor_period", Kind: Seconds, Default: "1.0", Help: "seconds between load factor changes"},
			mlfParam,
		},
		Help: []string{
			"azure with every zoo model, trace 1, 60 s intervals, and a load factor that grows every period",
			"(paper Fig. 11; prints \">>>> Updating scale_factor to X\"). Ends when it exceeds load_factor_max.",
		},
		Build: buildAzureScalability,
	},
	{
		Name: "azure_parameterized",
		Params: []Param{
			{Name: "trace", Kind: Uint, Default: "1", Choices: traceChoices, Help: "day of the trace"},
			{Name: "scale_factor", Kind: Positive, Default: "1.0", Help: "multiplies every per-minute count"},
			{Name: "interval", Kind: Seconds, Default: "60", Help: "seconds of replay per trace minute"},
			{Name: "randomise", Kind: Bool, Default: "0", Help: "start each function at a random point of the trace"},
			{Name: "use_all_models", Kind: Bool, Default: "1", Help: "split num_models evenly over every zoo model, or just resnet50_v2"},
			{Name: "num_models", Kind: Count, Default: "3100", Help: "model instances in total"},
			{Name: "stripe", Kind: Bool, Default: "0", Help: "function i uses instance i mod num_models instead of contiguous blocks"},
		},
		Help:  []string{"The trace replay behind azure, with its knobs. Never ends. (Not in the original's command line.)"},
		Build: buildAzureParameterized,
	},
	{
		Name: "azure_half",
		Help: []string{"azure_parameterized with its defaults: trace 1, scale 1, 3100 instances over every zoo model. Never ends."},
		Build: func(env *Env, _ Args) error {
			_, err := azureRun{trace: 1, scale: 1, interval: time.Minute, allModels: true, instances: memoryLimit,
				announce: true}.build(env)
			return err
		},
	},
	{
		Name:  "azure_small",
		Help:  []string{"Trace 1 at scale 1, 60 s intervals, every zoo model x3, function i on instance i mod instances. Never ends."},
		Build: func(env *Env, _ Args) error { return buildAzureStriped(env, time.Minute, false) },
	},
	{
		Name:  "azure_single",
		Help:  []string{"Only the most invoked function of trace 1, on one resnet50_v2, 1 s intervals. Never ends."},
		Build: buildAzureSingle,
	},
	{
		Name:  "azure_fast",
		Help:  []string{"azure_small with 1 s intervals and each function starting at a random point. Never ends."},
		Build: func(env *Env, _ Args) error { return buildAzureStriped(env, time.Second, true) },
	},
}

// azureRun is the original's azure_parameterized.
type azureRun struct {
	trace     int
	scale     float64
	interval  time.Duration
	randomise bool
	allModels bool
	instances int
	stripe    bool
	announce  bool // print the "Running azure_parameterized" line
}

// build loads the trace and the instances and adds one replay per function.
func (r azureRun) build(env *Env) ([]*TraceReplay, error) {
	e := env.Engine
	if r.announce {
		e.Printf("Running azure_parameterized trace_id=%d scale_factor=%s interval_duration_seconds=%s randomise=%d use_all_models=%d num_models=%d\n",
			r.trace, num(r.scale), num(r.interval.Seconds()), b01(r.randomise), b01(r.allModels), r.instances)
	}
	trace, err := env.Trace(r.trace)
	if err != nil {
		return nil, err
	}
	zoo, err := env.Zoo()
	if err != nil {
		return nil, err
	}
	if r.instances > memoryLimit {
		e.Printf("WARNING: %d is about the GPU memory limit for models. Got %d.  You might get cuda device memory exhaustion errors.\n",
			memoryLimit, r.instances)
	}
	var models []Model
	if r.allModels {
		left := r.instances
		for i, z := range zoo {
			n := left / (len(zoo) - i)
			left -= n
			if n == 0 {
				continue
			}
			e.Printf("Loading %s x%d\n", z.Name, n)
			ms, err := env.Load(z.Path, n)
			if err != nil {
				return nil, err
			}
			models = append(models, ms...)
		}
	} else {
		e.Printf("Loading %s x%d\n", DefaultModel, r.instances)
		if models, err = env.LoadZooModel(DefaultModel, r.instances); err != nil {
			return nil, err
		}
	}
	replays := make([]*TraceReplay, len(trace))
	for i, counts := range trace {
		m := models[len(models)*i/len(trace)]
		if r.stripe {
			m = models[i%len(models)]
		}
		replays[i] = &TraceReplay{ID: int32(i), Model: m, Seed: uint64(i), Counts: counts, Scale: r.scale,
			Interval: r.interval, RandomStart: r.randomise}
		e.Add(replays[i])
	}
	return replays, nil
}

// instances prints and returns the number of instances a memory load factor
// asks for.
func instances(env *Env, mlf int, allModels bool) (int, error) {
	zoo, err := env.Zoo()
	if err != nil {
		return 0, err
	}
	copies, models := copiesByMemoryLoad[mlf][1], 1
	if allModels {
		copies, models = copiesByMemoryLoad[mlf][0], len(zoo)
	}
	env.Engine.Printf("Using %d models (%d copies of %d models)\n", copies*models, copies, models)
	return copies * models, nil
}

func buildAzure(env *Env, a Args) error {
	w, all, lf, mlf := a.Int("num_workers"), a.Bool("use_all_models"), a.Float("load_factor"), a.Int("memory_load_factor")
	interval, trace, randomise := a.Seconds("interval"), a.Int("trace"), a.Bool("randomise")
	e := env.Engine
	e.Printf("Running azure2 workload with num_workers=%d use_all_models=%d load_factor=%s memory_load_factor=%d interval_duration_seconds=%s trace_id=%d randomise_start=%d\n",
		w, b01(all), num(lf), mlf, num(interval.Seconds()), trace, b01(randomise))
	n, err := instances(env, mlf, all)
	if err != nil {
		return err
	}
	scale := lf * loadPerWorker * float64(w)
	e.Printf("Replaying trace %d at scale_factor=%s to achieve load_factor %s on %d workers\n", trace, num(scale), num(lf), w)
	e.Printf("%s second intervals\n", num(interval.Seconds()))
	_, err = azureRun{trace: trace, scale: scale, interval: interval, randomise: randomise, allModels: all,
		instances: n, announce: true}.build(env)
	return err
}

func buildAzureParameterized(env *Env, a Args) error {
	_, err := azureRun{trace: a.Int("trace"), scale: a.Float("scale_factor"), interval: a.Seconds("interval"),
		randomise: a.Bool("randomise"), allModels: a.Bool("use_all_models"), instances: a.Int("num_models"),
		stripe: a.Bool("stripe"), announce: true}.build(env)
	return err
}

func buildAzureScalability(env *Env, a Args) error {
	w, mlf := a.Int("num_workers"), a.Int("memory_load_factor")
	lfMin, lfMax, lfInc, period := a.Float("load_factor_min"), a.Float("load_factor_max"), a.Float("load_factor_inc"), a.Seconds("load_factor_period")
	e := env.Engine
	e.Printf("Running azure_scalability_exp workload with num_workers=%d load_factor_min=%s load_factor_max=%s load_factor_inc=%s load_factor_period=%s memory_load_factor=%d\n",
		w, num(lfMin), num(lfMax), num(lfInc), num(period.Seconds()), mlf)
	n, err := instances(env, mlf, true)
	if err != nil {
		return err
	}
	sMin, sMax := lfMin*loadPerWorker*float64(w), lfMax*loadPerWorker*float64(w)
	e.Printf("Replaying trace 1 at scale_factor=[%s, %s) to achieve load_factor=[%s, %s) on %d workers\n",
		num(sMin), num(sMax), num(lfMin), num(lfMax), w)
	e.Printf("60 second intervals\n")
	e.Printf("%s seconds between scale factor increments\n", num(period.Seconds()))
	replays, err := azureRun{trace: 1, scale: sMin, interval: time.Minute, allModels: true, instances: n}.build(env)
	if err != nil {
		return err
	}
	e.Add(AdjustScale(period, sMin, replays, step("mul", lfInc), above(sMax)))
	return nil
}

// buildAzureStriped is azure_small and azure_fast: every zoo model x3,
// function i on instance i mod instances, trace 1 at scale 1.
func buildAzureStriped(env *Env, interval time.Duration, randomise bool) error {
	trace, err := env.Trace(1)
	if err != nil {
		return err
	}
	zoo, err := env.Zoo()
	if err != nil {
		return err
	}
	var models []Model
	for _, z := range zoo {
		env.Engine.Printf("Loading %s\n", z.Name)
		ms, err := env.Load(z.Path, 3)
		if err != nil {
			return err
		}
		models = append(models, ms...)
	}
	for i, counts := range trace {
		env.Engine.Add(&TraceReplay{ID: int32(i), Model: models[i%len(models)], Seed: uint64(i), Counts: counts,
			Scale: 1, Interval: interval, RandomStart: randomise})
	}
	return nil
}

func buildAzureSingle(env *Env, _ Args) error {
	trace, err := env.Trace(1)
	if err != nil {
		return err
	}
	ms, err := env.LoadZooModel(DefaultModel, 1)
	if err != nil {
		return err
	}
	env.Engine.Add(&TraceReplay{ID: 0, Model: ms[0], Seed: 0, Counts: trace[0], Scale: 1, Interval: time.Second})
	return nil
}
