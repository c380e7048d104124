package clock

import (
	"testing"
	"time"
)

func TestNowIsMonotonicEpoch(t *testing.T) {
	a := Now()
	if d := a - time.Now().UnixNano(); d > int64(time.Second) || d < -int64(time.Second) {
		t.Fatalf("process clock %d is %v from wall time", a, time.Duration(d))
	}
	for i := 0; i < 1000; i++ {
		b := Now()
		if b < a {
			t.Fatal("clock went backwards")
		}
		a = b
	}
}

func TestFake(t *testing.T) {
	f := NewFake(5)
	if f.Now() != 5 || f.Advance(10) != 15 {
		t.Fatal("fake clock")
	}
	f.Set(3)
	if f.Now() != 3 {
		t.Fatal("Set")
	}
}

// TestAlarmRings checks that an alarm rings for waits below and above the
// precise horizon (possibly also earlier, for a superseded wake), and that
// Set(0) disarms it.
func TestAlarmRings(t *testing.T) {
	a := NewAlarm()
	for _, d := range []time.Duration{0, 200 * time.Microsecond, 2 * time.Millisecond, 5 * time.Millisecond} {
		wake := Now() + int64(d)
		a.Set(wake)
		for Now() < wake {
			select {
			case <-a.C:
				// An early ring (a superseded wake, or the sleeper of an
				// earlier one still running): re-arm, as owners do.
				a.Set(wake)
			case <-time.After(time.Second):
				t.Fatalf("wait of %v never rang", d)
			}
		}
	}
	// Rings of the waits above that came after their loop ended (owners
	// re-check what is due) are not the disarmed alarm's.
	time.Sleep(10 * time.Millisecond)
	for len(a.c) > 0 {
		<-a.C
	}
	a.Set(Now() + int64(50*time.Millisecond))
	a.Set(0)
	select {
	case <-a.C:
		t.Fatal("a disarmed alarm rang")
	case <-time.After(100 * time.Millisecond):
	}
}
