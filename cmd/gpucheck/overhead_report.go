package main

import (
	"fmt"
	"strings"
)

// What the -overhead mode reports (overhead.go).

// overheadRow is the summary of one model and batch size: each metric's
// distribution in ms.
type overheadRow struct {
	model   string
	batch   int
	err     error
	metrics []metric
	samples [][]sample // each subject's
}

// metric is one metric's distribution on each subject.
type metric struct {
	name string
	d    []dist
}

// overheadMetrics are what a row reports, in order. "host" is the worker's
// own cost: its time less the exec's GPU time; "outside" is everything the
// worker does not time (network, framing, decoding, queueing, the client).
var overheadMetrics = []struct {
	name string
	f    func(s *sample) int64
}{
	{"e2e", func(s *sample) int64 { return s.arrived - s.sent }},
	{"worker", func(s *sample) int64 { return int64(s.r.CopyOutput.End - s.r.CopyInput.Begin) }},
	{"exec GPU", func(s *sample) int64 { return int64(s.r.Exec.Duration) }},
	{"host = worker-exec", func(s *sample) int64 {
		return int64(s.r.CopyOutput.End-s.r.CopyInput.Begin) - int64(s.r.Exec.Duration)
	}},
	{"outside = e2e-worker", func(s *sample) int64 {
		return (s.arrived - s.sent) - int64(s.r.CopyOutput.End-s.r.CopyInput.Begin)
	}},
	{"copy-input stage", func(s *sample) int64 { return int64(s.r.CopyInput.End - s.r.CopyInput.Begin) }},
	{"input->exec gap", func(s *sample) int64 { return int64(s.r.Exec.Begin) - int64(s.r.CopyInput.End) }},
	{"exec stage-GPU", func(s *sample) int64 { return int64(s.r.Exec.End-s.r.Exec.Begin) - int64(s.r.Exec.Duration) }},
	{"exec->output gap", func(s *sample) int64 { return int64(s.r.CopyOutput.Begin) - int64(s.r.Exec.End) }},
	{"copy-output stage", func(s *sample) int64 { return int64(s.r.CopyOutput.End - s.r.CopyOutput.Begin) }},
	// Inside the worker, outside its stages: from the action's arrival
	// (decoded) to the copy-input stage, and from the copy-output stage to
	// the result's encoding.
	{"received->copy-input", func(s *sample) int64 { return int64(s.r.CopyInput.Begin) - int64(s.r.ActionReceived) }},
	{"copy-output->sent", func(s *sample) int64 { return int64(s.r.ResultSent) - int64(s.r.CopyOutput.End) }},
	// Across the two processes' clocks: as exact as the skew estimate.
	{"~send->received", func(s *sample) int64 { return int64(s.r.ActionReceived) - s.sent }},
	{"~sent->arrival", func(s *sample) int64 { return s.arrived - int64(s.r.ResultSent) }},
}

// overheadTable renders rows with one set of columns per subject.
func overheadTable(subs []subject, rows []*overheadRow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-12s %3s  %-22s", "model", "b", "ms")
	for _, s := range subs {
		fmt.Fprintf(&b, " | %-4s %7s %7s %7s %7s %6s", s.name, "p50", "p99", "p99.9", "max", "tail")
	}
	b.WriteString("\n")
	for _, r := range rows {
		if r.err != nil {
			fmt.Fprintf(&b, "%-12s %3d  %v\n", r.model, r.batch, r.err)
		}
		for _, m := range r.metrics {
			fmt.Fprintf(&b, "%-12s %3d  %-22s", r.model, r.batch, m.name)
			for _, d := range m.d {
				fmt.Fprintf(&b, " |      %7.3f %7.3f %7.3f %7.3f %6.2f", d.p50, d.p99, d.p999, d.max, d.tail())
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// overheadStalls sets the stall probe's stalls beside the rows' slow
// inferences (stallReport).
func overheadStalls(m *machine, rows []*overheadRow) string {
	var groups [][]sample
	for _, r := range rows {
		groups = append(groups, r.samples...)
	}
	return stallReport(m, groups, "timed inferences", "on their worker")
}
