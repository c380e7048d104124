package cpuexec

import (
	"math"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// TestActivateIsApply checks that activateGo's loops for the common
// activations compute what Activation.Apply does, to the bit, NaN and
// infinities included (TestActivateISAs checks activate.c's).
func TestActivateIsApply(t *testing.T) {
	xs := []float32{0, -0, 1, -1, 0.5, -2.5, 3, 6.5, -7, 20, -20, 88, -88, 104, -104, 1e-8, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	n := 0
	for k := engine.ActNone; !strings.HasPrefix(k.String(), "ActKind("); k++ {
		n++
		act := engine.Activation{Kind: k, Min: -1.5, Max: 2.5, Alpha: 0.2, Beta: 0.5}
		if k == engine.ActHardSwish {
			act.Alpha = 1.0 / 6
		}
		v := append([]float32(nil), xs...)
		activateGo(act, v)
		for i, x := range xs {
			want := x
			if k != engine.ActNone {
				want = act.Apply(x)
			}
			if math.Float32bits(v[i]) != math.Float32bits(want) && !(v[i] != v[i] && want != want) {
				t.Errorf("%s(%g) = %g, Apply gives %g", k, x, v[i], want)
			}
		}
	}
	if n <= int(engine.ActSilu) {
		t.Errorf("%d activations checked", n)
	}
}
