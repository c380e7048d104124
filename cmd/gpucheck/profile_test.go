package main

import (
	"math"
	"os"
	"os/exec"
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
		rep := report(runs, nil, nil, nil, infer5Result{skipped: "-infer5 0"}, prof, &options{gpu: tc.gpu, inflight: 1})
		for _, want := range []string{tc.want, `(?m)^PyTorch figures: NVIDIA H200, torch 2\.11\.0\+cu130 \(.*profile\.json\)$`, `(?m)^resnet50 +1 \|.* 2\.000 +2\.100  1\.50 \|`} {
			if !regexp.MustCompile(want).MatchString(rep.text) {
				t.Errorf("-gpu %q: the report lacks %q:\n%s", tc.gpu, want, rep.text)
			}
		}
	}
}

// TestTorchProfileScript runs scripts/torch-profile.py, which GPU hosts
// run where the GPU is not the repository profile's, against a stand-in
// for torch (testdata/faketorch): its output must be a profile that
// readProfile reads, with what it measured, and its comparison lines must
// name each model. The torch calls themselves run only on GPU hosts.
func TestTorchProfileScript(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	out := filepath.Join(t.TempDir(), "profile.json")
	cmd := exec.Command(py, "../../scripts/torch-profile.py", "--out", out, "--models", "resnet50,mobilenet_v2,nosuch",
		"--batches", "1,16", "--reps", "50", "--compare", "../../internal/model/profiles/zoo_profile_h200.json")
	cmd.Env = append(os.Environ(), "PYTHONPATH=testdata/faketorch", "PYTHONDONTWRITEBYTECODE=1")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	for _, want := range []string{
		`(?m)^PyTorch fake on Fake GPU: CUDA-graph replays, fp32, TF32 off, cudnn\.benchmark False, 50 replays per batch size$`,
		`(?m)^  resnet50 +p50/p99\.9 ms: b1 1\.0\d\d/1\.0\d\d  b16 1\.0\d\d/1\.0\d\d  \(`,
		`(?m)^  nosuch: ValueError: torchvision has no model 'nosuch'$`,
		`(?m)^against \.\./\.\./internal/model/profiles/zoo_profile_h200\.json \(NVIDIA H200, torch 2\.11\.0\+cu130\): p50 here / p50 there$`,
		`(?m)^  mobilenet_v2 +b1 \d\.\d{3}  b16 \d\.\d{3}$`,
	} {
		if !regexp.MustCompile(want).Match(b) {
			t.Errorf("the output lacks %q:\n%s", want, b)
		}
	}
	prof, err := readProfile(out)
	if err != nil {
		t.Fatal(err)
	}
	if prof.device != "Fake GPU" || prof.torch != "fake" || len(prof.exec) != 2 {
		t.Fatalf("profile of %q, torch %q, models %v", prof.device, prof.torch, prof.exec)
	}
	for _, m := range []string{"resnet50", "mobilenet_v2"} {
		for _, batch := range []int{1, 16} {
			f, ok := prof.exec[m][batch]
			if !ok || f.p50 < 1 || f.p50 > f.p999 || f.p999 > 1.01 {
				t.Errorf("%s b%d: %+v", m, batch, f)
			}
		}
	}
	if got := prof.otherGPU("NVIDIA H100 80GB HBM3"); got != "the PyTorch figures are Fake GPU's; this GPU is NVIDIA H100 80GB HBM3" {
		t.Errorf("otherGPU: %q", got)
	}
}
