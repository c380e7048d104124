package controllercmd

import (
	"bytes"
	"strings"
	"testing"
)

// TestOtherTypes: the original's controller types that are not
// implemented here are refused before anything starts, saying what they
// were.
func TestOtherTypes(t *testing.T) {
	for typ, want := range map[string]string{
		"smart":  "SMART is not implemented here: it is a scheduler the fork added",
		"DIRECT": "DIRECT is not implemented here: it is one of the original's test controllers",
		"STRESS": "STRESS is not implemented here: it is one of the original's test controllers",
		"NOPE":   "",
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
