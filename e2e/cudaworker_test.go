//go:build linux && cgo

package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/cuda/fakecuda"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// fake is fakecuda built once for the test run (see startCUDAWorker).
var fake struct {
	once sync.Once
	dir  string
	err  error
}

// startCUDAWorker starts the real worker on the CUDA runtime over
// fakecuda, the CPU stand-in for the NVIDIA libraries, on a small GPU
// (three weights pages), with extra environment and arguments, and returns
// it and its port.
func startCUDAWorker(t *testing.T, env []string, args ...string) (*proc, string) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	fake.once.Do(func() {
		fake.dir = filepath.Join(root, "fakecuda")
		if fake.err = os.MkdirAll(fake.dir, 0o755); fake.err == nil {
			fake.err = fakecuda.Build(fake.dir)
		}
	})
	if fake.err != nil {
		t.Fatal(fake.err)
	}
	// A small GPU: three 16 MiB weights pages and small pools, which the
	// fake backs with host memory.
	cfg := filepath.Join(t.TempDir(), "worker.cfg")
	if err := os.WriteFile(cfg, []byte(`WorkerConfig: { memory_settings: {
		weights_cache_size = 50331648L; io_pool_size = 67108864L;
		workspace_pool_size = 134217728L; host_io_pool_size = 67108864L; }; };
`), 0o644); err != nil {
		t.Fatal(err)
	}
	w := start(t, append([]string{cuda.EnvLibDir + "=" + fake.dir}, env...), "worker",
		append([]string{"-p", "0", "--device", "cuda", "-c", cfg}, args...)...)
	// The worker zeroes each GPU's profiling weights area (1 GiB) and pools
	// at start-up. The fake wrote those zeros into host memory, about 10 s
	// for two GPUs on a 2-core machine alone, and a CI run went past 30 s
	// with other tests beside it; it drops the pages now (1.2-1.5 s alone),
	// and the wait stays long for a loaded machine.
	return w, w.waitFor(`IO service thread listening on 0\.0\.0\.0:(\d+)`, 90*time.Second)[1]
}

// TestCUDAWorkerStartup starts the real worker on the CUDA runtime, over
// fakecuda (the CPU stand-in for the NVIDIA libraries), and checks the
// original's start-up lines in their order: the CUDA versions first and
// once, then "Starting Clockwork Worker", the configuration, the
// executors, the listening line.
func TestCUDAWorkerStartup(t *testing.T) {
	w, _ := startCUDAWorker(t, nil)
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
	w, port := startCUDAWorker(t, []string{"CLOCKWORK_CUDA_VERBOSE=1"})
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

// TestCUDAWorkerProtocol drives the real worker on the CUDA runtime (over
// fakecuda) with the independent protocol implementation, as
// TestRealWorkerProtocol does the CPU one.
func TestCUDAWorkerProtocol(t *testing.T) {
	_, port := startCUDAWorker(t, nil)
	// Loading chooses convolutions by running them, which fakecuda does
	// on the CPU: seconds for batch sizes up to 16.
	checkProtocol(t, port, 2*time.Minute)
}

// TestCUDAWorkerTwoGPUs serves a model from both GPUs of a worker on two
// fake ones: the start-up lines name both, the worker's state lists
// both, and the model's weights loaded onto each give each GPU's Infers
// the reference's outputs; evicted from one, the other still serves.
// Where g++ is installed, the fake runs the runtime's kernels from their
// CUDA source (FAKECUDA_KERNELS=source), so that the worker serves with
// the code a GPU runs.
func TestCUDAWorkerTwoGPUs(t *testing.T) {
	env := []string{"FAKECUDA_DEVICES=2", "CLOCKWORK_CUDA_VERBOSE=1"}
	if _, err := exec.LookPath("g++"); err == nil {
		env = append(env, "FAKECUDA_KERNELS=source")
	}
	w, port := startCUDAWorker(t, env)
	out := w.Output()
	for _, line := range []string{"Runtime: cuda (2 × Fake GPU (fakecuda)", "GPU1-GPU-0 started", "GPU1-PCIe_H2D_Weights-0 started", "AsyncTaskChecker-0 started"} {
		if !strings.Contains(out, line) {
			t.Errorf("no %q in the start-up lines:\n%s", line, out)
		}
	}
	c := dialRaw(t, port)
	c.wait = time.Minute // loading chooses convolutions by running them, on the CPU
	c.send(6, encode(varint(1, 1)), nil)
	d, _ := c.expect(106, 0)
	if mem := decode(t, d[2][0].buf); len(mem[4]) != 2 {
		t.Fatalf("the worker reports %d GPUs, want 2", len(mem[4]))
	}
	path := filepath.Join(models, "tinycnn", "model")
	c.send(1, encode(varint(1, 2), varint(2, 0), bytesField(3, []byte(path)),
		fixed(4, 0), fixed(5, never), varint(6, 1), varint(7, 1), varint(8, 1e9)), nil)
	d, _ = c.expect(101, 0)
	in := make([]float32, d.u(3)/4)
	r := rand.New(rand.NewPCG(3, 3))
	for i := range in {
		in[i] = r.Float32()*2 - 1
	}
	want := runReference(t, readModel(t, path+".onnx"), in)
	id := 3
	infer := func(gpu, status int) {
		t.Helper()
		c.send(3, inferAction(id, 0, gpu, 1, never), floatBytes(in))
		id++
		if status != 0 {
			c.expect(100, status)
			return
		}
		_, body := c.expect(103, 0)
		checkOutput(t, fmt.Sprintf("GPU %d", gpu), bytesFloat(body), want)
	}
	for gpu := range 2 {
		c.send(2, weightsAction(id, 0, gpu, never), nil)
		id++
		c.expect(102, 0)
	}
	for range 3 {
		infer(1, 0)
		infer(0, 0)
	}
	c.send(4, evictAction(id, 0, 1), nil)
	id++
	c.expect(104, 0)
	infer(1, int(workerapi.ExecWeightsMissing))
	infer(0, 0)
	if !w.has(`cuda: LoadWeights gpu=1 `) {
		t.Errorf("no LoadWeights on GPU 1 in the worker's log:\n%s", w.Tail(20))
	}
}

// TestCUDAWorkerTwoGPUsBehindINFER5 serves the outputs check's four model
// ids (three pages of cache on each GPU) from a worker on two fake GPUs
// behind INFER5: the loads go to both GPUs (two each, unless a slow run
// makes INFER5 add copies), and every output is the reference's.
func TestCUDAWorkerTwoGPUsBehindINFER5(t *testing.T) {
	w, port := startCUDAWorker(t, []string{"FAKECUDA_DEVICES=2", "CLOCKWORK_CUDA_VERBOSE=1"})
	checkOutputs(t, port)
	loads := regexp.MustCompile(`cuda: LoadWeights gpu=(\d) `).FindAllStringSubmatch(w.Output(), -1)
	perGPU := map[string]int{}
	for _, l := range loads {
		perGPU[l[1]]++
	}
	if perGPU["0"] == 0 || perGPU["1"] == 0 {
		t.Errorf("LoadWeights per GPU %v, want loads on both", perGPU)
	}
	t.Logf("LoadWeights per GPU %v", perGPU)
}

// TestCUDAWorkerStopDuringLoad interrupts the CUDA worker while it loads a
// model (choosing convolutions takes seconds on fakecuda): it must wait
// for the load and exit cleanly, not free device memory under it.
func TestCUDAWorkerStopDuringLoad(t *testing.T) {
	w, port := startCUDAWorker(t, nil)
	c := dialRaw(t, port)
	// Batch size 1 only, so that the load ends within the grace that
	// Stop gives before it kills.
	c.send(1, encode(varint(1, 1), varint(2, 0), bytesField(3, []byte(filepath.Join(models, "tinycnn", "model"))),
		fixed(4, 0), fixed(5, never), varint(6, 1), varint(7, 1), varint(8, 1e9)), nil)
	w.waitFor(`Received A1:LoadModelFromDisk`, 10*time.Second)
	time.Sleep(200 * time.Millisecond)
	t0 := time.Now()
	w.Stop()
	t.Logf("stopped in %v", time.Since(t0).Round(time.Millisecond))
	out := w.Output()
	if strings.Contains(out, "SIGSEGV") || strings.Contains(out, "panic") || !strings.Contains(out, "Clockwork Worker Exiting") {
		t.Errorf("the worker did not exit cleanly:\n%s", w.Tail(30))
	}
	if code := w.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d", code)
	}
}
