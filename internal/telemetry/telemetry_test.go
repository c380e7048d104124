package telemetry

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestRequestLogRows(t *testing.T) {
	const arrival = 1_000_000_000
	records := []RequestRecord{
		{ // served in time; the model was cold when the request arrived
			RequestID: 7, UserID: 3, ModelID: 2, Arrival: arrival, Departure: arrival + 4_000_000,
			Deadline: arrival + 100_000_000, ArrivalCount: 0, DepartureCount: 1,
		},
		{ // timed out
			RequestID: 8, Result: 4, UserID: 3, ModelID: 2, SLOFactor: 2.5, Arrival: arrival,
			Departure: arrival + 95_000_000, Deadline: arrival + 100_000_000, ArrivalCount: 1, DepartureCount: 1,
		},
		{RequestID: 9, Result: 1, ModelID: 99, SLOFactor: float32(math.NaN()), Arrival: arrival, Departure: arrival},
		{RequestID: 10, Arrival: arrival, Departure: arrival + 5}, // no deadline, success
		{RequestID: 11, Arrival: arrival, Departure: arrival + 5, Deadline: arrival - 1},
		{ // successful but late
			RequestID: 12, SLOFactor: 1e6, Arrival: arrival, Departure: arrival + 30, Deadline: arrival + 20,
			ArrivalCount: 2, DepartureCount: 3,
		},
	}
	var buf bytes.Buffer
	l := NewRequestLog(&buf)
	for i := range records {
		if err := l.Log(&records[i]); err != nil {
			t.Fatal(err)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("request log wrote %d bytes before Flush", buf.Len())
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"t\trequest_id\tresult\tuser_id\tmodel_id\tslo_factor\tlatency\tdeadline\tdeadline_met\tarrival_count\tdeparture_count\tis_coldstart",
		"1004000000\t7\t0\t3\t2\t0\t4000000\t100000000\t1\t0\t1\t1",
		"1095000000\t8\t4\t3\t2\t2.5\t95000000\t100000000\t0\t1\t1\t0",
		"1000000000\t9\t1\t0\t99\tnan\t0\t-1\t0\t0\t0\t0",
		"1000000005\t10\t0\t0\t0\t0\t5\t-1\t1\t0\t0\t0",
		"1000000005\t11\t0\t0\t0\t0\t5\t0\t0\t0\t0\t0",
		"1000000030\t12\t0\t0\t0\t1e+06\t30\t20\t0\t2\t3\t0",
	}, "\n") + "\n"
	if got := buf.String(); got != want {
		t.Errorf("request log:\n%s\nwant:\n%s", got, want)
	}
}

func TestActionLogRows(t *testing.T) {
	const sent = 2_000_000_000
	records := []ActionRecord{
		{ // an Infer whose worker clock reads 0.2 ms behind the controller's
			ActionID: 5, ActionType: ActionInfer, Worker: 1, GPU: 0, ModelID: 3, BatchSize: 4,
			ExpectedDuration: 7_000_000, ExpectedExecComplete: sent + 9_000_000, ExpectedGPUClock: 1380,
			WorkerDuration: 7_100_000, WorkerExecComplete: sent + 9_300_000,
			WorkerGPUClockBefore: 1300, WorkerGPUClock: 1350,
			WorkerCopyOutputEnd: sent + 9_400_000, WorkerActionReceived: sent - 200_000, WorkerResultSent: sent + 9_450_000,
			Sent: sent, ResultReceived: sent + 10_000_000, Processed: sent + 10_100_000,
			GoodputFraction: 0.75, RequestsQueued: 2, CopiesLoaded: 1,
		},
		{ // a failed eviction
			ActionID: 6, ActionType: ActionEvictWeights, Status: 63, Worker: 0, GPU: 1, ModelID: 3, BatchSize: 1,
			WorkerActionReceived: sent + 1_000_000, WorkerResultSent: sent + 1_200_000,
			Sent: sent, ResultReceived: sent + 2_000_000, Processed: sent + 2_000_000, CopiesLoaded: 2,
		},
		{ // a load: goodput carries the whole duration
			ActionID: 7, ActionType: ActionLoadWeights, BatchSize: 1, ExpectedDuration: 8_000_000,
			ExpectedExecComplete: sent + 8_000_000, WorkerDuration: 8_372_000, WorkerExecComplete: sent + 8_500_000,
			WorkerActionReceived: sent + 100_000, WorkerResultSent: sent + 8_600_000,
			Sent: sent, ResultReceived: sent + 9_000_000, Processed: sent + 9_000_000, GoodputFraction: 1,
		},
	}
	var buf bytes.Buffer
	l := NewActionLog(&buf)
	for i := range records {
		if err := l.Log(&records[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Log(&records[0]); err == nil {
		t.Error("Log after Close succeeded")
	}
	want := strings.Join([]string{
		"t\taction_id\taction_type\tstatus\tworker_id\tgpu_id\tmodel_id\tbatch_size\texpected_exec_duration\tworker_exec_duration\texpected_exec_complete\tworker_exec_complete\texpected_gpu_clock\tworker_gpu_clock_before\tworker_gpu_clock\tworker_copy_output_complete\tworker_action_received\tworker_result_sent\tcontroller_result_enqueue\tcontroller_action_duration\tgoodput\trequests_queued\tcopies_loaded",
		"2010000000\t5\t2\t0\t1\t0\t3\t4\t7000000\t7100000\t9000000\t9500000\t1380\t1300\t1350\t9600000\t0\t9650000\t10000000\t10100000\t5325000\t2\t1",
		"2002000000\t6\t3\t63\t0\t1\t3\t1\t0\t0\t0\t0\t0\t0\t0\t0\t1000000\t1200000\t2000000\t2000000\t0\t0\t2",
		"2009000000\t7\t1\t0\t0\t0\t0\t1\t8000000\t8372000\t8000000\t8500000\t0\t0\t0\t0\t100000\t8600000\t9000000\t9000000\t8372000\t0\t0",
	}, "\n") + "\n"
	if got := buf.String(); got != want {
		t.Errorf("action log:\n%s\nwant:\n%s", got, want)
	}
}

func TestActionLines(t *testing.T) {
	s := NewSummary(0)
	infer := func(worker, gpu int, dur, e2e int64, clock int) *ActionRecord {
		return &ActionRecord{ActionType: ActionInfer, Worker: worker, GPU: gpu, WorkerDuration: dur,
			WorkerGPUClock: clock, Sent: 1000, ResultReceived: 1000 + e2e}
	}
	s.AddAction(infer(0, 1, 3_000_000, 5_000_000, 1380))
	s.AddAction(infer(0, 1, 4_000_001, 6_000_000, 1200))
	for range 1000 {
		s.AddAction(infer(1, 0, 5_000_000, 6_000_000, 1380))
	}
	s.AddAction(&ActionRecord{ActionType: ActionLoadWeights, WorkerDuration: 8_372_000, Sent: 5, ResultReceived: 9_000_005})
	s.AddAction(&ActionRecord{ActionType: ActionInfer, Status: 81, Worker: 2})    // errors are not shown
	s.AddAction(&ActionRecord{ActionType: ActionEvictWeights, Worker: 3, GPU: 3}) // nor are evictions

	got := s.ActionLines(10_000_000_000)
	want := []string{
		"W0-GPU0 LoadW min=8.37 max=8.37 mean=8.37 e2emean=9.00 e2emax=9.00 throughput=0.1 utilization=0.00 clock=[0-0] norm_max=0.00 norm_mean=0.00",
		"W0-GPU1 Infer min=3.00 max=4.00 mean=3.50 e2emean=5.50 e2emax=6.00 throughput=0.2 utilization=0.00 clock=[1200-1380] norm_max=3.48 norm_mean=3.24",
		"W1-GPU0 Infer min=5.00 max=5.00 mean=5.00 e2emean=6.00 e2emax=6.00 throughput=100.0 utilization=0.50 clock=[1380-1380] norm_max=5.00 norm_mean=5.00",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("action lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := s.ActionLines(20_000_000_000); len(got) != 0 {
		t.Errorf("second interval without records printed %q", got)
	}
}

func TestClientLine(t *testing.T) {
	s := NewSummary(5_000_000_000)
	for _, latency := range []int64{10_000_000, 20_000_000, 30_000_001} {
		s.AddRequest(&RequestRecord{Arrival: 100, Departure: 100 + latency})
	}
	s.AddRequest(&RequestRecord{Result: 4})
	if got, want := s.ClientLine(15_000_000_000), "Client throughput=0.3 success=75.00% (1/4 violations) min=10.0 max=30.0 mean=20.0"; got != want {
		t.Errorf("client line %q, want %q", got, want)
	}

	s.AddRequest(&RequestRecord{Result: 4})
	s.AddRequest(&RequestRecord{Result: 1})
	if got, want := s.ClientLine(25_000_000_000), "Client throughput=0 success=0% (2/2 violations)"; got != want {
		t.Errorf("client line %q, want %q", got, want)
	}

	s.AddRequest(&RequestRecord{Arrival: 0, Departure: 1_250_000})
	if got, want := s.ClientLine(26_000_000_000), "Client throughput=1.0 success=100.00% min=1.2 max=1.2 mean=1.2"; got != want {
		t.Errorf("client line %q, want %q", got, want)
	}
}

func TestMaybePrintWaitsForIntervalAndRecords(t *testing.T) {
	var out bytes.Buffer
	s := NewSummary(1_000)
	s.MaybePrint(50_000_000_000, &out)
	if out.Len() != 0 {
		t.Fatalf("printed without records: %q", out.String())
	}
	s.AddRequest(&RequestRecord{Arrival: 0, Departure: 2_000_000})
	s.AddAction(&ActionRecord{ActionType: ActionInfer, WorkerDuration: 1_000_000, WorkerGPUClock: 1380})
	s.MaybePrint(1_000+DefaultSummaryInterval-1, &out)
	if out.Len() != 0 {
		t.Fatalf("printed before the interval elapsed: %q", out.String())
	}
	s.MaybePrint(1_000+DefaultSummaryInterval, &out)
	want := "W0-GPU0 Infer min=1.00 max=1.00 mean=1.00 e2emean=0.00 e2emax=0.00 throughput=0.1 utilization=0.00 clock=[1380-1380] norm_max=1.00 norm_mean=1.00\n" +
		"Client throughput=0.1 success=100.00% min=2.0 max=2.0 mean=2.0\n"
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
	out.Reset()
	s.AddRequest(&RequestRecord{Result: 4})
	s.MaybePrint(1_000+DefaultSummaryInterval+1, &out)
	if out.Len() != 0 {
		t.Errorf("printed twice within one interval: %q", out.String())
	}
}

func TestNetworkLine(t *testing.T) {
	got := NetworkLine(30<<20, 1234, 5<<20, 99, 10)
	want := "Network->Workers: 3.0MB/s (123 msgs) snd, 0.5MB/s (9 msgs) rcv, "
	if got != want {
		t.Errorf("NetworkLine = %q, want %q", got, want)
	}
	if got := NetworkLine(1, 1, 1, 1, 0); got != "Network->Workers: 0.0MB/s (0 msgs) snd, 0.0MB/s (0 msgs) rcv, " {
		t.Errorf("NetworkLine over an empty interval = %q", got)
	}
}
