package controllercmd

import (
	"reflect"
	"testing"
)

func TestParsePositional(t *testing.T) {
	a, err := Parse([]string{"INFER5", "w1:12345,w2:12345", "1", "6", "5000000", "86400000000000", "25000000", "4"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Args{Type: "INFER5", Workers: []string{"w1:12345", "w2:12345"}, GenerateInputs: true, MaxGPUs: 6,
		ScheduleAhead: 5e6, DefaultSLO: 86400000000000, MaxExec: 25e6, MaxBatch: 4, Port: 12346,
		EstimateWindow: 20, EstimatePercentile: 0.9}
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("got %+v\nwant %+v", a, want)
	}
}

func TestParseFlagsAnywhere(t *testing.T) {
	a, err := Parse([]string{"-port", "0", "infer5", "localhost:1", "--default-slo=25ms", "-generate-inputs", "-max-batch", "16",
		"-estimate-window", "100", "-estimate-percentile=0.9", "-max-clients", "64"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Type != "INFER5" || a.Port != 0 || a.DefaultSLO != 25e6 || !a.GenerateInputs || a.MaxBatch != 16 || a.MaxGPUs != 100 || a.MaxExec != 250e6 ||
		a.EstimateWindow != 100 || a.EstimatePercentile != 0.9 || a.MaxClients != 64 {
		t.Fatalf("got %+v", a)
	}
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"INFER5"},
		{"INFER5", "host"}, // no port (the original's undefined behaviour)
		{"INFER5", "host:notaport"},
		{"INFER5", "h:1", "x"},      // generate_inputs
		{"INFER5", "h:1", "0", "0"}, // max_gpus
		{"INFER5", "h:1", "0", "1", "-5"},
		{"INFER5", "h:1", "0", "1", "1", "1", "1", "1", "extra"},
		{"INFER5", "h:1", "-bogus", "1"},
		{"INFER5", "h:1", "-port"},
		{"INFER5", "h:1", "-estimate-window", "0"},
		{"INFER5", "h:1", "-estimate-window", "1001"},
		{"INFER5", "h:1", "-estimate-percentile", "1.5"},
		{"INFER5", "h:1", "-estimate-percentile", "NaN"},
		{"INFER5", "h:1", "-estimate-percentile", "-0.1"},
		{"INFER5", "h:1", "-estimate-percentile", "0"},
		{"INFER5", "h:1", "-max-clients", "0"},
	} {
		if _, err := Parse(args); err == nil {
			t.Errorf("Parse(%q) succeeded", args)
		}
	}
	if a, err := Parse([]string{"-h"}); err != nil || !a.Help {
		t.Errorf("-h: %+v, %v", a, err)
	}
}
