package e2e

import (
	"testing"
	"time"
)

// TestSeedRun follows the user's first-run document without GPUs:
// worker_dummy -n 1, a controller, and `client <addr> simple` with
// CLOCKWORK_MODEL_DIR set to the simulated zoo; the client must report
// non-zero throughput.
func TestSeedRun(t *testing.T) {
	for _, typ := range schedulerTypes {
		t.Run(typ, func(t *testing.T) {
			w, wport := startWorker(t, "-n", "1")
			c, cport := startController(t, typ, []string{wport})
			cl := start(t, []string{"CLOCKWORK_MODEL_DIR=" + zoo}, "client", "-summary-period", "1s", "localhost:"+cport, "simple")
			cl.waitFor("^Running workload `simple` on localhost:"+cport+"$", 5*time.Second)
			cl.waitFor(`^Client is sending inputs with requests\.  Set CLOCKWORK_DISABLE_INPUTS=1 to disable inputs\.$`, time.Second)
			cl.waitFor(`^Found 35 models in `, 5*time.Second)
			cl.waitFor(`^Clockwork initializing, retrying Controller initializing$`, 10*time.Second)
			cl.waitFor(nonZeroThroughput, 30*time.Second)
			c.waitFor(`^ \* Admitting inference requests$`, time.Second)
			w.waitFor(`^Received A0:LoadModelFromDisk model=0 \[0\.0, [0-9.]+\] .*/resnet50_v2/model$`, time.Second)
		})
	}
}

// nonZeroThroughput matches the client's summary line with a throughput
// above zero.
const nonZeroThroughput = `^throughput=([1-9][0-9]*\.[0-9]+|0\.[0-9]*[1-9][0-9]*) min=[0-9.]+ max=[0-9.]+ mean=[0-9.]+$`
