package main

import (
	"bytes"
	"context"
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

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage"},
		{[]string{"fig6"}, 2, "unknown command"},
		{[]string{"fig5", "-bin", "/nonexistent"}, 1, "run make"},
		{[]string{"fig5", "-schedulers", "ECHO"}, 2, "not INFER5 or BASELINE"},
		{[]string{"sim", "-slos", "0s", "fig5"}, 2, "not a positive duration"},
		{[]string{"sim", "nosuchworkload"}, 1, "unknown workload"},
		{[]string{"sim", "-duration", "5s", "fig5"}, 2, "must exceed -warmup"},
	} {
		var out, errs bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errs)
		if code != tc.code || !strings.Contains(errs.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errs.String(), tc.code, tc.want)
		}
	}
}
