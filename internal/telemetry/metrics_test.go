package telemetry

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/promtext"
)

func TestMetrics(t *testing.T) {
	m := NewMetrics()
	ms := int64(1e6)
	for _, r := range []RequestRecord{
		{ModelID: 3, Result: 0, Arrival: 0, Departure: 4 * ms, Deadline: 10 * ms, ArrivalCount: 1, DepartureCount: 1},     // met
		{ModelID: 3, Result: 0, Arrival: 0, Departure: 12 * ms, Deadline: 10 * ms, ArrivalCount: 0, DepartureCount: 1},    // late, cold
		{ModelID: 3, Result: 4, Arrival: 0, Departure: 10 * ms, Deadline: 10 * ms, ArrivalCount: 1, DepartureCount: 1},    // dropped
		{ModelID: 0, Result: 1, Arrival: 5 * ms, Departure: 5 * ms, ArrivalCount: 0, DepartureCount: 0},                   // failed
		{ModelID: 0, Result: 0, Arrival: 5 * ms, Departure: 5*ms + 1000, Deadline: 0, ArrivalCount: 1, DepartureCount: 1}, // no deadline
		{ModelID: 0, Result: 12345, Arrival: 5 * ms, Departure: 5 * ms},                                                   // a worker's own codes: one series
		{ModelID: 0, Result: -7, Arrival: 5 * ms, Departure: 5 * ms},
		{ModelID: 77, Result: 1, UnknownModel: true},
		{ModelID: -5, Result: 1, UnknownModel: true},
	} {
		m.AddRequest(&r)
	}
	for _, r := range []ActionRecord{
		{Worker: 0, GPU: 1, ActionType: ActionInfer, BatchSize: 4, ExpectedDuration: 3_300_000, WorkerDuration: 3_000_000, GoodputFraction: 0.5},
		{Worker: 0, GPU: 1, ActionType: ActionInfer, BatchSize: 1, ExpectedDuration: 1_000_000, WorkerDuration: 1_000_000, GoodputFraction: 1},
		{Worker: 0, GPU: 1, ActionType: ActionInfer, Status: 71, BatchSize: 2, ExpectedDuration: 2e6},
		{Worker: 0, GPU: 0, ActionType: ActionLoadWeights, WorkerDuration: 8_000_000, GoodputFraction: 1},
		{Worker: 0, GPU: 0, ActionType: ActionEvictWeights, GoodputFraction: 1},
		{Worker: 0, GPU: 0, ActionType: ActionEvictWeights, Status: 5000},
		{Worker: 0, GPU: 0, ActionType: ActionEvictWeights, Status: 6000},
	} {
		m.AddAction(&r)
	}
	m.SetNetwork(NetworkTotals{BytesSent: 1000, MsgsSent: 10, BytesRecv: 2000, MsgsRecv: 9})

	var b bytes.Buffer
	n, err := m.WriteTo(&b)
	if err != nil || n != int64(b.Len()) {
		t.Fatalf("WriteTo: %d, %v (wrote %d)", n, err, b.Len())
	}
	got := b.String()
	if err := promtext.Validate(got); err != nil {
		t.Error(err)
	}
	if strings.Contains(got, `model="77"`) || strings.Contains(got, `model="-5"`) {
		t.Error("unknown model ids have series of their own")
	}
	for _, want := range []string{
		"# TYPE clockwork_requests_total counter\n" +
			"clockwork_requests_total{model=\"0\",status=\"other\"} 2\n" +
			"clockwork_requests_total{model=\"0\",status=\"0\"} 1\n" +
			"clockwork_requests_total{model=\"0\",status=\"1\"} 1\n" +
			"clockwork_requests_total{model=\"3\",status=\"0\"} 2\n" +
			"clockwork_requests_total{model=\"3\",status=\"4\"} 1\n",
		"clockwork_requests_unknown_model_total 2\n",
		"clockwork_requests_slo_met_total{model=\"0\"} 1\nclockwork_requests_slo_met_total{model=\"3\"} 1\n",
		"clockwork_requests_cold_start_total{model=\"0\"} 0\nclockwork_requests_cold_start_total{model=\"3\"} 1\n",
		// Model 3: 4, 10 and 12 ms.
		"clockwork_request_latency_seconds_bucket{model=\"3\",le=\"0.002\"} 0\n" +
			"clockwork_request_latency_seconds_bucket{model=\"3\",le=\"0.005\"} 1\n" +
			"clockwork_request_latency_seconds_bucket{model=\"3\",le=\"0.01\"} 2\n" +
			"clockwork_request_latency_seconds_bucket{model=\"3\",le=\"0.02\"} 3\n",
		"clockwork_request_latency_seconds_bucket{model=\"3\",le=\"+Inf\"} 3\n" +
			"clockwork_request_latency_seconds_sum{model=\"3\"} 0.026\n" +
			"clockwork_request_latency_seconds_count{model=\"3\"} 3\n",
		"clockwork_actions_total{worker=\"0\",gpu=\"0\",action=\"load_weights\",status=\"0\"} 1\n" +
			"clockwork_actions_total{worker=\"0\",gpu=\"0\",action=\"evict_weights\",status=\"other\"} 2\n" +
			"clockwork_actions_total{worker=\"0\",gpu=\"0\",action=\"evict_weights\",status=\"0\"} 1\n" +
			"clockwork_actions_total{worker=\"0\",gpu=\"1\",action=\"infer\",status=\"0\"} 2\n" +
			"clockwork_actions_total{worker=\"0\",gpu=\"1\",action=\"infer\",status=\"71\"} 1\n",
		"clockwork_gpu_exec_seconds_total{worker=\"0\",gpu=\"0\"} 0\nclockwork_gpu_exec_seconds_total{worker=\"0\",gpu=\"1\"} 0.004\n",
		"clockwork_gpu_goodput_seconds_total{worker=\"0\",gpu=\"1\"} 0.0025\n",
		"clockwork_gpu_load_seconds_total{worker=\"0\",gpu=\"0\"} 0.008\n",
		"clockwork_gpu_infer_items_total{worker=\"0\",gpu=\"1\"} 5\n",
		// Errors of 0.1 and 0.
		"clockwork_infer_prediction_error_ratio_bucket{le=\"0.001\"} 1\n",
		"clockwork_infer_prediction_error_ratio_bucket{le=\"0.05\"} 1\nclockwork_infer_prediction_error_ratio_bucket{le=\"0.1\"} 2\n",
		"clockwork_infer_prediction_error_ratio_count 2\n",
		"clockwork_network_bytes_total{direction=\"sent\"} 1000\nclockwork_network_bytes_total{direction=\"received\"} 2000\n",
		"clockwork_network_messages_total{direction=\"sent\"} 10\nclockwork_network_messages_total{direction=\"received\"} 9\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing:\n%s\nin:\n%s", want, got)
		}
	}
}

// TestMetricsEmpty: with nothing recorded every family is declared, the
// histogram without labels has zero buckets, and the text is valid.
func TestMetricsEmpty(t *testing.T) {
	var b bytes.Buffer
	NewMetrics().WriteTo(&b)
	if err := promtext.Validate(b.String()); err != nil {
		t.Error(err)
	}
	if !strings.Contains(b.String(), "clockwork_infer_prediction_error_ratio_bucket{le=\"+Inf\"} 0\n") ||
		!strings.Contains(b.String(), "# TYPE clockwork_requests_total counter\n") {
		t.Errorf("empty metrics:\n%s", b.String())
	}
}

// TestMetricsConcurrent: records added while the metrics are written (run
// with -race).
func TestMetricsConcurrent(t *testing.T) {
	m := NewMetrics()
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 1000 {
			m.AddRequest(&RequestRecord{ModelID: i % 7, Departure: int64(i)})
			m.AddAction(&ActionRecord{ActionType: ActionInfer, GPU: i % 2, WorkerDuration: 1e6, ExpectedDuration: 1e6})
		}
	})
	for range 20 {
		m.WriteTo(&bytes.Buffer{})
	}
	wg.Wait()
	var b bytes.Buffer
	m.WriteTo(&b)
	if !strings.Contains(b.String(), "clockwork_infer_prediction_error_ratio_count 1000\n") {
		t.Errorf("after 1000 Infers:\n%s", b.String())
	}
}

// BenchmarkMetricsAdd is what -metrics adds to the controller's loop per
// answered request (and per Infer of batch size 1).
func BenchmarkMetricsAdd(b *testing.B) {
	m := NewMetrics()
	req := RequestRecord{ModelID: 3, Arrival: 1e9, Departure: 1e9 + 4e6, Deadline: 1e9 + 1e8, ArrivalCount: 1, DepartureCount: 1}
	act := ActionRecord{Worker: 0, GPU: 1, ActionType: ActionInfer, BatchSize: 1, ExpectedDuration: 3.3e6, WorkerDuration: 3.2e6, GoodputFraction: 1}
	b.ReportAllocs()
	for b.Loop() {
		m.AddRequest(&req)
		m.AddAction(&act)
	}
}

// TestMetricsScraperDoesNotBlock: a scraper that stops reading holds no
// lock the controller's loop needs.
func TestMetricsScraperDoesNotBlock(t *testing.T) {
	m := NewMetrics()
	for id := range 100 {
		m.AddRequest(&RequestRecord{ModelID: id})
	}
	r, w := io.Pipe()
	defer r.Close()
	go m.WriteTo(w) // nobody reads: the first write blocks
	// Wait until the scrape is writing, then add.
	first := make([]byte, 1)
	if _, err := io.ReadFull(r, first); err != nil {
		t.Fatal(err)
	}
	added := make(chan struct{})
	go func() {
		m.AddRequest(&RequestRecord{ModelID: 1})
		m.AddAction(&ActionRecord{ActionType: ActionInfer})
		close(added)
	}()
	select {
	case <-added:
	case <-time.After(10 * time.Second):
		t.Fatal("adding a record waited for a scraper that does not read")
	}
}
