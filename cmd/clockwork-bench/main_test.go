package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestSimFig5(t *testing.T) {
	var out, errs bytes.Buffer
	args := []string{"sim", "-duration", "3s", "-warmup", "1s", "-slos", "100ms", "fig5"}
	if code := run(context.Background(), args, &out, &errs); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
	}
	for _, want := range []string{"| 100 | INFER5 |", "| 100 | BASELINE |", "Target: INFER5 at 100 ms SLO", ": MET ("} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestSimWorkload(t *testing.T) {
	var out, errs bytes.Buffer
	args := []string{"sim", "-duration", "2s", "-warmup", "500ms", "-workers", "2", "-gpus", "2", "-scheduler", "baseline", "-default-slo", "50ms",
		"poisson-open-loop", "8", "400"}
	if code := run(context.Background(), args, &out, &errs); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
	}
	if !strings.Contains(out.String(), "| 50 | BASELINE |") || strings.Contains(out.String(), "Target") {
		t.Errorf("output:\n%s", out.String())
	}
}

// TestSimLosesAWorker: -lose loses worker 1 at 4 s and brings it back
// at 6 s; every request is answered, and the run reports it.
func TestSimLosesAWorker(t *testing.T) {
	var out, errs bytes.Buffer
	args := []string{"sim", "-v", "-duration", "8s", "-warmup", "1s", "-workers", "2", "-lose", "1@4s:6s", "simple"}
	if code := run(context.Background(), args, &out, &errs); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
	}
	for _, want := range []string{"Lost connection to worker 1", "Worker 1 rejoined with 1 GPUs"} {
		if !strings.Contains(errs.String(), want) {
			t.Errorf("console lacks %q", want)
		}
	}
	if !strings.Contains(out.String(), "| 100 | INFER5 |") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage"},
		{[]string{"fig6"}, 2, "unknown command"},
		{[]string{"fig5", "-bin", "/nonexistent"}, 1, "run make"},
		{[]string{"fig5", "-schedulers", "ECHO"}, 2, "not INFER5, INFER4 or BASELINE"},
		{[]string{"sim", "-slos", "0s", "fig5"}, 2, "not a positive duration"},
		{[]string{"sim", "nosuchworkload"}, 1, "unknown workload"},
		{[]string{"sim", "-duration", "5s", "fig5"}, 2, "must exceed -warmup"},
		{[]string{"sim", "-lose", "1@0s", "simple"}, 2, "want a positive duration"},
		{[]string{"sim", "-lose", "1@5s:2s", "simple"}, 2, "want a duration after 5s"},
		{[]string{"sim", "-lose", "x@5s", "simple"}, 2, "want W@T or W@T:R"},
		{[]string{"sim", "-lose", "3@5s", "-duration", "12s", "simple"}, 1, "lost worker 3 of 1"},
		{[]string{"ops"}, 2, "Usage: clockwork-bench ops"},
		{[]string{"ops", "tinycnn", "mlp"}, 2, "one model, not 2"},
		{[]string{"ops", "-rounds", "0", "tinycnn"}, 2, "must be positive"},
		{[]string{"ops", "/nonexistent/model"}, 1, "no model file /nonexistent/model.onnx"},
	} {
		var out, errs bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errs)
		if code != tc.code || !strings.Contains(errs.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errs.String(), tc.code, tc.want)
		}
	}
}

// TestSlowExecsAndReplay: a simulated run with slow execs reports its
// prediction error, and replay reads its action log back: as logged, and
// with the original's estimate the same figures.
func TestSlowExecsAndReplay(t *testing.T) {
	logs := t.TempDir()
	var out, errs bytes.Buffer
	args := []string{"sim", "-duration", "5s", "-warmup", "1s", "-slow-execs", "1%:4%-10%", "-logs", logs, "comparison_experiment2", "3", "4"}
	if code := run(context.Background(), args, &out, &errs); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errs.String())
	}
	if !strings.Contains(errs.String(), "exec predictions of ") || !strings.Contains(errs.String(), "p99 ") {
		t.Errorf("no prediction line:\n%s", errs.String())
	}
	out.Reset()
	errs.Reset()
	log := filepath.Join(logs, "INFER5-100ms", "clockwork_action_log.tsv")
	if code := run(context.Background(), []string{"replay", "-estimates", "10:0.99,20:0.9", log}, &out, &errs); code != 0 {
		t.Fatalf("replay: exit %d\n%s%s", code, out.String(), errs.String())
	}
	lines := strings.Split(out.String(), "\n")
	// The run used the default estimate, the last 20 at 0.9: replayed, it
	// gives the run's predictions back.
	var logged, own string
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "| as logged |"); ok {
			logged = rest
		}
		if rest, ok := strings.CutPrefix(l, "| last 20 at 0.9 |"); ok {
			own = rest
		}
	}
	if logged == "" || logged != own || !strings.Contains(out.String(), "| last 10 at 0.99 |") {
		t.Errorf("replay output:\n%s", out.String())
	}
	for _, bad := range [][]string{{"replay"}, {"replay", "-estimates", "0:0.9", log}, {"replay", "-estimates", "10:1.5", log}, {"replay", filepath.Join(logs, "none.tsv")}} {
		if code := run(context.Background(), bad, &out, &errs); code == 0 {
			t.Errorf("%q: exit 0", bad)
		}
	}
}
