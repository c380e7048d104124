package worker

import (
	"bytes"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/promtext"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// TestMetrics counts the results of a worker's actions as Server.count
// does: successes and failures by GPU, action and status (a GPU the worker
// lacks under "invalid"), exec and load time, and the pages, models and
// unusable GPUs the engine holds after them, and the bytes of input its
// queued Infers hold.
func TestMetrics(t *testing.T) {
	h, _ := loaded(t, 2, 8) // model 0 (2 pages) on two GPUs of 8 pages
	m := newMetrics(2)
	count := func(a workerapi.Action, gpu int) {
		t.Helper()
		id := h.submit(a)
		h.after(100 * ms)
		m.result(a.Type(), gpu, h.result(id))
		m.memory(h.e)
	}
	count(&workerapi.GetWorkerState{ID: h.id()}, -1)
	count(&workerapi.LoadWeights{ID: h.id(), ModelID: 0, GPU: 1, Earliest: uint64(h.now), Latest: workerapi.NoLatest}, 1)
	for range 3 {
		count(&workerapi.Infer{ID: h.id(), ModelID: 0, GPU: 1, BatchSize: 1, Earliest: uint64(h.now), Latest: workerapi.NoLatest}, 1)
	}
	count(&workerapi.Infer{ID: h.id(), ModelID: 0, GPU: 0, BatchSize: 1, Earliest: uint64(h.now), Latest: workerapi.NoLatest}, 0) // no weights
	count(&workerapi.Infer{ID: h.id(), ModelID: 0, GPU: 7, BatchSize: 1, Earliest: uint64(h.now), Latest: workerapi.NoLatest}, 7) // no GPU 7
	h.submit(&workerapi.Infer{ID: h.id(), ModelID: 0, GPU: 1, BatchSize: 1, Input: make([]byte, 100), Earliest: uint64(h.now + 3600_000*ms), Latest: workerapi.NoLatest})
	m.inputs(h.e) // held until its earliest, an hour on

	var b bytes.Buffer
	m.write(&b, 3)
	got := b.String()
	if err := promtext.Validate(got); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`clockwork_worker_actions_total{action="get_worker_state",status="0"} 1` + "\n",
		`clockwork_worker_gpu_actions_total{gpu="0",action="infer",status="82"} 1` + "\n",
		`clockwork_worker_gpu_actions_total{gpu="1",action="load_weights",status="0"} 1` + "\n" +
			`clockwork_worker_gpu_actions_total{gpu="1",action="infer",status="0"} 3` + "\n",
		`clockwork_worker_gpu_actions_total{gpu="invalid",action="infer",status="13"} 1` + "\n",
		// The model's exec takes 1 ms and its weights 10 ms (testZoo).
		`clockwork_worker_gpu_exec_seconds_total{gpu="0"} 0` + "\n" + `clockwork_worker_gpu_exec_seconds_total{gpu="1"} 0.003` + "\n",
		`clockwork_worker_gpu_load_seconds_total{gpu="1"} 0.01` + "\n",
		`clockwork_worker_weights_cache_pages{gpu="0",state="used"} 0` + "\n" +
			`clockwork_worker_weights_cache_pages{gpu="0",state="free"} 8` + "\n" +
			`clockwork_worker_weights_cache_pages{gpu="1",state="used"} 2` + "\n" +
			`clockwork_worker_weights_cache_pages{gpu="1",state="free"} 6` + "\n",
		`clockwork_worker_gpu_unusable{gpu="1"} 0` + "\n",
		"clockwork_worker_models 1\n",
		"clockwork_worker_queued_input_bytes 1124\n", // 100 and InferOverhead
		"clockwork_worker_connections 3\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing:\n%s\nin:\n%s", want, got)
		}
	}
}
