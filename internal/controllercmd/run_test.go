package controllercmd

import (
	"bytes"
	"net"
	"os"
	"strings"
	"testing"
)

// TestOtherTypes: the original's controller types that are not
// implemented here are refused before anything starts, saying what they
// were.
func TestOtherTypes(t *testing.T) {
	for typ, want := range map[string]string{
		"smart": "SMART is not implemented here: it is a scheduler the fork added",
		"NOPE":  "",
	} {
		var stdout, stderr bytes.Buffer
		if rc := Main([]string{typ, "localhost:1"}, &stdout, &stderr); rc != 1 {
			t.Errorf("%s: exit status %d", typ, rc)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s: started: %q", typ, stdout.String())
		}
		got := stderr.String()
		if !strings.HasPrefix(got, "Invalid controller type "+strings.ToUpper(typ)+"\n") || !strings.Contains(got, "Usage: controller") {
			t.Errorf("%s: %q", typ, got)
		}
		if want != "" && !strings.Contains(got, want) {
			t.Errorf("%s: %q lacks %q", typ, got, want)
		}
		if want == "" && strings.Contains(got, "not implemented here") {
			t.Errorf("%s: %q", typ, got)
		}
	}
}

// TestStressNeedsAModel: STRESS loads $CLOCKWORK_MODEL_DIR/resnet50_v2
// unless told another model; with neither it does not start.
func TestStressNeedsAModel(t *testing.T) {
	t.Setenv("CLOCKWORK_MODEL_DIR", "")
	var stdout, stderr bytes.Buffer
	if rc := Main([]string{"STRESS", "localhost:1"}, &stdout, &stderr); rc != 1 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "STRESS needs a model") {
		t.Errorf("exit %d, %q", rc, stderr.String())
	}
	t.Setenv("CLOCKWORK_MODEL_DIR", "/zoo")
	for _, tc := range []struct {
		args   []string
		model  string
		copies int
	}{
		{[]string{"STRESS", "w:1"}, "/zoo/resnet50_v2/model", 40},
		{[]string{"-stress-model", "/m/model", "-stress-copies", "5", "STRESS", "w:1"}, "/m/model", 5},
	} {
		a, err := Parse(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		o, err := a.stressOptions()
		if err != nil || o.Model != tc.model || o.Copies != tc.copies {
			t.Errorf("%q: %+v, %v", tc.args, o, err)
		}
	}
	for _, n := range []string{"70000", "3"} {
		if _, err := Parse([]string{"-stress-copies", n, "STRESS", "w:1"}); err == nil {
			t.Errorf("%s copies accepted", n)
		}
	}
}

// TestTypeDefaults: max_batch and schedule_ahead default by type; INFER4's
// schedule_ahead stays 10 ms with generate_inputs.
func TestTypeDefaults(t *testing.T) {
	for _, tc := range []struct {
		typ      string
		generate bool
		batch    int
		ahead    int64
	}{
		{"INFER5", false, 8, 10e6},
		{"INFER5", true, 8, 15e6},
		{"INFER4", false, 16, 10e6},
		{"INFER4", true, 16, 10e6},
		{"BASELINE", false, 8, 10e6},
	} {
		a := &Args{Type: tc.typ, GenerateInputs: tc.generate}
		cfg, err := a.SchedulerConfig(nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.MaxBatch != tc.batch || cfg.ScheduleAhead != tc.ahead || cfg.LatestDelta != tc.ahead {
			t.Errorf("%s generate_inputs=%v: max_batch %d, schedule_ahead %d, latest_delta %d; want %d and %d",
				tc.typ, tc.generate, cfg.MaxBatch, cfg.ScheduleAhead, cfg.LatestDelta, tc.batch, tc.ahead)
		}
	}
}

// TestGeneratedInputsOfImpossibleSizes: a worker's bogus input size gets
// no input rather than the controller's memory (2^50 bytes panicked).
func TestGeneratedInputsOfImpossibleSizes(t *testing.T) {
	gen := generatedInputs()
	if in := gen(1 << 50); in != nil {
		t.Errorf("%d bytes for an input of 2^50", len(in))
	}
	if in := gen(4000); len(in) == 0 {
		t.Error("no input of 4000 bytes")
	}
}

// TestMetricsRefused: -metrics needs host:port, a free port, and a
// controller that keeps telemetry; each refusal says why before the
// controller connects to anything.
func TestMetricsRefused(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	logs := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-metrics", "8002", "INFER5", "localhost:1"}, `bad value "8002" for metrics: address 8002: missing port in address`},
		{[]string{"-metrics", ":0", "DIRECT", "localhost:1"}, "-metrics: the DIRECT controller keeps no telemetry"},
		{[]string{"-log-dir", logs, "-metrics", busy.Addr().String(), "INFER5", "localhost:1"}, "cannot serve metrics: listen tcp " + busy.Addr().String() + ": bind: address already in use"},
	} {
		var stdout, stderr bytes.Buffer
		if rc := Main(tc.args, &stdout, &stderr); rc != 1 || !strings.Contains(stderr.String(), tc.want) || strings.Contains(stdout.String(), "Connecting") {
			t.Errorf("%q: exit %d, stderr %q, stdout %q", tc.args, rc, stderr.String(), stdout.String())
		}
	}
	// The busy port was found before the logs were opened.
	if files, _ := os.ReadDir(logs); len(files) != 0 {
		t.Errorf("the logs were opened: %v", files)
	}
}
