package workload

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

func TestTimersRunInOrderWithoutDrift(t *testing.T) {
	e, _, _ := virtualEngine(0)
	var order []int
	var ticks int
	var tick func()
	tick = func() {
		ticks++
		if ticks < 1000 {
			e.SetTimeout(time.Millisecond, tick)
		}
	}
	e.Add(workloadFunc(func(e *Engine) {
		e.SetTimeout(5*time.Second, func() { order = append(order, 2) })
		e.SetTimeout(time.Second, func() { order = append(order, 1) })
		e.SetTimeout(5*time.Second, func() { order = append(order, 3) })
		e.SetTimeout(0, func() { order = append(order, 0) })
		e.SetTimeout(time.Millisecond, tick)
	}))
	run(t, e, 10*time.Second)
	if want := []int{0, 1, 2, 3}; !equal(order, want) {
		t.Errorf("timers ran in order %v, want %v", order, want)
	}
	if ticks != 1000 {
		t.Errorf("chained timer ran %d times, want 1000", ticks)
	}
	if e.Now() != 10*time.Second {
		t.Errorf("stopped at %v, want 10s", e.Now())
	}
}

func TestChainedTimersKeepSpacingWhenLate(t *testing.T) {
	// A real clock that is 5 s ahead of the first timer: the engine runs
	// the overdue chain back to back, but each callback sees its own time.
	clock := &Virtual{now: 0}
	e := NewEngine(Options{Clock: clock})
	var seen []time.Duration
	var tick func()
	tick = func() {
		seen = append(seen, e.Now())
		if len(seen) < 5 {
			e.SetTimeout(100*time.Millisecond, tick)
		}
	}
	e.Add(workloadFunc(func(e *Engine) {
		clock.now = 5 * time.Second // the engine fell behind
		e.SetTimeout(100*time.Millisecond, tick)
	}))
	run(t, e, time.Minute)
	for i, at := range seen {
		if want := time.Duration(i+1) * 100 * time.Millisecond; at != want {
			t.Errorf("tick %d saw Now=%v, want %v", i, at, want)
		}
	}
}

func TestRunEndsWhenFiniteWorkloadsAreDone(t *testing.T) {
	e, clock, _ := virtualEngine(0)
	e.Add(workloadFunc(func(e *Engine) { e.SetTimeout(3*time.Second, e.Done) }))
	e.Add(workloadFunc(func(e *Engine) { e.SetTimeout(7*time.Second, e.Done) }))
	run(t, e, 0)
	if clock.Now() != 7*time.Second {
		t.Errorf("ended at %v, want 7s", clock.Now())
	}
}

func TestAddAfterDelaysStart(t *testing.T) {
	e, _, _ := virtualEngine(0)
	var started time.Duration
	e.AddAfter(workloadFunc(func(e *Engine) { started = e.Now(); e.Done() }), 42*time.Second)
	run(t, e, 0)
	if started != 42*time.Second {
		t.Errorf("started at %v, want 42s", started)
	}
}

func TestVirtualStallAndCancel(t *testing.T) {
	e, _, _ := virtualEngine(0)
	e.Add(workloadFunc(func(*Engine) {})) // never finishes, schedules nothing
	if err := e.Run(context.Background()); !errors.Is(err, ErrStalled) {
		t.Errorf("Run = %v, want ErrStalled", err)
	}
	e, _, _ = virtualEngine(0)
	e.Add(NewFixedRate(0, &fakeModel{clock: new(Virtual), size: 4}, 0, 1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Run(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

func TestRealClockRunsAndStops(t *testing.T) {
	e := NewEngine(Options{})
	n := 0
	e.Add(workloadFunc(func(e *Engine) {
		var tick func()
		tick = func() {
			if n++; n == 5 {
				e.Done()
				return
			}
			e.SetTimeout(2*time.Millisecond, tick)
		}
		tick()
	}))
	start := time.Now()
	if err := e.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 8*time.Millisecond || d > 5*time.Second {
		t.Errorf("4 ticks of 2ms took %v", d)
	}
}

func TestInferCarriesWorkloadUserID(t *testing.T) {
	e, clock, _ := virtualEngine(0)
	m := &fakeModel{clock: clock, size: 602112, delay: time.Millisecond}
	e.Add(NewFixedRate(7, m, 0, 10))
	e.Add(NewFixedRate(9, m, 0, 10))
	run(t, e, 1050*time.Millisecond)
	seen := map[int32]int{}
	for _, u := range m.users {
		seen[u]++
	}
	if seen[7] != 10 || seen[9] != 10 || len(seen) != 2 {
		t.Errorf("requests per user id = %v, want 10 each of 7 and 9", seen)
	}
}

func TestInputsAreCompressedAndReused(t *testing.T) {
	in := newInputs(NewEngine(Options{}).Rand(1))
	a := in.get(602112)
	if len(a) == 0 || len(in.bySize[602112]) != inputVariants {
		t.Fatalf("got %d bytes, %d variants", len(a), len(in.bySize[602112]))
	}
	for range 20 {
		in.get(602112)
	}
	if len(in.bySize) != 1 {
		t.Errorf("made inputs for %d sizes, want 1", len(in.bySize))
	}
	if b := in.get(3); len(b) == 0 {
		t.Error("no input for a 3-byte model")
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// within reports whether got is within k standard deviations of a Poisson
// count with mean want.
func within(got, want, k float64) bool { return math.Abs(got-want) <= k*math.Sqrt(want) }
