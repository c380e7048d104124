package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
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

// TestCUDAWorkerEndToEnd serves models from the real worker on the CUDA
// runtime, over fakecuda, behind INFER5, with a weights cache of three
// pages for four one-page model ids: requests round robin over them, so
// the controller keeps evicting one to load another, the pages each load
// gets vary, and graph sets are remapped to them (with the worker's
// eviction notices). Every output is checked against the reference.
func TestCUDAWorkerEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	dir := t.TempDir()
	if err := fakecuda.Build(dir); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "worker.cfg")
	if err := os.WriteFile(cfg, []byte(`WorkerConfig: { memory_settings: {
		weights_cache_size = 50331648L; io_pool_size = 67108864L;
		workspace_pool_size = 134217728L; host_io_pool_size = 67108864L; }; };
`), 0o644); err != nil {
		t.Fatal(err)
	}
	w := start(t, []string{cuda.EnvLibDir + "=" + dir, "CLOCKWORK_CUDA_VERBOSE=1"}, "worker", "-p", "0", "--device", "cuda", "-c", cfg)
	port := w.waitFor(`IO service thread listening on 0\.0\.0\.0:(\d+)`, 30*time.Second)[1]
	checkOutputs(t, port)
	loads := regexp.MustCompile(`cuda: LoadWeights gpu=0 model=\S+ pages=\[(\d+)\]`).FindAllStringSubmatch(w.Output(), -1)
	pages := map[string]bool{}
	for _, l := range loads {
		pages[l[1]] = true
	}
	if len(loads) < 6 || len(pages) < 2 {
		t.Errorf("%d loads into pages %v: want evictions and reloads into several pages", len(loads), pages)
	}
	t.Logf("%d LoadWeights into pages %v", len(loads), pages)
}
