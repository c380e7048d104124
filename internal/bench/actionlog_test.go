package bench

import (
	"bytes"
	"math"
	"testing"

	"github.com/clockwork-go/clockwork/internal/telemetry"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// TestReadActionLog reads back what the real action-log writer wrote and
// measures its Infers' prediction errors.
func TestReadActionLog(t *testing.T) {
	var buf bytes.Buffer
	l := telemetry.NewActionLog(&buf)
	infer := func(id int32, status int32, expected, actual int64) telemetry.ActionRecord {
		return telemetry.ActionRecord{ActionID: id, ActionType: int(workerapi.InferType), Status: status, Worker: 1, GPU: 2,
			ModelID: 3, BatchSize: 4, ExpectedDuration: expected, WorkerDuration: actual, WorkerExecComplete: 1500 + actual,
			ExpectedGPUClock: 1980, WorkerGPUClockBefore: 1980, WorkerGPUClock: 1755, Sent: 1000, ResultReceived: 9000, Processed: 9100}
	}
	recs := []telemetry.ActionRecord{
		{ActionID: 1, ActionType: int(workerapi.LoadWeightsType), ExpectedDuration: 9e6, WorkerDuration: 8e6, Sent: 1, Processed: 2},
		infer(2, 0, 1000, 1000),  // exact
		infer(3, 0, 1100, 1000),  // over-predicted by 10 %
		infer(4, 0, 1000, 1250),  // under-predicted: 20 % of actual
		infer(5, 81, 1000, 0),    // failed
		infer(6, 0, 1000, 1005),  // within 1 %
		infer(7, 0, 2000, 2000),  // exact
		infer(8, 0, 1000, 1000),  // exact
		infer(9, 0, 1000, 1000),  // exact
		infer(10, 0, 1000, 1000), // exact
	}
	for i := range recs {
		if err := l.Log(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	var rows []ActionRow
	if err := ReadActionLog(&buf, func(r ActionRow) { rows = append(rows, r) }); err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(recs) {
		t.Fatalf("%d rows, want %d", len(rows), len(recs))
	}
	want := ActionRow{T: 9000, Type: workerapi.InferType, Worker: 1, GPU: 2, Model: 3, Batch: 4, Expected: 1000, Actual: 1250,
		ExecComplete: 500 + 1250, ClockBefore: 1980, Clock: 1755, ResultEnqueue: 8000, ExpectedClock: 1980}
	if rows[3] != want {
		t.Errorf("row 4:\n%+v\nwant\n%+v", rows[3], want)
	}
	p := Predictions(rows)
	if p.Infers != 8 || p.P50 != 0 || p.P99 != 0.2 || math.Abs(p.Under-1.0/8) > 1e-12 {
		t.Errorf("predictions %+v; want 8 Infers, p50 0, p99 0.2, 1 of 8 under", p)
	}
	if (Predictions(rows[:1]) != Prediction{}) {
		t.Errorf("a log without Infers: %+v", Predictions(rows[:1]))
	}
}
