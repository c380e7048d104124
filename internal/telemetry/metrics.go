package telemetry

import (
	"cmp"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"

	"github.com/clockwork-go/clockwork/internal/promtext"
)

// Metrics counts the controller's answered requests and completed actions
// since it started, for scraping in Prometheus's text format (the
// original had nothing of the kind; NVIDIA Triton serves the like). It
// reads the same records as the logs and the console summaries, so its
// figures agree with theirs: a request's SLO is met as the request log's
// deadline_met column says, an Infer's prediction error is
// |expected − worker| / worker exec duration, and goodput is the action
// log's goodput column.
//
// Requests for a model id no scheduler knows are counted apart, without
// a series of their own: a client sweeping ids would otherwise grow the
// metrics without bound.
//
// Safe for concurrent use: the controller's loop adds records while an
// HTTP handler writes them out, from a copy taken under the lock, so
// that a slow scraper never holds the loop up.
type Metrics struct {
	mu       sync.Mutex
	unknown  uint64 // requests for unknown model ids
	requests map[requestKey]uint64
	models   map[int]*modelMetrics
	actions  map[actionKey]uint64
	gpus     map[gpuKey]*gpuMetrics
	predErr  promtext.Histogram
	net      NetworkTotals
}

// NetworkTotals is the traffic between the controller and its workers so
// far.
type NetworkTotals struct {
	BytesSent, MsgsSent, BytesRecv, MsgsRecv uint64
}

type requestKey struct {
	model  int
	status int32 // statusKey's
}

// statusKey is status as a label keeps it: the protocols' codes are below
// 100, and any other (a worker's own, passed on to its requests) counts as
// otherStatus, labelled "other", so that a worker answering with ever new
// codes does not make a series of each.
func statusKey(status int32) int32 {
	if status < 0 || status > 99 {
		return otherStatus
	}
	return status
}

const otherStatus = -1

func statusLabel(status int32) string {
	if status == otherStatus {
		return "other"
	}
	return itoa(int(status))
}

type modelMetrics struct {
	sloMet, coldStarts uint64
	latency            promtext.Histogram // its Sum unused: latencyNs is exact
	latencyNs          int64
}

type actionKey struct {
	worker, gpu, actionType int
	status                  int32 // statusKey's
}

type gpuKey struct{ worker, gpu int }

type gpuMetrics struct {
	execNs, loadNs, goodputNs int64
	items                     uint64
}

// Bucket bounds: latencies in seconds, from a millisecond to the 10 s a
// request may wait at most; prediction errors as fractions.
var (
	latencyBounds = []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10}
	errorBounds   = []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1}
)

// NewMetrics returns empty metrics.
func NewMetrics() *Metrics {
	return &Metrics{
		requests: make(map[requestKey]uint64),
		models:   make(map[int]*modelMetrics),
		actions:  make(map[actionKey]uint64),
		gpus:     make(map[gpuKey]*gpuMetrics),
	}
}

// AddRequest counts one answered request.
func (m *Metrics) AddRequest(r *RequestRecord) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.UnknownModel {
		m.unknown++
		return
	}
	m.requests[requestKey{r.ModelID, statusKey(r.Result)}]++
	mm := m.models[r.ModelID]
	if mm == nil {
		mm = &modelMetrics{}
		m.models[r.ModelID] = mm
	}
	if DeadlineMet(r) {
		mm.sloMet++
	}
	if ColdStart(r) {
		mm.coldStarts++
	}
	l := max(r.Departure-r.Arrival, 0)
	mm.latency.Observe(latencyBounds, float64(l)/1e9)
	mm.latencyNs += l
}

// AddAction counts one completed action.
func (m *Metrics) AddAction(r *ActionRecord) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.actions[actionKey{r.Worker, r.GPU, r.ActionType, statusKey(r.Status)}]++
	if r.Status != 0 {
		return
	}
	k := gpuKey{r.Worker, r.GPU}
	g := m.gpus[k]
	if g == nil {
		g = &gpuMetrics{}
		m.gpus[k] = g
	}
	switch r.ActionType {
	case ActionInfer:
		g.execNs += r.WorkerDuration
		g.goodputNs += Goodput(r)
		g.items += uint64(max(r.BatchSize, 0))
		if r.WorkerDuration > 0 && r.ExpectedDuration > 0 {
			m.predErr.Observe(errorBounds, math.Abs(float64(r.ExpectedDuration-r.WorkerDuration))/float64(r.WorkerDuration))
		}
	case ActionLoadWeights:
		g.loadNs += r.WorkerDuration
	}
}

// SetNetwork records the traffic with the workers so far.
func (m *Metrics) SetNetwork(n NetworkTotals) {
	m.mu.Lock()
	m.net = n
	m.mu.Unlock()
}

// snapshot is a copy of m, taken under its lock.
func (m *Metrics) snapshot() *Metrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := &Metrics{
		unknown: m.unknown, requests: maps.Clone(m.requests), models: make(map[int]*modelMetrics, len(m.models)),
		actions: maps.Clone(m.actions), gpus: make(map[gpuKey]*gpuMetrics, len(m.gpus)), predErr: m.predErr.Clone(), net: m.net,
	}
	for id, mm := range m.models {
		cm := *mm
		cm.latency = mm.latency.Clone()
		c.models[id] = &cm
	}
	for k, g := range m.gpus {
		cg := *g
		c.gpus[k] = &cg
	}
	return c
}

// WriteTo writes the metrics in Prometheus's text exposition format
// (version 0.0.4), every series in a fixed order.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	m = m.snapshot()
	e := promtext.NewWriter(w)

	e.Family("clockwork_requests_total", "counter", "Inference requests answered, by model and status (0: success).")
	for _, k := range slices.SortedFunc(maps.Keys(m.requests), func(a, b requestKey) int {
		return cmp.Or(cmp.Compare(a.model, b.model), cmp.Compare(a.status, b.status))
	}) {
		e.Sample("clockwork_requests_total", []string{"model", itoa(k.model), "status", statusLabel(k.status)}, float64(m.requests[k]))
	}
	e.Family("clockwork_requests_unknown_model_total", "counter", "Requests for a model id the scheduler does not know (status 1), not counted above.")
	e.Sample("clockwork_requests_unknown_model_total", nil, float64(m.unknown))
	models := slices.Sorted(maps.Keys(m.models))
	e.Family("clockwork_requests_slo_met_total", "counter", "Requests answered successfully within their SLO (the request log's deadline_met), by model.")
	for _, id := range models {
		e.Sample("clockwork_requests_slo_met_total", []string{"model", itoa(id)}, float64(m.models[id].sloMet))
	}
	e.Family("clockwork_requests_cold_start_total", "counter", "Requests that arrived with no copy of their model loaded and left with one (the request log's is_coldstart), by model.")
	for _, id := range models {
		e.Sample("clockwork_requests_cold_start_total", []string{"model", itoa(id)}, float64(m.models[id].coldStarts))
	}
	e.Family("clockwork_request_latency_seconds", "histogram", "Time from a request's admission to its answer, by model.")
	for _, id := range models {
		h := m.models[id].latency
		h.Sum = float64(m.models[id].latencyNs) / 1e9
		e.Histogram("clockwork_request_latency_seconds", []string{"model", itoa(id)}, latencyBounds, &h)
	}

	e.Family("clockwork_actions_total", "counter", "Actions completed by the workers, by worker, GPU, action and status (0: success).")
	for _, k := range slices.SortedFunc(maps.Keys(m.actions), func(a, b actionKey) int {
		return cmp.Or(cmp.Compare(a.worker, b.worker), cmp.Compare(a.gpu, b.gpu), cmp.Compare(a.actionType, b.actionType), cmp.Compare(a.status, b.status))
	}) {
		e.Sample("clockwork_actions_total", []string{"worker", itoa(k.worker), "gpu", itoa(k.gpu), "action", actionName(k.actionType), "status", statusLabel(k.status)}, float64(m.actions[k]))
	}
	gpus := slices.SortedFunc(maps.Keys(m.gpus), func(a, b gpuKey) int { return cmp.Or(cmp.Compare(a.worker, b.worker), cmp.Compare(a.gpu, b.gpu)) })
	gpuFamily := func(name, typ, help string, v func(*gpuMetrics) float64) {
		e.Family(name, typ, help)
		for _, k := range gpus {
			e.Sample(name, []string{"worker", itoa(k.worker), "gpu", itoa(k.gpu)}, v(m.gpus[k]))
		}
	}
	gpuFamily("clockwork_gpu_exec_seconds_total", "counter", "GPU time of successful Infers as the workers measured it; its rate is the GPU's utilization.",
		func(g *gpuMetrics) float64 { return float64(g.execNs) / 1e9 })
	gpuFamily("clockwork_gpu_goodput_seconds_total", "counter", "The part of that GPU time spent on requests answered successfully within their SLO (the action log's goodput).",
		func(g *gpuMetrics) float64 { return float64(g.goodputNs) / 1e9 })
	gpuFamily("clockwork_gpu_load_seconds_total", "counter", "Transfer time of successful LoadWeights as the workers measured it.",
		func(g *gpuMetrics) float64 { return float64(g.loadNs) / 1e9 })
	gpuFamily("clockwork_gpu_infer_items_total", "counter", "Batch items of successful Infers; divided by the Infers, the mean batch size.",
		func(g *gpuMetrics) float64 { return float64(g.items) })
	e.Family("clockwork_infer_prediction_error_ratio", "histogram", "|expected - measured| / measured exec time of successful Infers: how well the scheduler predicts.")
	e.Histogram("clockwork_infer_prediction_error_ratio", nil, errorBounds, &m.predErr)

	for _, f := range []struct {
		name, help string
		sent, recv uint64
	}{
		{"clockwork_network_bytes_total", "Bytes to and from the workers.", m.net.BytesSent, m.net.BytesRecv},
		{"clockwork_network_messages_total", "Messages to and from the workers.", m.net.MsgsSent, m.net.MsgsRecv},
	} {
		e.Family(f.name, "counter", f.help)
		e.Sample(f.name, []string{"direction", "sent"}, float64(f.sent))
		e.Sample(f.name, []string{"direction", "received"}, float64(f.recv))
	}
	return e.Flush()
}

func actionName(t int) string {
	switch t {
	case ActionLoadWeights:
		return "load_weights"
	case ActionInfer:
		return "infer"
	case ActionEvictWeights:
		return "evict_weights"
	}
	return itoa(t)
}

func itoa(i int) string { return strconv.Itoa(i) }
