package main

import (
	"math"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

func TestGPUName(t *testing.T) {
	for rt, want := range map[string]string{
		"cuda (1 × NVIDIA H200; CUDA driver 13.0, NVRTC 13.0, cuDNN 9.14.0; TF32 off; waits spinning; exec gated)": "NVIDIA H200",
		"cuda (2 × NVIDIA H100 80GB HBM3, 1 × NVIDIA A100; CUDA driver 13.0)":                                      "NVIDIA H100 80GB HBM3",
		"cuda (1 × Fake GPU (fakecuda); CUDA driver 13.0)":                                                         "Fake GPU (fakecuda)",
		"cuda (1 × NVIDIA H200)": "NVIDIA H200",
		"cpu (2 cores)":          "",
		"cuda (1 × ":             "",
	} {
		if got := gpuName(rt); got != want {
			t.Errorf("gpuName(%q) = %q, want %q", rt, got, want)
		}
	}
}

// TestProfileOfAnotherGPU: exec p50 is judged against PyTorch's figures
// only where they were measured on the GPU being checked.
func TestProfileOfAnotherGPU(t *testing.T) {
	path := filepath.Join(t.TempDir(), "profile.json")
	const js = `{"device": "NVIDIA H200", "torch": "2.11.0+cu130", "models": [
		{"model": "resnet50", "exec": {"1": {"p50": 2.0, "p999": 2.1}, "x": {"p50": 1}}}]}`
	if err := os.WriteFile(path, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	prof, err := readProfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := prof.exec["resnet50"]; len(got) != 1 || got[1] != (torchFigures{2.0, 2.1}) {
		t.Fatalf("read %v", got)
	}
	// The worker's p50 is 3 ms, 1.5 × PyTorch's.
	runs := []*modelRun{{
		name: "resnet50", cpuErr: math.NaN(), info: &workerapi.LoadModelFromDiskResult{BatchSizes: []uint32{1}},
		rows: []*row{{batch: 1, exec: dist{n: 1000, p50: 3, p99: 3, p999: 3, max: 3}, e2e: dist{n: 1000, p50: 3.2, p99: 3.3, p999: 3.4, max: 3.5}}},
	}}
	for _, tc := range []struct{ gpu, want string }{
		{"NVIDIA H200", `(?m)^FAIL exec p50 <= 1\.10 x PyTorch p50 +1 of 1: resnet50 b1 1\.50$`},
		{"", `(?m)^FAIL exec p50 <= 1\.10 x PyTorch p50 +1 of 1: resnet50 b1 1\.50$`},
		{"NVIDIA H100 80GB HBM3", `(?m)^SKIP exec p50 <= 1\.10 x PyTorch p50 +the PyTorch figures are NVIDIA H200's; this GPU is NVIDIA H100 80GB HBM3$`},
	} {
		rep := report(runs, nil, nil, infer5Result{skipped: "-infer5 0"}, prof, &options{gpu: tc.gpu, inflight: 1})
		for _, want := range []string{tc.want, `(?m)^PyTorch figures: NVIDIA H200, torch 2\.11\.0\+cu130 \(.*profile\.json\)$`, `(?m)^resnet50 +1 \|.* 2\.000 +2\.100  1\.50 \|`} {
			if !regexp.MustCompile(want).MatchString(rep.text) {
				t.Errorf("-gpu %q: the report lacks %q:\n%s", tc.gpu, want, rep.text)
			}
		}
	}
}
