//go:build linux && cgo

package main

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/cuda/fakecuda"
)

// TestProbeOnFakeCUDA runs the whole probe, in a fresh process, against
// fakecuda, the CPU stand-in for the NVIDIA libraries: every check but the
// wall-clock ones (the fake computes on the CPU while the launching thread
// waits, and remaps host memory) must pass; vmm-remap may fail only on its
// time limit.
func TestProbeOnFakeCUDA(t *testing.T) {
	out, _ := fakecuda.RunTests(t, "^TestProbeChild$", "GPUPROBE_CHILD=1")
	t.Logf("\n%s", out)
	passed := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "PASS" || f[0] == "FAIL") {
			passed[f[1]] = f[0] == "PASS"
		}
	}
	for _, name := range []string{
		"libcuda", "libnvidia-ml", "libnvrtc", "libcublas", "libcudnn", "device", "nvml-device",
		"weights-cache", "h2d-pages", "cublas", "sgemm", "nvrtc-kernel", "cudnn",
		"conv-b1", "graph-b1", "replay-b1-gpu", "replay-b1-gate", "rebind-b1", "overlap-b1",
		"conv-b3", "graph-b3", "replay-b3-gpu", "replay-b3-gate", "rebind-b3",
	} {
		if !passed[name] {
			t.Errorf("%s did not pass", name)
		}
	}
	if !passed["vmm-remap"] && !strings.Contains(string(out), "FAIL vmm-remap        a remap takes longer than the pages' copy") {
		t.Error("vmm-remap failed other than on its time limit")
	}
	if strings.Contains(string(out), "panic") {
		t.Error("a check panicked")
	}
}

func TestProbeChild(t *testing.T) {
	if os.Getenv("GPUPROBE_CHILD") == "" {
		t.Skip("run by TestProbeOnFakeCUDA")
	}
	side = 4
	runtime.LockOSThread()
	r := &runner{}
	newProbe(options{batches: []int{1, 3}, layers: 2, replays: 20, reps: 3, spinCPU: -1}).run(r)
	t.Logf("%d PASS, %d FAIL", r.pass, r.fail)
}
