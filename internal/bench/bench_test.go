package bench

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/telemetry"
)

// logOf writes records with the real request-log writer.
func logOf(t *testing.T, recs []telemetry.RequestRecord) *bytes.Buffer {
	t.Helper()
	var buf bytes.Buffer
	l := telemetry.NewRequestLog(&buf)
	for i := range recs {
		if err := l.Log(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	return &buf
}

const sec = int64(time.Second)

func TestAnalyze(t *testing.T) {
	ms := int64(time.Millisecond)
	rec := func(dep, lat int64, result int32, slo int64) telemetry.RequestRecord {
		return telemetry.RequestRecord{Departure: dep, Arrival: dep - lat, Result: result, Deadline: dep - lat + slo}
	}
	recs := []telemetry.RequestRecord{
		rec(10*sec, 5*ms, 0, 100*ms), // warm-up: skipped
		rec(12*sec, 10*ms, 0, 100*ms),
		rec(13*sec, 20*ms, 0, 100*ms),
		rec(14*sec, 200*ms, 0, 100*ms), // late success
		rec(15*sec, 30*ms, 4, 100*ms),  // timeout
		rec(16*sec, 1*ms, 0, 100*ms),
		rec(20*sec, 1*ms, 0, 100*ms), // after End: skipped
	}
	s, err := Analyze(logOf(t, recs), Window{Warmup: time.Second, End: 20 * sec})
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{Seconds: 9, Answered: 5, Successes: 4, Good: 3, Late: 1,
		P50: 10 * time.Millisecond, P99: 200 * time.Millisecond, Max: 200 * time.Millisecond}
	if s.Seconds != want.Seconds || s.Answered != want.Answered || s.Successes != want.Successes ||
		s.Good != want.Good || s.Late != want.Late || s.P50 != want.P50 || s.P99 != want.P99 || s.Max != want.Max {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	if s.Statuses[0] != 4 || s.Statuses[4] != 1 {
		t.Errorf("statuses %v", s.Statuses)
	}
	if s.Goodput != 3.0/9 || s.Throughput != 4.0/9 {
		t.Errorf("goodput %v throughput %v", s.Goodput, s.Throughput)
	}

	var table strings.Builder
	if err := WriteTable(&table, []Result{{SLO: 100 * time.Millisecond, Scheduler: "INFER5", Stats: s}}); err != nil {
		t.Fatal(err)
	}
	row := "| 100 | INFER5 | 0.3 | 0.4 | 10 | 200 | 200 | 1 | 5 | 0: 80.0%, 4: 20.0% |"
	if !strings.Contains(table.String(), row) {
		t.Errorf("table:\n%s\nwant row %s", table.String(), row)
	}
	if got := CheckFig5([]Result{{SLO: 100 * time.Millisecond, Scheduler: "INFER5", Stats: s}}); !strings.Contains(got, "NOT MET") {
		t.Errorf("CheckFig5 = %q", got)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	if _, err := Analyze(strings.NewReader(""), Window{}); err == nil {
		t.Error("empty log accepted")
	}
	if _, err := Analyze(strings.NewReader("t\tresult\n1\t0\n"), Window{}); err == nil {
		t.Error("log without latency column accepted")
	}
	if _, err := Analyze(logOf(t, nil), Window{}); !errors.Is(err, ErrNoRows) {
		t.Errorf("no rows: %v", err)
	}
	bad := "t\tresult\tlatency\tdeadline\tdeadline_met\n1\tx\t1\t1\t1\n"
	if _, err := Analyze(strings.NewReader(bad), Window{}); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad field: %v", err)
	}
}
