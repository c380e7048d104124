package workload

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestFixedRate(t *testing.T) {
	e, clock, _ := virtualEngine(0)
	m := &fakeModel{clock: clock, size: 16}
	e.Add(NewFixedRate(0, m, 0, 100))
	run(t, e, 10*time.Second)
	// Arrivals at 10 ms, 20 ms, …; the one due at 10 s ties with the stop.
	if n := m.requests(); n < 999 || n > 1000 {
		t.Errorf("%d requests in 10 s at 100 r/s", n)
	}
	for i := 1; i < len(m.sent); i++ {
		if d := m.sent[i] - m.sent[i-1]; d != 10*time.Millisecond {
			t.Fatalf("gap %d = %v, want 10ms", i, d)
		}
	}
}

func TestPoissonRate(t *testing.T) {
	for seed := range uint64(3) {
		e, clock, _ := virtualEngine(seed)
		m := &fakeModel{clock: clock, size: 16}
		e.Add(NewPoisson(0, m, seed, 200))
		run(t, e, 100*time.Second)
		n := float64(m.requests())
		if !within(n, 20000, 5) {
			t.Errorf("seed %d: %v requests in 100 s at 200 r/s", seed, n)
		}
		// Exponential gaps: coefficient of variation ≈ 1.
		var sum, sq float64
		for i := 1; i < len(m.sent); i++ {
			g := (m.sent[i] - m.sent[i-1]).Seconds()
			sum += g
			sq += g * g
		}
		k := float64(len(m.sent) - 1)
		mean := sum / k
		if cv := math.Sqrt(sq/k-mean*mean) / mean; cv < 0.95 || cv > 1.05 {
			t.Errorf("seed %d: inter-arrival CV %.3f, want ≈1", seed, cv)
		}
	}
}

func TestSameSeedSameSchedule(t *testing.T) {
	times := func(seed uint64) []time.Duration {
		e, clock, _ := virtualEngine(seed)
		m := &fakeModel{clock: clock, size: 16}
		e.Add(NewPoisson(0, m, 3, 50))
		run(t, e, 10*time.Second)
		return m.sent
	}
	a, b, c := times(1), times(1), times(2)
	if len(a) != len(b) || a[len(a)-1] != b[len(b)-1] {
		t.Error("equal seeds gave different schedules")
	}
	if len(a) == len(c) && a[len(a)-1] == c[len(c)-1] {
		t.Error("different engine seeds gave the same schedule")
	}
}

func TestSetRatePausesAndRestarts(t *testing.T) {
	e, clock, out := virtualEngine(0)
	m := &fakeModel{clock: clock, size: 16}
	loop := NewFixedRate(0, m, 0, 0)
	e.Add(loop)
	e.Add(AdjustRate(10*time.Second, 0, []*OpenLoop{loop}, step("add", 10), above(25)))
	run(t, e, 0)
	// 0 r/s for 10 s, 10 r/s for 10 s, 20 r/s for 10 s, then 30 > 25 stops.
	if n := m.requests(); n < 298 || n > 302 {
		t.Errorf("%d requests, want ≈300", n)
	}
	if m.sent[0] < 10*time.Second {
		t.Errorf("first request at %v, during the paused period", m.sent[0])
	}
	want := "Updating rate to 10\nUpdating rate to 20\nTerminating engine\n"
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
	if clock.Now() != 30*time.Second {
		t.Errorf("stopped at %v, want 30s", clock.Now())
	}
}

func TestTraceReplayRatesPerInterval(t *testing.T) {
	counts := []uint32{60, 0, 600, 120}
	const interval, cycles, scale = 10 * time.Second, 100, 2.0
	e, clock, _ := virtualEngine(0)
	m := &fakeModel{clock: clock, size: 16}
	e.Add(&TraceReplay{ID: 0, Model: m, Seed: 5, Counts: counts, Scale: scale, Interval: interval})
	run(t, e, interval*time.Duration(len(counts)*cycles))
	per := make([]float64, len(counts))
	for _, at := range m.sent {
		per[int(at/interval)%len(counts)]++
	}
	for k, c := range counts {
		want := float64(c) * scale / 60 * interval.Seconds() * cycles
		if c == 0 && per[k] != 0 || !within(per[k], want, 5) {
			t.Errorf("interval %d (count %d): %v arrivals over %d cycles, want %v", k, c, per[k], cycles, want)
		}
	}
}

func TestTraceReplayCarriesGapsAcrossShortIntervals(t *testing.T) {
	// Intervals far shorter than the gaps: every gap crosses many
	// boundaries and must be rescaled at each. Mean rate (1+100)/2 r/s.
	e, clock, _ := virtualEngine(0)
	m := &fakeModel{clock: clock, size: 16}
	e.Add(&TraceReplay{Model: m, Seed: 1, Counts: []uint32{60, 6000}, Scale: 1, Interval: time.Millisecond})
	run(t, e, 400*time.Second)
	if n := float64(m.requests()); !within(n, 50.5*400, 5) {
		t.Errorf("%v arrivals in 400 s, want ≈%v", n, 50.5*400)
	}
}

func TestTraceReplayScaleChangesRate(t *testing.T) {
	e, clock, out := virtualEngine(0)
	m := &fakeModel{clock: clock, size: 16}
	r := &TraceReplay{Model: m, Seed: 2, Counts: []uint32{600}, Scale: 1, Interval: time.Minute}
	e.Add(r)
	e.Add(AdjustScale(100*time.Second, 1, []*TraceReplay{r}, step("mul", 4), above(10)))
	run(t, e, 0)
	// 10 r/s for 100 s, then 40 r/s for 100 s; 16 > 10 stops at 200 s.
	first, second := 0.0, 0.0
	for _, at := range m.sent {
		if at < 100*time.Second {
			first++
		} else {
			second++
		}
	}
	if !within(first, 1000, 5) || !within(second, 4000, 5) {
		t.Errorf("arrivals %v then %v, want ≈1000 then ≈4000", first, second)
	}
	if want := ">>>> Updating scale_factor to 4\nTerminating engine\n"; out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
}

func TestTraceReplayRandomStartIsRandom(t *testing.T) {
	// Only interval 0 of 10 has arrivals (100 r/s); from interval 0 every
	// replay's first arrival is within the first second, from a random
	// start it can be in any of the 10 seconds.
	counts := make([]uint32, 10)
	counts[0] = 6000
	seconds := func(random bool) map[int]bool {
		e, clock, _ := virtualEngine(0)
		var ms []*fakeModel
		for i := range 50 {
			m := &fakeModel{clock: clock, size: 16}
			ms = append(ms, m)
			e.Add(&TraceReplay{ID: int32(i), Model: m, Seed: uint64(i), Counts: counts, Scale: 1,
				Interval: time.Second, RandomStart: random})
		}
		run(t, e, 11*time.Second)
		seen := map[int]bool{}
		for _, m := range ms {
			seen[int(m.sent[0]/time.Second)] = true
		}
		return seen
	}
	if s := seconds(false); len(s) != 1 || !s[0] {
		t.Errorf("without random start, first arrivals in seconds %v, want only 0", s)
	}
	if s := seconds(true); len(s) < 6 {
		t.Errorf("with random start, first arrivals in only %d distinct seconds: %v", len(s), s)
	}
}

func TestClosedLoopLimitAndConcurrency(t *testing.T) {
	for _, fail := range []error{nil, errors.New("clockwork status 1: failed")} {
		e, clock, _ := virtualEngine(0)
		var ms []Model
		var fakes []*fakeModel
		for i := range 3 {
			m := &fakeModel{id: uint32(i), clock: clock, size: 16, delay: 10 * time.Millisecond, err: fail}
			ms, fakes = append(ms, m), append(fakes, m)
		}
		e.Add(&ClosedLoop{ID: 3, Models: ms, Concurrency: 4, Requests: 100})
		run(t, e, 0) // ends by itself
		total := 0
		var sent []time.Duration
		for _, m := range fakes {
			total += m.requests()
			sent = append(sent, m.sent...)
			if m.outstanding != 0 {
				t.Errorf("model %d: %d requests still outstanding", m.id, m.outstanding)
			}
		}
		if total != 100 {
			t.Errorf("err=%v: sent %d requests, want 100", fail, total)
		}
		if fakes[0].requests() != 34 || fakes[1].requests() != 33 || fakes[2].requests() != 33 {
			t.Errorf("round robin gave %d/%d/%d", fakes[0].requests(), fakes[1].requests(), fakes[2].requests())
		}
		// Every request takes 10 ms: those sent in (s-10ms, s] are
		// outstanding at s.
		for _, s := range sent {
			n := 0
			for _, o := range sent {
				if o > s-10*time.Millisecond && o <= s {
					n++
				}
			}
			if n > 4 {
				t.Fatalf("%d requests outstanding at %v, concurrency 4", n, s)
			}
		}
		if clock.Now() != 250*time.Millisecond {
			t.Errorf("ended at %v, want 250ms (25 rounds of 10ms)", clock.Now())
		}
	}
}

func TestClosedLoopOutstandingNeverExceedsConcurrency(t *testing.T) {
	e, clock, _ := virtualEngine(0)
	m := &fakeModel{clock: clock, size: 16, delay: 3 * time.Millisecond}
	e.Add(&ClosedLoop{Models: []Model{m}, Concurrency: 8})
	run(t, e, time.Second)
	if m.maxOut != 8 {
		t.Errorf("max outstanding %d, want 8", m.maxOut)
	}
	if n := m.requests(); n < 8*333 || n > 8*334 {
		t.Errorf("%d requests in 1 s with 8 × 3 ms loops", n)
	}
}

// cancelAfter is a model that cancels a context at its nth request.
type cancelAfter struct {
	*fakeModel
	n      int
	cancel func()
}

func (m cancelAfter) InferAsync(input []byte, compressed bool, done func([]byte, error)) {
	m.fakeModel.InferAsync(input, compressed, done)
	if m.requests() == m.n {
		m.cancel()
	}
}

// TestClosedLoopLargeConcurrencyStops interrupts a closed loop while it
// sends its first of a million requests: the engine stops after the
// callback that was sending, not after the million. With a concurrency
// of 2,500 and requests answered after the first steps, the loop keeps
// 2,500 outstanding all the same.
func TestClosedLoopLargeConcurrencyStops(t *testing.T) {
	e, clock, _ := virtualEngine(0)
	ctx, cancel := context.WithCancel(context.Background())
	m := cancelAfter{&fakeModel{clock: clock, size: 16, delay: time.Hour}, 1500, cancel}
	e.Add(&ClosedLoop{Models: []Model{m}, Concurrency: 1_000_000})
	if err := e.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
	if n := m.requests(); n != 2*firstSteps {
		t.Errorf("%d requests sent before stopping, want %d", n, 2*firstSteps)
	}

	e, clock, _ = virtualEngine(0)
	f := &fakeModel{clock: clock, size: 16, delay: time.Millisecond}
	e.Add(&ClosedLoop{Models: []Model{f}, Concurrency: 2500, Requests: 10_000})
	run(t, e, 0)
	if f.maxOut != 2500 || f.requests() != 10_000 || f.outstanding != 0 {
		t.Errorf("max outstanding %d, %d requests, %d left; want 2500, 10000, 0", f.maxOut, f.requests(), f.outstanding)
	}
}

func TestClosedLoopJitter(t *testing.T) {
	e, clock, out := virtualEngine(0)
	m := &fakeModel{clock: clock, size: 16, delay: time.Millisecond}
	e.Add(&ClosedLoop{ID: 7, Models: []Model{m}, Concurrency: 1, Requests: 1, Jitter: 10 * time.Second})
	run(t, e, 0)
	if m.sent[0] != 10*time.Second {
		t.Errorf("first request at %v, want 10s", m.sent[0])
	}
	if want := "Model 7's start delayed by 10 seconds\n"; out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
}

func TestBurstyOpenLoop(t *testing.T) {
	inBurst, total := 0, 0.0
	const n = 100
	for seed := range uint64(n) {
		e, clock, _ := virtualEngine(0)
		m := &fakeModel{clock: clock, size: 16}
		e.Add(&BurstyOpenLoop{Model: m, Seed: seed, Rate: 20, Burst: 10 * time.Second, Idle: 20 * time.Second})
		run(t, e, 300*time.Second)
		if len(m.sent) > 0 && m.sent[0] == 0 {
			inBurst++
		}
		total += float64(m.requests())
	}
	// On average a third of the time is burst: ≈ 20 × 300/3 per run.
	if mean := total / n; mean < 0.8*2000 || mean > 1.2*2000 {
		t.Errorf("mean %v requests per 300 s run, want ≈2000", mean)
	}
	// The phase is uniform over burst+idle: about a third start in a burst.
	if f := float64(inBurst) / n; f < 0.2 || f > 0.5 {
		t.Errorf("%.2f of runs start in a burst, want ≈1/3", f)
	}
}

func TestBurstyClosedLoop(t *testing.T) {
	inBurst, total := 0, 0.0
	const n = 100
	for seed := range uint64(n) {
		e, clock, _ := virtualEngine(0)
		m := &fakeModel{clock: clock, size: 16, delay: 50 * time.Millisecond}
		e.Add(&BurstyClosedLoop{Model: m, Concurrency: 2, Seed: seed, Burst: 10 * time.Second, Idle: 20 * time.Second})
		run(t, e, 300*time.Second)
		if m.maxOut > 2 {
			t.Fatalf("seed %d: %d outstanding, concurrency 2", seed, m.maxOut)
		}
		if len(m.sent) > 0 && m.sent[0] == 0 {
			inBurst++
		}
		total += float64(m.requests())
	}
	// Saturated, the loop sends 40 r/s; bursts are a third of the time.
	if mean := total / n; mean < 0.8*4000 || mean > 1.2*4000 {
		t.Errorf("mean %v requests per 300 s run, want ≈4000", mean)
	}
	if f := float64(inBurst) / n; f < 0.2 || f > 0.5 {
		t.Errorf("%.2f of runs start in a burst, want ≈1/3", f)
	}
}

func TestAdjustSLOSetsInitialFactorAtOnce(t *testing.T) {
	e, clock, out := virtualEngine(0)
	m := &fakeModel{clock: clock, size: 16, delay: time.Second}
	e.Add(&ClosedLoop{Models: []Model{m}, Concurrency: 1})
	e.Add(AdjustSLO(2*time.Second, 2, []Model{m}, step("mul", 2), above(16)))
	run(t, e, 0)
	if m.slos[0] != 2 {
		t.Errorf("first request carried SLO factor %v, want 2", m.slos[0])
	}
	if m.slos[len(m.slos)-1] != 16 {
		t.Errorf("last request carried SLO factor %v, want 16", m.slos[len(m.slos)-1])
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{"Updating slo_factor to 4", "Updating slo_factor to 8", "Updating slo_factor to 16", "Terminating engine"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("printed %q, want %q", lines, want)
	}
	if clock.Now() != 8*time.Second {
		t.Errorf("terminated at %v, want 8s", clock.Now())
	}
}
