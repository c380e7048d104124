package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestAzureOnGeneratedTrace replays a generated Azure Functions trace
// (small memory_load_factor) and expects non-zero throughput.
func TestAzureOnGeneratedTrace(t *testing.T) {
	traces := t.TempDir()
	gen := exec.Command(filepath.Join(bin, "client"), "gen-trace", "-dir", traces, "-functions", "400", "-seed", "3")
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("gen-trace: %v\n%s", err, out)
	}
	_, wport := startWorker(t, "-n", "2")
	_, cport := startController(t, "INFER5", []string{wport})
	cl := start(t, []string{"CLOCKWORK_MODEL_DIR=" + zoo, "AZURE_TRACE_DIR=" + traces, "CLOCKWORK_DISABLE_INPUTS=1"},
		"client", "-summary-period", "1s", "-duration", "25s", "localhost:"+cport, "azure", "8", "1", "1.0", "1", "60", "1", "0")
	cl.waitFor(`^Running azure2 workload with num_workers=8 `, 10*time.Second)
	cl.waitFor(`^Replaying trace 1 at scale_factor=`, 10*time.Second)
	cl.waitFor(`^Loading resnet50_v2 x3$`, 10*time.Second)
	cl.waitFor(nonZeroThroughput, 30*time.Second)
}

// TestSLOExperimentSteps runs slo-exp-1, whose SLO factor doubles every
// second from 1 until it passes 4, and which then ends by itself.
func TestSLOExperimentSteps(t *testing.T) {
	_, wport := startWorker(t, "-n", "1")
	c, cport := startController(t, "INFER5", []string{wport})
	cl := start(t, []string{"CLOCKWORK_MODEL_DIR=" + zoo, "CLOCKWORK_DISABLE_INPUTS=1"},
		"client", "-summary-period", "1s", "localhost:"+cport, "slo-exp-1", "resnet50_v2", "2", "poisson", "100", "1", "4", "2", "mul", "1")
	cl.waitFor(`^Updating slo_factor to 2$`, 20*time.Second)
	cl.waitFor(`^Updating slo_factor to 4$`, 5*time.Second)
	cl.waitFor(`^Terminating engine$`, 5*time.Second)
	if err := waitExit(cl, 10*time.Second); err != nil {
		t.Fatalf("client did not end by itself: %v", err)
	}
	c.waitFor(`^Client throughput=[0-9.]+ success=`, 15*time.Second)
}

// waitExit waits for p to exit and returns its error status.
func waitExit(p *proc, timeout time.Duration) error {
	select {
	case <-p.Done():
		if !p.Cmd.ProcessState.Success() {
			return &exec.ExitError{ProcessState: p.Cmd.ProcessState}
		}
		return nil
	case <-time.After(timeout):
		return os.ErrDeadlineExceeded
	}
}
