package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWorkerLeftOutAtStartup: a worker whose pages are another size than
// the first worker's is left out of the startup (the original ended), the
// cluster serves without it, and it is dialled again as a lost worker is:
// refused while it keeps its pages (and dialled again later each time),
// rejoining once a worker with the cluster's pages answers on its
// address, with the cluster's models.
func TestWorkerLeftOutAtStartup(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "half-pages.cfg")
	if err := os.WriteFile(cfg, []byte("WorkerConfig: { memory_settings: { weights_cache_page_size = 8388608L; }; };"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, p0 := startWorker(t, "-n", "1")
	w1 := start(t, []string{"CLOCKWORK_CONFIG_FILE=" + cfg}, "worker_dummy", "-p", "0", "-n", "1")
	p1 := w1.waitFor(`IO service thread listening on 0\.0\.0\.0:(\d+)`, 10*time.Second)[1]
	c, cport := startController(t, "INFER5", []string{p0, p1})
	c.waitFor(`^\(Startup\) Leaving out worker 1: its pages are 8388608 bytes, worker 0's 16777216; it may rejoin once startup is complete$`, 10*time.Second)
	ms := loadAndServe(t, cport, filepath.Join(zoo, "resnet50_v2", "model"), 2)
	c.waitFor(`^Worker 1 \(localhost:`+p1+`\) cannot rejoin: page size 8388608, not the cluster's 16777216$`, 10*time.Second)
	c.waitFor(`^Reconnecting to worker 1 \(localhost:`+p1+`\) in 2s \(it could not rejoin once\), then every 1s$`, 5*time.Second)

	w1.Stop()
	again := start(t, nil, "worker_dummy", "-p", p1, "-n", "1")
	again.waitFor(`IO service thread listening on 0\.0\.0\.0:`+p1, 10*time.Second)
	c.waitFor(`^Worker 1 \(localhost:`+p1+`\) rejoined with 1 GPUs$`, 10*time.Second)
	again.waitFor(`^Received A-\d+:LoadModelFromDisk model=0 .*/resnet50_v2/model$`, time.Second)
	serve(t, ms, 10)
}
