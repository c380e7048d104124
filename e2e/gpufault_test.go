//go:build linux && cgo

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/client"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// TestCUDAWorkerGPUFault serves two model ids from a CUDA worker on two
// fake GPUs behind INFER5, then breaks GPU 1 (fakecuda's FAKECUDA_FAULT,
// as an illegal address would): the Infer that meets the fault and the
// GPU's later actions fail with status 14, the worker says so once and
// serves on from GPU 0, the controller takes GPU 1 out of service, and
// every request after that succeeds. Then the worker restarts, as a
// broken GPU needs: the controller reconnects, and both GPUs are back.
func TestCUDAWorkerGPUFault(t *testing.T) {
	fault := filepath.Join(t.TempDir(), "fault")
	w, wport := startCUDAWorker(t, []string{"FAKECUDA_DEVICES=2", "FAKECUDA_FAULT=1:" + fault, "CLOCKWORK_CUDA_VERBOSE=1"})
	// With the demand guard each model stays on a GPU of its own, so one
	// of them is served from GPU 1 (without it, INFER5 may serve both from
	// GPU 0 and no request meets the fault).
	c, cport := startController(t, "INFER5", []string{wport}, "-default-slo", "10s", "-demand-guard")
	ms := loadAndServe(t, cport, filepath.Join(models, "mlp", "model"), 2)
	if !w.has(`cuda: LoadWeights gpu=1 `) {
		t.Fatalf("GPU 1 loaded nothing:\n%s", w.Tail(20))
	}

	if err := os.WriteFile(fault, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Requests for both models until one meets the fault on GPU 1.
	input := make([]byte, ms[0].InputSize())
	met := false
	for i := 0; i < 20 && !met; i++ {
		for _, m := range ms {
			if _, err := m.Infer(input); client.StatusOf(err) == workerapi.ErrGPUUnusable {
				met = true
			} else if err != nil {
				t.Logf("request %d: %v", i, err)
			}
		}
	}
	if !met {
		t.Fatal("no request met GPU 1's fault")
	}
	w.waitFor(`^cuda: GPU 1 is unusable after .*CUDA_ERROR_ILLEGAL_ADDRESS.*; every later action on it fails with status 14$`, time.Second)
	c.waitFor(`^W0-GPU1 is down \(GPU 1 is unusable after .*\(model copies lost: [12]\)$`, 5*time.Second)
	serve(t, ms, 10)
	if n := strings.Count(w.Output(), "is unusable after"); n != 1 {
		t.Errorf("the worker said %d times that GPU 1 is unusable, want once", n)
	}

	w.Stop()
	startCUDAWorker(t, []string{"FAKECUDA_DEVICES=2"}, "-p", wport)
	c.waitFor(`^Worker 0 \(localhost:`+wport+`\) rejoined with 2 GPUs$`, 60*time.Second)
	c.waitFor(`^W0-GPU1 is back in service `, time.Second)
	serve(t, ms, 10)
}
