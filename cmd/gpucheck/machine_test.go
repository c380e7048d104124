package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/stalls"
)

// TestAnatomyWithStalls sets the stall probe's stalls beside the slow
// inferences: which met one, of what kind, against all inferences.
func TestAnatomyWithStalls(t *testing.T) {
	base := [len(legs)]int64{50e3, 10e3, 100e3, 5e3, 1000e3, 5e3, 50e3, 10e3, 50e3} // 1.28 ms
	r := &row{batch: 1}
	for i := range 100 {
		d := base
		if i == 10 || i == 20 || i == 30 {
			d[0] += 2e6 // slow on the way to the worker
		}
		r.samples = append(r.samples, inference(int64(i)*10e6, d))
	}
	runs := []*modelRun{{name: "m", rows: []*row{r}}}
	// Inference i runs from i × 10 ms for 1.28 ms (3.28 ms if slow).
	m := &machine{cpus: []int{0, 15}, period: time.Millisecond, threshold: 200 * time.Microsecond, idleFor: 2 * time.Second,
		steal: 230 * time.Millisecond, watched: 1500 * time.Millisecond, stealOK: true,
		idle: []stalls.Stall{{At: -5e9, Late: 1e6, CPU: 0}},
		stalls: stalls.NewSet([]stalls.Stall{
			{At: 100e6 + 1e6, Late: 1.5e6, Queued: 0, CPU: 0},      // slow #10, not busy, and on CPU 15 too:
			{At: 100e6 + 2e6, Late: 0.5e6, Queued: 0.1e6, CPU: 15}, // not busy
			{At: 200e6 + 1e6, Late: 2e6, Queued: 1.9e6, CPU: 15},   // slow #20, busy
			{At: 500e6 + 0.5e6, Late: 0.3e6, Queued: -1, CPU: 0},   // #50, not slow
			{At: 995e6, Late: 0.3e6, Queued: 0, CPU: 0},            // after the last inference
		})}
	got := anatomy(runs, nil, m)
	for _, want := range []string{
		"3 of 100 timed inferences took more than 1.15",
		"  machine stalls (a probe thread on CPU 0 or 15 woke more than 0.20 ms late from a 1 ms sleep): 1 in 2.0 s before the worker started; " +
			"4 while inferences were timed (4.0 a second), largest 2.00 ms; 1 busy (the thread waited in the run queue: its CPU ran another), " +
			"3 not (no thread could run: a virtual CPU stopped, or interrupts); 2 on more than one CPU at once\n",
		"  steal time (/proc/stat, all CPUs: a virtual CPU ready to run, the hypervisor running another): 230 ms over the 1.5 s watched\n",
		"  slow inferences that met a stall: 2 of 3 (the largest they met: 1 busy, 1 not, 1 on more than one CPU at once); of all timed inferences: 3 of 100\n",
		"; met a stall of 2.000 ms on CPU 15 (busy)\n",
		"; met a stall of 1.500 ms on CPU 0 (not busy)\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("anatomy lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "met a stall of") != 2 {
		t.Errorf("the slowest lines name %d stalls, want 2:\n%s", strings.Count(got, "met a stall of"), got)
	}

	path := filepath.Join(t.TempDir(), "stalls.csv")
	if err := m.writeCSV(path, 100e6); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "at_us,late_us,queued_us,cpu,idle\n-5100000.0,1000.0,0.0,0,1\n1000.0,1500.0,0.0,0,0\n2000.0,500.0,100.0,15,0\n" +
		"101000.0,2000.0,1900.0,15,0\n400500.0,300.0,,0,0\n895000.0,300.0,0.0,0,0\n"
	if string(b) != want {
		t.Errorf("stalls.csv:\n%s\nwant\n%s", b, want)
	}
}

// TestOverheadStalls: the -overhead mode judges each worker's samples
// against its own row's p50.
func TestOverheadStalls(t *testing.T) {
	base := [len(legs)]int64{50e3, 10e3, 100e3, 5e3, 1000e3, 5e3, 50e3, 10e3, 50e3} // 1.28 ms
	var subs [2][]sample
	for i := range 20 {
		for w := range subs {
			d := base
			d[4] += int64(w) * 5e6 // the second worker is slower throughout
			if i == 5+w {
				d[0] += 1e6
			}
			subs[w] = append(subs[w], inference(int64(i)*20e6+int64(w)*10e6, d))
		}
	}
	rows := []*overheadRow{{model: "m", batch: 1, samples: subs[:]}}
	m := &machine{cpus: []int{0, 1}, period: time.Millisecond, threshold: 200 * time.Microsecond,
		stalls: stalls.NewSet([]stalls.Stall{{At: 5*20e6 + 0.5e6, Late: 0.4e6, Queued: 0, CPU: 1}})}
	got := overheadStalls(m, rows)
	for _, want := range []string{
		"End-to-end tails: 2 of 40 timed inferences took more than 1.15 × their row's p50 on their worker.\n",
		"the machine alone not watched; 1 while inferences were timed",
		"  slow inferences that met a stall: 1 of 2 (the largest they met: 0 busy, 1 not, 0 on more than one CPU at once); of all timed inferences: 1 of 40\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("overheadStalls lacks %q:\n%s", want, got)
		}
	}
	if overheadStalls(m, []*overheadRow{{model: "m", batch: 1}}) != "" {
		t.Error("a report without samples")
	}
}

// TestParseSteal reads /proc/stat's eighth count of its first line, in
// ticks of 10 ms, and refuses what is not that line.
func TestParseSteal(t *testing.T) {
	for _, c := range []struct {
		stat string
		want time.Duration
		ok   bool
	}{
		{"cpu  4705 150 1120 16250856 1543 0 41 37 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n", 370 * time.Millisecond, true},
		{"cpu  1 2 3 4 5 6 7\n", 0, false},   // a kernel before steal time
		{"cpu0 1 2 3 4 5 6 7 8\n", 0, false}, // not the sum over CPUs
		{"cpu  1 2 3 4 5 6 7 x\n", 0, false},
		{"", 0, false},
	} {
		got, ok := parseSteal(c.stat)
		if got != c.want || ok != c.ok {
			t.Errorf("parseSteal(%q) = %v, %v; want %v, %v", c.stat, got, ok, c.want, c.ok)
		}
	}
}
