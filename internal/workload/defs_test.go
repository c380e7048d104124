package workload

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/workload/azure"
)

var zooNames = []string{"alexnet", "resnet18", "resnet50", "resnet50_v2", "vgg16"}

// testEnv returns an environment with a 5-model zoo, a small generated
// Azure trace, a fake loader and a virtual-clock engine.
func testEnv(t *testing.T, traceDir string) (*Env, *fakeLoader, *bytes.Buffer) {
	t.Helper()
	e, clock, out := virtualEngine(0)
	l := &fakeLoader{clock: clock, delay: 5 * time.Millisecond}
	return &Env{Engine: e, Loader: l, ModelDir: testZoo(t, zooNames...), TraceDir: traceDir}, l, out
}

func smallTrace(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := azure.DefaultGenConfig()
	cfg.Functions, cfg.Seed = 200, 3
	if err := azure.Generate(dir, cfg); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestEveryWorkloadBuildsAndRuns builds each named workload against the
// fake loader, checks what it loads, prints and adds, and runs it for a
// while of virtual time.
func TestEveryWorkloadBuildsAndRuns(t *testing.T) {
	trace := smallTrace(t)
	tests := []struct {
		name      string
		args      []string
		loads     []string // "model xN" per load
		workloads int
		lines     []string      // printed lines, in order (a prefix of each is enough)
		limit     time.Duration // virtual run time (default 1 s)
		ends      bool          // ends by itself within limit
	}{
		{name: "example", loads: []string{"alexnet x1", "resnet18 x1", "resnet50 x1", "resnet50_v2 x1", "vgg16 x1"},
			workloads: 25, lines: []string{"Found 5 models in", "Loading alexnet", "Loading resnet18", "Loading resnet50", "Loading resnet50_v2", "Loading vgg16"}},
		{name: "fill_memory", loads: []string{"resnet50_v2 x411"}, workloads: 411},
		{name: "spam", loads: []string{"resnet50_v2 x100"}, workloads: 100, limit: 20 * time.Millisecond},
		{name: "spam", args: []string{"vgg16"}, loads: []string{"vgg16 x100"}, workloads: 100, limit: 20 * time.Millisecond},
		{name: "spam2", loads: []string{"resnet50_v2 x100"}, workloads: 100},
		{name: "single-spam", loads: []string{"resnet50_v2 x100"}, workloads: 100, limit: 20 * time.Millisecond},
		{name: "simple", loads: []string{"resnet50_v2 x2"}, workloads: 2},
		{name: "simple-slo-factor", loads: []string{"resnet50_v2 x3"}, workloads: 6,
			lines: []string{"Found", "Updating slo_factor to 5", "Updating slo_factor to 5", "Updating slo_factor to 1"}, limit: 15 * time.Second},
		{name: "simple-parametric", args: []string{"10", "4", "2", "50"}, loads: []string{"resnet50_v2 x10"}, workloads: 4,
			lines: []string{"Found", "Adding ClosedLoop client 0 with models: 0 1 2", "Adding ClosedLoop client 1 with models: 3 4 5",
				"Adding ClosedLoop client 2 with models: 6 7 8", "Adding ClosedLoop client 3 with models: 9"}, ends: true},
		{name: "simple-parametric", args: []string{"10", "6", "1", "5"}, loads: []string{"resnet50_v2 x10"}, workloads: 5, ends: true},
		{name: "poisson-open-loop", args: []string{"4", "100"}, loads: []string{"resnet50_v2 x4"}, workloads: 4,
			lines: []string{"Found", "Loading 4 resnet50_v2 models", "Cumulative request rate across models: 100 requests/seconds",
				"Adding a PoissonOpenLoop Workload (25 requests/second) for each model"}},
		{name: "comparison_experiment", loads: []string{"resnet50_v2 x15"}, workloads: 15},
		{name: "comparison_experiment2", args: []string{"num_models=3", "concurrency=2"}, loads: []string{"resnet50_v2 x3"}, workloads: 3},
		{name: "scalability-exp-1", args: []string{"4", "100", "300", "100", "add", "2"}, loads: []string{"resnet50_v2 x4"}, workloads: 5,
			lines: []string{"Found", "Updating rate to 50", "Updating rate to 75", "Terminating engine"}, limit: time.Minute, ends: true},
		{name: "slo-exp-1", args: []string{"resnet50", "2", "fixed-rate", "100", "2.9", "10", "1.5", "mul", "3"},
			loads: []string{"resnet50 x2"}, workloads: 3,
			lines: []string{"Found", "Updating slo_factor to 4.35", "Updating slo_factor to 6.525", "Updating slo_factor to 9.7875", "Terminating engine"},
			limit: time.Minute, ends: true},
		{name: "slo-exp-2", args: []string{"resnet50_v2", "2", "poisson", "200", "2", "8", "2", "mul", "7", "3", "1", "100"},
			loads: []string{"resnet50_v2 x2", "resnet50_v2 x3"}, workloads: 6,
			lines: []string{"Found", "Model 2's start delayed by 10 seconds", "Model 3's start delayed by 10 seconds",
				"Model 4's start delayed by 10 seconds", "Updating slo_factor to 4", "Updating slo_factor to 8", "Terminating engine"},
			limit: time.Minute, ends: true},
		{name: "azure", args: []string{"8", "1", "1.0", "1"}, loads: []string{"alexnet x3", "resnet18 x3", "resnet50 x3", "resnet50_v2 x3", "vgg16 x3"},
			workloads: 200, limit: 5 * time.Minute,
			lines: []string{"Running azure2 workload with num_workers=8 use_all_models=1 load_factor=1 memory_load_factor=1 interval_duration_seconds=60 trace_id=1 randomise_start=0",
				"Found 5 models", "Using 15 models (3 copies of 5 models)", "Replaying trace 1 at scale_factor=1 to achieve load_factor 1 on 8 workers",
				"60 second intervals", "Running azure_parameterized trace_id=1 scale_factor=1 interval_duration_seconds=60 randomise=0 use_all_models=1 num_models=15",
				"Loading alexnet x3", "Loading resnet18 x3", "Loading resnet50 x3", "Loading resnet50_v2 x3", "Loading vgg16 x3"}},
		{name: "azure", args: []string{"use_all_models=0", "memory_load_factor=1"}, loads: []string{"resnet50_v2 x200"}, workloads: 200, limit: 5 * time.Minute,
			lines: []string{"Running azure2", "Found", "Using 200 models (200 copies of 1 models)", "Replaying trace 1 at scale_factor=0.125",
				"60 second intervals", "Running azure_parameterized", "Loading resnet50_v2 x200"}},
		{name: "azure_scalability_exp", args: []string{"8", "0.5", "2", "2", "60", "1"},
			loads: []string{"alexnet x3", "resnet18 x3", "resnet50 x3", "resnet50_v2 x3", "vgg16 x3"}, workloads: 201,
			lines: []string{"Running azure_scalability_exp workload with num_workers=8 load_factor_min=0.5 load_factor_max=2 load_factor_inc=2 load_factor_period=60 memory_load_factor=1",
				"Found", "Using 15 models", "Replaying trace 1 at scale_factor=[0.5, 2) to achieve load_factor=[0.5, 2) on 8 workers",
				"60 second intervals", "60 seconds between scale factor increments", "Loading alexnet x3", "Loading resnet18 x3",
				"Loading resnet50 x3", "Loading resnet50_v2 x3", "Loading vgg16 x3", ">>>> Updating scale_factor to 1",
				">>>> Updating scale_factor to 2", "Terminating engine"}, limit: 4 * time.Minute, ends: true},
		{name: "azure_parameterized", args: []string{"num_models=7", "stripe=1", "interval=1"},
			loads: []string{"alexnet x1", "resnet18 x1", "resnet50 x1", "resnet50_v2 x2", "vgg16 x2"}, workloads: 200, limit: 5 * time.Minute},
		{name: "azure_parameterized", args: []string{"num_models=3"},
			loads: []string{"resnet50 x1", "resnet50_v2 x1", "vgg16 x1"}, workloads: 200, limit: 5 * time.Minute},
		{name: "azure_half", loads: []string{"alexnet x620", "resnet18 x620", "resnet50 x620", "resnet50_v2 x620", "vgg16 x620"}, workloads: 200, limit: 5 * time.Minute,
			lines: []string{"Running azure_parameterized trace_id=1 scale_factor=1 interval_duration_seconds=60 randomise=0 use_all_models=1 num_models=3100"}},
		{name: "azure_small", loads: []string{"alexnet x3", "resnet18 x3", "resnet50 x3", "resnet50_v2 x3", "vgg16 x3"}, workloads: 200, limit: 5 * time.Minute},
		{name: "azure_fast", loads: []string{"alexnet x3", "resnet18 x3", "resnet50 x3", "resnet50_v2 x3", "vgg16 x3"}, workloads: 200, limit: 5 * time.Minute},
		{name: "azure_single", loads: []string{"resnet50_v2 x1"}, workloads: 1, limit: 5 * time.Minute},
		{name: "bursty_experiment", args: []string{"25"}, loads: []string{"resnet50_v2 x25", "resnet50_v2 x1"}, workloads: 26,
			lines: []string{"Model 0 0 0", "Model 1 ", "Model 2 ", "Model 3 ", "Model 4 ", "...", "Model 19 ", "Model 24 ", "Found", "Loading 0:25"}},
		{name: "bursty_experiment1", loads: repeat("resnet50_v2 x100", 36), workloads: 3600},
		{name: "bursty_experiment_simple", loads: repeat("resnet50_v2 x100", 36), workloads: 3600},
	}
	for _, tt := range tests {
		t.Run(tt.name+strings.Join(tt.args, "_"), func(t *testing.T) {
			def := Lookup(tt.name)
			if def == nil {
				t.Fatalf("no workload %s", tt.name)
			}
			a, err := def.Parse(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			env, l, out := testEnv(t, trace)
			if err := def.Build(env, a); err != nil {
				t.Fatal(err)
			}
			if strings.Join(l.loads, ",") != strings.Join(tt.loads, ",") {
				t.Errorf("loads %v, want %v", l.loads, tt.loads)
			}
			if n := env.Engine.Workloads(); n != tt.workloads {
				t.Errorf("%d workloads, want %d", n, tt.workloads)
			}
			limit := tt.limit
			if limit == 0 {
				limit = time.Second
			}
			env.Engine.StopAfter(limit)
			if err := env.Engine.Run(t.Context()); err != nil {
				t.Fatal(err)
			}
			if ended := env.Engine.Now() < limit; ended != tt.ends {
				t.Errorf("ended at %v; want ending by itself: %v", env.Engine.Now(), tt.ends)
			}
			if l.total() == 0 {
				t.Error("no requests sent")
			}
			checkLines(t, out.String(), tt.lines)
		})
	}
}

// checkLines checks that want's entries start successive printed lines,
// in order (other lines may come between).
func checkLines(t *testing.T, out string, want []string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, w := range want {
		for i < len(lines) && !strings.HasPrefix(lines[i], w) {
			i++
		}
		if i == len(lines) {
			t.Errorf("missing line %q in order; output:\n%s", w, truncate(out))
			return
		}
		i++
	}
}

func truncate(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

func repeat(s string, n int) []string {
	r := make([]string, n)
	for i := range r {
		r[i] = s
	}
	return r
}

func TestSimpleSLOFactorToggles(t *testing.T) {
	env, l, _ := testEnv(t, "")
	if err := Lookup("simple-slo-factor").Build(env, Args{}); err != nil {
		t.Fatal(err)
	}
	run(t, env.Engine, 45*time.Second)
	// Model 2 starts at 10 and toggles every 10 s: 10, 1, 10, 1, 10.
	m := l.models[2]
	for i, at := range m.sent {
		want := float32(10)
		if int(at/(10*time.Second))%2 == 1 {
			want = 1
		}
		if at%(10*time.Second) != 0 && m.slos[i] != want {
			t.Fatalf("request at %v carried SLO factor %v, want %v", at, m.slos[i], want)
		}
	}
	if got := l.models[0].slo; got != 4*1.25*1.25*1.25*1.25 {
		t.Errorf("model 0 factor after 4 periods = %v", got)
	}
	if got := l.models[1].slo; got != 8 {
		t.Errorf("model 1 factor after 4 periods = %v, want 8", got)
	}
}

func TestSLOExp2BackgroundFactorAndIDs(t *testing.T) {
	env, l, _ := testEnv(t, "")
	a, err := Lookup("slo-exp-2").Parse(strings.Fields("resnet50_v2 0 poisson 200 2 8 2 mul 7 2 3 100"))
	if err != nil {
		t.Fatal(err)
	}
	if err := Lookup("slo-exp-2").Build(env, a); err != nil {
		t.Fatal(err)
	}
	run(t, env.Engine, 11*time.Second)
	for i, m := range l.models {
		if m.slo != 100 || m.users[0] != int32(i) || m.sent[0] != 10*time.Second || m.maxOut != 3 {
			t.Errorf("BG model %d: slo %v, user %d, first at %v, concurrency %d", i, m.slo, m.users[0], m.sent[0], m.maxOut)
		}
	}
}

func TestAzureBlockMapping(t *testing.T) {
	// 200 functions over 15 instances: function i → instance 15i/200, so
	// every instance gets a contiguous block of 13 or 14 functions, the
	// most invoked functions on the first instances.
	env, l, _ := testEnv(t, smallTrace(t))
	a, _ := Lookup("azure").Parse([]string{"memory_load_factor=1"})
	if err := Lookup("azure").Build(env, a); err != nil {
		t.Fatal(err)
	}
	run(t, env.Engine, time.Hour)
	for i, m := range l.models {
		users := map[int32]bool{}
		for _, u := range m.users {
			users[u] = true
		}
		for u := range users {
			if inst := 15 * int(u) / 200; inst != i {
				t.Errorf("instance %d got requests of function %d (belongs to instance %d)", i, u, inst)
			}
		}
	}
}

func TestBurstyTrace(t *testing.T) {
	c := burstyTrace(7)
	if len(c[0]) != burstyLeadIn+7 {
		t.Fatalf("trace length %d, want %d", len(c[0]), burstyLeadIn+7)
	}
	for k := range 7 {
		sum := 0
		for j := range 7 {
			v := int(c[j][burstyLeadIn+k])
			if (j <= k) != (v > 0) {
				t.Errorf("second %d: model %d has %d", k, j, v)
			}
			sum += v
		}
		if sum != burstyPerMinute {
			t.Errorf("second %d: %d requests, want %d", k, sum, burstyPerMinute)
		}
	}
	for j := range 7 {
		for k := range burstyLeadIn {
			if c[j][k] != 0 {
				t.Fatalf("lead-in second %d of model %d is %d", k, j, c[j][k])
			}
		}
	}
}

func TestEnvErrors(t *testing.T) {
	env, l, _ := testEnv(t, "")
	env.ModelDir = ""
	if err := Lookup("simple").Build(env, Args{}); !errors.Is(err, ErrNoModelDir) ||
		err.Error() != "CLOCKWORK_MODEL_DIR variable not set, exiting" {
		t.Errorf("no model dir: %v", err)
	}
	env, l, _ = testEnv(t, "")
	err := Lookup("spam").Build(env, Args{"modelname": "resnet9000"})
	if err == nil || !strings.HasPrefix(err.Error(), "Unknown model resnet9000\nValid models: alexnet resnet18 resnet50 resnet50_v2 vgg16") {
		t.Errorf("unknown model: %v", err)
	}
	a, _ := Lookup("azure").Parse(nil)
	if err := Lookup("azure").Build(env, a); !errors.Is(err, azure.ErrNoTraceDir) {
		t.Errorf("no trace dir: %v", err)
	}
	env.TraceDir = t.TempDir()
	if err := Lookup("azure").Build(env, a); err == nil || !strings.Contains(err.Error(), "invocations_per_function_md.anon.d01.csv") {
		t.Errorf("missing trace file: %v", err)
	}
	if len(l.loads) != 0 {
		t.Errorf("loaded %v before failing", l.loads)
	}
	if len(l.loads) != 0 {
		t.Errorf("loaded %v before failing", l.loads)
	}
}

// TestParseChecks checks the arguments that depend on each other or on
// bounds, which Parse refuses before the client connects, and the values
// the original accepted.
func TestParseChecks(t *testing.T) {
	for _, c := range []struct {
		workload, args, err string // err "": accepted
	}{
		// The paper's Fig. 8: no BG instances, concurrency-bg irrelevant.
		{"slo-exp-2", "resnet50_v2 6 poisson 200 1 100 1.5 mul 30 0 0 0", ""},
		{"slo-exp-2", "resnet50_v2 0 poisson 0 2 8 2 mul 7 2 4 100", ""},
		{"slo-exp-2", "resnet50_v2 0 poisson 200 2 8 2 mul 7 0 1 100", "copies-fg and copies-bg are both 0"},
		{"slo-exp-2", "resnet50_v2 2 poisson 0 2 8 2 mul 7 0 1 100", `rate-fg: "0" is not a number > 0`},
		{"slo-exp-2", "resnet50_v2 0 poisson 200 2 8 2 mul 7 2 0 100", `concurrency-bg: "0" is not an integer ≥ 1`},
		{"slo-exp-1", "resnet50_v2 4 poisson 100 0 10 2 add 5", ""}, // 0: the controller's default SLO
		{"slo-exp-1", "resnet50_v2 1 poisson 10 2 32 1 mul 1e-10", `period: "1e-10" is not a number of seconds ≥ 0.001`},
		{"azure", "8 1 1.0 1 1e-10 1 1", `interval: "1e-10" is not a number of seconds ≥ 0.001`},
		{"bursty_experiment", "10000", ""},
		{"bursty_experiment", "10001", "num_models is at most 10000, not 10001"},
	} {
		_, err := Lookup(c.workload).Parse(strings.Fields(c.args))
		var ue *UsageError
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s %s: %v", c.workload, c.args, err)
		case c.err != "" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s %s: %v, want a usage error saying %q", c.workload, c.args, err, c.err)
		}
	}
}
