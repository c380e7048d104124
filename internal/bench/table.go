package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Result is one measured run: a row of the table.
type Result struct {
	SLO       time.Duration // the controller's default SLO
	Scheduler string
	Stats     Stats
	Err       error // the run failed; the row says why
}

// WriteTable renders results as a markdown table, one row per run.
func WriteTable(w io.Writer, results []Result) error {
	var b strings.Builder
	b.WriteString("| SLO | scheduler | goodput r/s | throughput r/s | p50 ms | p99 ms | max ms | late OK | answered | statuses |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(&b, "| %s | %s | failed: %s | | | | | | | |\n", millis(r.SLO), r.Scheduler, cell(r.Err.Error()))
			continue
		}
		s := &r.Stats
		fmt.Fprintf(&b, "| %s | %s | %.1f | %.1f | %s | %s | %s | %d | %d | %s |\n", millis(r.SLO), r.Scheduler,
			s.Goodput, s.Throughput, millis(s.P50), millis(s.P99), millis(s.Max), s.Late, s.Answered, shares(s.Statuses, s.Answered))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// millis formats d in milliseconds with up to two decimals.
func millis(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", float64(d)/1e6), "0"), ".")
}

// cell makes s safe inside a markdown table cell.
func cell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}

// shares lists each status with its share of the answered requests,
// most frequent first: "0: 98.5%, 8: 1.5%".
func shares(statuses map[int32]int, total int) string {
	codes := make([]int32, 0, len(statuses))
	for c := range statuses {
		codes = append(codes, c)
	}
	slices.SortFunc(codes, func(a, b int32) int {
		if statuses[a] != statuses[b] {
			return statuses[b] - statuses[a]
		}
		return int(a - b)
	})
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d: %.1f%%", c, 100*float64(statuses[c])/float64(total))
	}
	return strings.Join(parts, ", ")
}

// Fig5Target is the goal a Figure 5 run is held to: at a 100 ms SLO INFER5
// sustains at least this goodput (resnet50_v2's V100 profile allows
// 16 / 21.729 ms = 736 r/s at batch size 16) and answers no request
// successfully after its deadline.
const Fig5Target = 650.0

// CheckFig5 states whether results meet the Figure 5 target, and lists the
// INFER5 runs at other SLOs that answered successes late.
func CheckFig5(results []Result) string {
	const head = "Target: INFER5 at 100 ms SLO: goodput ≥ 650 r/s (b16 bound 736 r/s) and no success after its deadline"
	var b strings.Builder
	found := false
	var others []string
	for _, r := range results {
		if r.Scheduler != "INFER5" || r.Err != nil {
			continue
		}
		if r.SLO != 100*time.Millisecond {
			if r.Stats.Late > 0 {
				others = append(others, fmt.Sprintf("%d at %s ms", r.Stats.Late, millis(r.SLO)))
			}
			continue
		}
		found = true
		verdict := "NOT MET"
		if r.Stats.Goodput >= Fig5Target && r.Stats.Late == 0 {
			verdict = "MET"
		}
		fmt.Fprintf(&b, "%s: %s (goodput %.1f r/s, %d late).", head, verdict, r.Stats.Goodput, r.Stats.Late)
	}
	if !found {
		b.WriteString(head + ": not measured (no INFER5 run at 100 ms).")
	}
	if len(others) > 0 {
		fmt.Fprintf(&b, " INFER5 late successes at other SLOs: %s.", strings.Join(others, ", "))
	}
	return b.String()
}
