package stalls

import (
	"os"
	"runtime"
	"slices"
	"testing"
	"time"
)

// scripted is a thread on a fake clock whose sleeps overrun by the
// lateness and run-queue waits its script gives, one pair a sleep; the
// probe stops when the script ends.
type scripted struct {
	p      *Probe
	t, q   int64
	script [][2]int64 // lateness, of which queued (ns)
}

func (th *scripted) now() int64 { return th.t }

func (th *scripted) sleep(d time.Duration) {
	step := th.script[0]
	th.script = th.script[1:]
	th.t += int64(d) + step[0]
	th.q += step[1]
	if len(th.script) == 0 {
		th.p.stop.Store(true)
	}
}

func (th *scripted) queued() int64 { return th.q }

func TestWatchRecordsLateWakes(t *testing.T) {
	p := &Probe{cfg: Config{Period: time.Millisecond, Threshold: 200 * time.Microsecond}}
	th := &scripted{p: p, t: 1e9, script: [][2]int64{
		{10e3, 10e3},    // on time: 10 µs late
		{200e3, 0},      // at the threshold: not a stall
		{2e6, 1.9e6},    // 2 ms, nearly all in the run queue
		{50e3, 0},       //
		{5e6, 100e3},    // 5 ms, 0.1 ms of it queued
		{300e3, 150e3},  // half queued: busy
		{1000e3, 499e3}, // just under half: not
	}}
	p.watch(th, 3)
	want := []Stall{
		{At: 1e9 + 10e3 + 200e3 + 3e6, Late: 2e6, Queued: 1.9e6, CPU: 3},
		{At: 1e9 + 10e3 + 200e3 + 2e6 + 50e3 + 5e6, Late: 5e6, Queued: 100e3, CPU: 3},
		{At: 1e9 + 10e3 + 200e3 + 2e6 + 50e3 + 5e6 + 6e6, Late: 300e3, Queued: 150e3, CPU: 3},
		{At: 1e9 + 10e3 + 200e3 + 2e6 + 50e3 + 5e6 + 300e3 + 7e6, Late: 1000e3, Queued: 499e3, CPU: 3},
	}
	if got := p.Stalls(); !slices.Equal(got, want) {
		t.Errorf("stalls:\n got %+v\nwant %+v", got, want)
	}
	if p.Wakes() != 7 {
		t.Errorf("wakes %d, want 7", p.Wakes())
	}
	var busy []bool
	for _, s := range want {
		busy = append(busy, s.Busy())
	}
	if !slices.Equal(busy, []bool{true, false, true, false}) {
		t.Errorf("busy %v", busy)
	}
	if (Stall{Late: 1e6, Queued: -1}).Busy() {
		t.Error("a stall with an unknown queue wait counts as busy")
	}
}

func TestWithinAndTogether(t *testing.T) {
	a := Stall{At: 100, Late: 50, CPU: 0}  // [100, 150]
	b := Stall{At: 140, Late: 100, CPU: 1} // [140, 240]
	c := Stall{At: 300, Late: 10, CPU: 1}  // [300, 310]
	d := Stall{At: 305, Late: 10, CPU: 1}  // same CPU as c
	set := NewSet([]Stall{d, c, b, a})
	for _, tc := range []struct {
		lo, hi int64
		want   []Stall
	}{
		{150, 299, []Stall{a, b}},
		{0, 99, nil},
		{0, 100, []Stall{a}},
		{241, 299, nil},
		{240, 240, []Stall{b}},
		{200, 1000, []Stall{b, c, d}},
		{311, 1000, []Stall{d}},
		{316, 1000, nil},
	} {
		if got := set.Within(tc.lo, tc.hi); !slices.Equal(got, tc.want) {
			t.Errorf("Within [%d, %d] = %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
	for _, tc := range []struct {
		s    Stall
		want bool
	}{{a, true}, {b, true}, {c, false}, {d, false}} {
		if got := set.Together(tc.s); got != tc.want {
			t.Errorf("Together(%+v) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

// TestProbeRuns runs a real probe briefly: its threads wake, and whatever
// it saw is well formed. (Whether this machine stalls is not asserted.)
func TestProbeRuns(t *testing.T) {
	p, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	p.Stop()
	if len(p.CPUs()) == 0 || p.Wakes() < int64(len(p.CPUs())) {
		t.Fatalf("%d wakes on CPUs %v", p.Wakes(), p.CPUs())
	}
	_, err = os.Stat("/proc/thread-self/schedstat")
	known := runtime.GOOS == "linux" && err == nil
	for _, s := range p.Stalls() {
		if s.Late <= int64(DefaultThreshold) || !slices.Contains(p.CPUs(), s.CPU) {
			t.Errorf("stall %+v", s)
		}
		if known != (s.Queued >= 0) {
			t.Errorf("stall %+v: run-queue wait known %v, want %v", s, s.Queued >= 0, known)
		}
	}
	t.Logf("%d wakes on CPUs %v in 100 ms, %d stalls", p.Wakes(), p.CPUs(), len(p.Stalls()))
}

func TestStartRefusesABadCPU(t *testing.T) {
	if _, err := Start(Config{CPUs: []int{1 << 20}}); err == nil {
		t.Error("a probe pinned to CPU 1048576 started")
	}
}
