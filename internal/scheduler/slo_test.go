package scheduler

import (
	"math"
	"testing"
)

// TestSLO: b1 × a positive factor, capped at MaxSLO (NaN products too,
// such as a b1 of 0 times +Inf, which BASELINE made a deadline before its
// arrival); the default for a factor that is not positive.
func TestSLO(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	for _, tc := range []struct {
		b1     int64
		factor float32
		want   int64
	}{
		{3e6, 10, 30e6},
		{3e6, 0, 100e6},
		{3e6, -1, 100e6},
		{3e6, nan, 100e6},
		{3e6, inf, MaxSLO},
		{0, inf, MaxSLO},
		{1 << 40, 1e6, MaxSLO},
		{0, 5, 0},
	} {
		if got := SLO(100e6, tc.b1, tc.factor); got != tc.want {
			t.Errorf("SLO(100 ms, b1 %d, factor %g) = %d, want %d", tc.b1, tc.factor, got, tc.want)
		}
	}
	if got := SLO(1<<62, 3e6, 0); got != MaxSLO {
		t.Errorf("a default past MaxSLO: %d", got)
	}
}
