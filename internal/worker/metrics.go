package worker

import (
	"cmp"
	"io"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/clockwork-go/clockwork/internal/promtext"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// metrics counts what the worker answered and what it holds, for
// scraping (Options.Metrics). The engine's goroutine updates it as results
// go out; a scrape renders a copy taken under the lock, so a slow scraper
// never holds the engine up.
type metrics struct {
	mu      sync.Mutex
	results map[resultKey]uint64
	gpus    []gpuMetrics // per GPU of the worker
	models  int          // loaded from disk
	// queuedInput is the engine's (Engine.queuedInput), taken by the
	// engine's goroutine after each round (inputs).
	queuedInput atomic.Uint64
}

// resultKey counts results; gpu is -1 for actions on no GPU, and len(gpus)
// for those that named a GPU the worker lacks (so that a peer cannot make
// a series per id).
type resultKey struct {
	action workerapi.ActionType
	gpu    int
	status int32
}

type gpuMetrics struct {
	execNs, loadNs   int64
	pages, freePages int
	unusable         bool
}

// actionLabels are the action types as the controller's metrics name
// them.
var actionLabels = [...]string{
	workerapi.LoadModelFromDiskType: "load_model_from_disk", workerapi.LoadWeightsType: "load_weights", workerapi.InferType: "infer",
	workerapi.EvictWeightsType: "evict_weights", workerapi.ClearCacheType: "clear_cache", workerapi.GetWorkerStateType: "get_worker_state",
}

func actionLabel(t workerapi.ActionType) string {
	if t >= 0 && int(t) < len(actionLabels) {
		return actionLabels[t]
	}
	return strconv.Itoa(int(t))
}

func newMetrics(gpus int) *metrics {
	return &metrics{results: make(map[resultKey]uint64), gpus: make([]gpuMetrics, gpus)}
}

// result counts r, the result of an action of type typ on gpu (-1: none).
func (m *metrics) result(typ workerapi.ActionType, gpu int, r workerapi.Result) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gpu < -1 || gpu >= len(m.gpus) {
		gpu = len(m.gpus)
	}
	m.results[resultKey{typ, gpu, r.Status()}]++
	switch r := r.(type) {
	case *workerapi.InferResult:
		if gpu >= 0 && gpu < len(m.gpus) {
			m.gpus[gpu].execNs += int64(r.Exec.Duration)
		}
	case *workerapi.LoadWeightsResult:
		if gpu >= 0 && gpu < len(m.gpus) {
			m.gpus[gpu].loadNs += int64(r.Timing.Duration)
		}
	}
}

// memory takes the engine's pages and models as they are now.
func (m *metrics) memory(e *Engine) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, g := range e.gpus {
		m.gpus[i].pages, m.gpus[i].freePages, m.gpus[i].unusable = g.cache.total, g.cache.freePages(), g.unusable
	}
	m.models = len(e.models)
}

// inputs takes the bytes of input the engine holds now.
func (m *metrics) inputs(e *Engine) { m.queuedInput.Store(e.queuedInput) }

// write renders a copy of m, and the connections the server has, in
// Prometheus's text format.
func (m *metrics) write(w io.Writer, connections int) {
	m.mu.Lock()
	results, gpus, models := maps.Clone(m.results), slices.Clone(m.gpus), m.models
	m.mu.Unlock()

	e := promtext.NewWriter(w)
	gpuLabel := func(g int) string {
		if g == len(gpus) {
			return "invalid"
		}
		return strconv.Itoa(g)
	}
	keys := slices.SortedFunc(maps.Keys(results), func(a, b resultKey) int {
		return cmp.Or(cmp.Compare(a.gpu, b.gpu), cmp.Compare(a.action, b.action), cmp.Compare(a.status, b.status))
	})
	e.Family("clockwork_worker_actions_total", "counter", "Actions on no GPU finished, by action and status (0: success), their results sent or, on a broken connection, dropped.")
	for _, k := range keys {
		if k.gpu < 0 {
			e.Sample("clockwork_worker_actions_total", []string{"action", actionLabel(k.action), "status", strconv.Itoa(int(k.status))}, float64(results[k]))
		}
	}
	e.Family("clockwork_worker_gpu_actions_total", "counter", "Actions on a GPU finished, by GPU (invalid: one the worker lacks), action and status (0: success), their results sent or, on a broken connection, dropped.")
	for _, k := range keys {
		if k.gpu >= 0 {
			e.Sample("clockwork_worker_gpu_actions_total", []string{"gpu", gpuLabel(k.gpu), "action", actionLabel(k.action), "status", strconv.Itoa(int(k.status))}, float64(results[k]))
		}
	}
	perGPU := func(name, typ, help string, v func(g *gpuMetrics) float64) {
		e.Family(name, typ, help)
		for i := range gpus {
			e.Sample(name, []string{"gpu", strconv.Itoa(i)}, v(&gpus[i]))
		}
	}
	perGPU("clockwork_worker_gpu_exec_seconds_total", "counter", "Exec time of successful Infers, as measured on the GPU; its rate is the GPU's utilization.",
		func(g *gpuMetrics) float64 { return float64(g.execNs) / 1e9 })
	perGPU("clockwork_worker_gpu_load_seconds_total", "counter", "Transfer time of successful LoadWeights.",
		func(g *gpuMetrics) float64 { return float64(g.loadNs) / 1e9 })
	e.Family("clockwork_worker_weights_cache_pages", "gauge", "Pages of each GPU's weights cache, used or free, as of the last result other than an Infer's.")
	for i, g := range gpus {
		e.Sample("clockwork_worker_weights_cache_pages", []string{"gpu", strconv.Itoa(i), "state", "used"}, float64(g.pages-g.freePages))
		e.Sample("clockwork_worker_weights_cache_pages", []string{"gpu", strconv.Itoa(i), "state", "free"}, float64(g.freePages))
	}
	perGPU("clockwork_worker_gpu_unusable", "gauge", "1 once an action on the GPU failed with status 14 (the GPU needs the worker restarted), else 0.",
		func(g *gpuMetrics) float64 {
			if g.unusable {
				return 1
			}
			return 0
		})
	e.Family("clockwork_worker_models", "gauge", "Models loaded from disk (each copy counts).")
	e.Sample("clockwork_worker_models", nil, float64(models))
	e.Family("clockwork_worker_queued_input_bytes", "gauge", "Bytes of input held by the Infers not yet answered, each counting "+strconv.Itoa(InferOverhead)+" more (--max-queued-input bounds them).")
	e.Sample("clockwork_worker_queued_input_bytes", nil, float64(m.queuedInput.Load()))
	e.Family("clockwork_worker_connections", "gauge", "Controller connections open.")
	e.Sample("clockwork_worker_connections", nil, float64(connections))
	e.Flush()
}
