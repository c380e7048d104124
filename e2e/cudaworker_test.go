package e2e

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/cuda/fakecuda"
)

// TestCUDAWorkerStartup starts the real worker on the CUDA runtime, over
// fakecuda (the CPU stand-in for the NVIDIA libraries), and checks the
// original's start-up lines in their order: the CUDA versions first and
// once, then "Starting Clockwork Worker", the configuration, the
// executors, the listening line.
func TestCUDAWorkerStartup(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	dir := t.TempDir()
	if err := fakecuda.Build(dir); err != nil {
		t.Fatal(err)
	}
	w := start(t, []string{cuda.EnvLibDir + "=" + dir}, "worker", "-p", "0", "--device", "cuda")
	w.waitFor(`IO service thread listening on 0\.0\.0\.0:(\d+)`, 30*time.Second)
	out := w.Output()
	lines := strings.Split(out, "\n")
	if !regexp.MustCompile(`^Using CUDA Driver \d+ Runtime \d+$`).MatchString(lines[0]) || lines[1] != "Starting Clockwork Worker" {
		t.Errorf("start-up begins %q, want the CUDA versions, then Starting Clockwork Worker", lines[:min(2, len(lines))])
	}
	if n := strings.Count(out, "Using CUDA Driver"); n != 1 {
		t.Errorf("the CUDA versions printed %d times", n)
	}
	if !strings.Contains(out, "Runtime: cuda (1 × Fake GPU (fakecuda)") {
		t.Errorf("the worker does not run on the (fake) GPU:\n%s", out)
	}
}
