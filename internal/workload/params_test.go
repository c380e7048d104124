package workload

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		workload string
		args     string
		want     map[string]string // checked values
		err      string            // substring of the error
	}{
		{workload: "azure", want: map[string]string{"num_workers": "1", "use_all_models": "1", "load_factor": "1.0",
			"memory_load_factor": "4", "interval": "60", "trace": "1", "randomise": "0"}},
		{workload: "azure", args: "8 0 2.5", want: map[string]string{"num_workers": "8", "use_all_models": "0", "load_factor": "2.5", "trace": "1"}},
		{workload: "azure", args: "8 trace=3 randomise=true", want: map[string]string{"num_workers": "8", "trace": "3", "randomise": "true"}},
		{workload: "azure", args: "trace=15", err: `trace: "15" is not one of 1..14`},
		{workload: "azure", args: "memory_load_factor=5", err: `"5" is not one of 1..4`},
		{workload: "azure", args: "load_factor=0", err: `"0" is not a number > 0`},
		{workload: "azure", args: "1 1 1 1 60 1 0 9", err: "takes at most 7 arguments"},
		{workload: "azure", args: "trace=2 4", err: `positional argument "4" after name=value`},
		{workload: "azure", args: "trace=2 trace=3", err: "given twice"},
		{workload: "azure", args: "speed=3", err: `has no parameter "speed"`},
		{workload: "azure", args: "use_all_models=yes", err: "is not 0, 1, false or true"},
		// SLO bounds are numbers, not integers: 2.9 stays 2.9.
		{workload: "slo-exp-1", args: "resnet50_v2 12 poisson 600 2.9 100 1.5 mul 30",
			want: map[string]string{"slo-start": "2.9", "slo-end": "100", "period": "30"}},
		{workload: "slo-exp-1", args: "resnet50_v2 12 gamma 600 1 100 1.5 mul 30", err: `"gamma" is not one of poisson|fixed-rate`},
		{workload: "slo-exp-1", args: "resnet50_v2 12 poisson 600 1 100 1.5 pow 30", err: `"pow" is not one of add|mul`},
		{workload: "slo-exp-1", args: "resnet50_v2 12 poisson", err: "missing argument rate"},
		{workload: "simple-parametric", args: "10 0 1 1", err: `clients: "0" is not an integer ≥ 1`},
		{workload: "simple-parametric", args: "10 2.5 1 1", err: `"2.5" is not an integer ≥ 1`},
		{workload: "slo-exp-2", args: "resnet50_v2 0 poisson 1 1 2 2 mul 1 -1 1 0", err: `copies-bg: "-1" is not an integer ≥ 0`},
		{workload: "poisson-open-loop", args: "4 NaN", err: `"NaN" is not a number`},
		{workload: "scalability-exp-1", args: "4 100 300 1e400 add 2", err: "is not a number"},
		{workload: "simple", args: "extra", err: "takes at most 0 arguments"},
	}
	for _, tt := range tests {
		a, err := Lookup(tt.workload).Parse(strings.Fields(tt.args))
		if tt.err != "" {
			var ue *UsageError
			if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.As(err, &ue) {
				t.Errorf("%s %s: error %v, want a UsageError containing %q", tt.workload, tt.args, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", tt.workload, tt.args, err)
			continue
		}
		for k, v := range tt.want {
			if a[k] != v {
				t.Errorf("%s %s: %s = %q, want %q", tt.workload, tt.args, k, a[k], v)
			}
		}
	}
}

func TestArgsAccessors(t *testing.T) {
	a, err := Lookup("azure").Parse([]string{"8", "true", "0.5", "2", "1.5"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Int("num_workers") != 8 || !a.Bool("use_all_models") || a.Float("load_factor") != 0.5 ||
		a.Int("memory_load_factor") != 2 || a.Seconds("interval").Seconds() != 1.5 || a.Bool("randomise") {
		t.Errorf("accessors read %v", a)
	}
}

func TestEveryWorkloadIsDescribed(t *testing.T) {
	var b strings.Builder
	Describe(&b)
	help := b.String()
	names := map[string]bool{}
	for _, d := range Defs() {
		if names[d.Name] {
			t.Errorf("workload %s defined twice", d.Name)
		}
		names[d.Name] = true
		if !strings.Contains(help, "  "+d.Synopsis()+"\n") {
			t.Errorf("help lacks %q", d.Synopsis())
		}
		if len(d.Help) == 0 {
			t.Errorf("workload %s has no description", d.Name)
		}
		for _, p := range d.Params {
			if p.Help == "" {
				t.Errorf("%s: parameter %s has no help", d.Name, p.Name)
			}
			if p.Default != "" {
				if err := p.check(p.Default); err != nil {
					t.Errorf("%s: default of %s: %v", d.Name, p.Name, err)
				}
			}
		}
	}
	for _, n := range []string{"example", "fill_memory", "spam", "single-spam", "simple", "simple-slo-factor",
		"simple-parametric", "poisson-open-loop", "scalability-exp-1", "slo-exp-1", "slo-exp-2",
		"comparison_experiment", "comparison_experiment2", "azure", "azure_small", "azure_half", "azure_single",
		"azure_fast", "azure_parameterized", "azure_scalability_exp", "bursty_experiment", "spam2",
		"bursty_experiment1", "bursty_experiment_simple"} {
		if !names[n] {
			t.Errorf("workload %s missing", n)
		}
	}
}
