package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// inference is a sample sent at t (ns) whose legs (ns, in the order of
// legs) are d.
func inference(t int64, d [len(legs)]int64) sample {
	var st [len(legs) + 1]int64
	st[0] = t
	for i, v := range d {
		st[i+1] = st[i] + v
	}
	return sample{sent: st[0], arrived: st[9], r: &workerapi.InferResult{
		ActionReceived: uint64(st[1]),
		CopyInput:      workerapi.Timing{Begin: uint64(st[2]), End: uint64(st[3])},
		Exec:           workerapi.Timing{Begin: uint64(st[4]), End: uint64(st[5])},
		CopyOutput:     workerapi.Timing{Begin: uint64(st[6]), End: uint64(st[7])},
		ResultSent:     uint64(st[8]),
	}}
}

func TestAnatomy(t *testing.T) {
	base := [len(legs)]int64{50e3, 10e3, 100e3, 5e3, 1000e3, 5e3, 50e3, 10e3, 50e3} // 1.28 ms
	r := &row{batch: 1}
	for i := range 1000 {
		d := base
		switch i {
		case 100, 101: // a burst: copy-input held up by 1 ms
			d[2] += 1e6
		case 700: // alone, during a collection: the result's way back
			d[8] += 3e6
		case 800: // slower, but within 1.15 × p50
			d[4] += 100e3
		case 300, 400, 450: // the way to the worker: in gpucheck's write at 300
			d[0] += 1e6
		}
		r.samples = append(r.samples, inference(int64(i)*10e6, d))
		s := &r.samples[i]
		s.harnessGC = i == 101 || i == 500
		s.written = s.sent + 20e3
		switch i {
		case 300:
			s.written += 900e3
		case 400: // not known
			s.written = 0
		}
	}
	runs := []*modelRun{{name: "m", rows: []*row{r}}}
	gcs := []gcEvent{{at: 700*10e6 + 1e6, dur: 500e3}, {at: 20e9, dur: 1e6}} // the second after the run
	got := anatomy(runs, gcs, nil)
	for _, want := range []string{
		"6 of 1000 timed inferences took more than 1.15",
		"send → worker          3      3.00 ms    1.000 ms",
		"of the 3 charged to send → worker, gpucheck's write (until the socket took the whole action) grew by more than half as much in 1; 1 have no write stamp\n",
		"copy-input             2      2.00 ms    1.000 ms",
		"→ caller               1      3.00 ms    3.000 ms",
		"they came in 5 bursts",
		"worker garbage collections: 2, 1 of them while inferences were timed; slow inferences that met one: 1",
		"gpucheck's own garbage collections during an inference: 2, of them during a slow one: 1",
		"m b1 #700: 4.28 ms, 3.34 × p50",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("anatomy lacks %q:\n%s", want, got)
		}
	}
	t.Log(got)
	if anatomy(nil, gcs, nil) != "" {
		t.Error("an anatomy without samples")
	}
}

func TestParseGC(t *testing.T) {
	g, ok := parseGC("gc 7 @9.125s 1%: 0.020+1.5+0.030 ms clock, 0.16+0.5/2.1/0+0.24 ms cpu, 4->5->2 MB, 5 MB goal, 0 MB stacks, 0 MB globals, 16 P", 1e9)
	if !ok || g.at != 10_125_000_000 || g.dur != 1_550_000 {
		t.Errorf("parseGC = %+v, %v", g, ok)
	}
	if _, ok := parseGC("cuda: ops gpu=0", 0); ok {
		t.Error("a console line parsed as a collection")
	}
}

func TestWithGCTrace(t *testing.T) {
	if env := withGCTrace([]string{"A=1"}); !slices.Equal(env, []string{"A=1", "GODEBUG=gctrace=1"}) {
		t.Errorf("withGCTrace = %v", env)
	}
	in := []string{"GODEBUG=madvdontneed=1", "B=2"}
	if env := withGCTrace(in); !slices.Equal(env, []string{"GODEBUG=gctrace=1,madvdontneed=1", "B=2"}) || in[0] != "GODEBUG=madvdontneed=1" {
		t.Errorf("withGCTrace = %v (input now %v)", env, in)
	}
}
