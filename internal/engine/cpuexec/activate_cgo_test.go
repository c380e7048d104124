//go:build cgo

package cpuexec

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// TestActivateISAs checks activate.c against Activation.Apply on every
// instruction set the CPU runs, over a sweep of inputs through where the
// exponentials overflow, with the special values among them and a slice
// length that leaves a tail: clip (ReLU, ReLU6), hard sigmoid and hard
// swish to the bit, exp, sigmoid and SiLU within 4 units in the last place (or
// 1e-37, where the true value is smaller than float32 resolves), erf and
// GELU within 4e-7 (times |x| beyond 1).
func TestActivateISAs(t *testing.T) {
	var xs []float32
	for x := -110.0; x <= 110; x += 0.0137 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), 1e-8, -1e-8, 1e-40, 87, -87, 88, -88, 89, -89, 3e38,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()))
	xs = xs[:len(xs)-len(xs)%16+13] // a tail of 13
	acts := []engine.Activation{
		{Kind: engine.ActRelu},
		{Kind: engine.ActClip, Min: 0, Max: 6},
		{Kind: engine.ActClip, Min: float32(math.Copysign(0, -1)), Max: 0},
		{Kind: engine.ActClip, Min: 0, Max: float32(math.Copysign(0, -1))},
		{Kind: engine.ActClip, Min: -0.5, Max: float32(math.NaN())},
		{Kind: engine.ActClip, Min: float32(math.NaN()), Max: float32(math.Inf(1))},
		{Kind: engine.ActClip, Min: float32(math.Inf(-1)), Max: -2},
		{Kind: engine.ActSigmoid},
		{Kind: engine.ActSilu},
		{Kind: engine.ActHardSigmoid, Alpha: 0.2, Beta: 0.5},
		{Kind: engine.ActHardSwish, Alpha: 1.0 / 6, Beta: 0.5},
		{Kind: engine.ActErf},
		{Kind: engine.ActGelu},
		{Kind: engine.ActExp},
	}
	for _, set := range isas() {
		for _, act := range acts {
			v := append([]float32(nil), xs...)
			activateWith(set, act, v)
			exps := act.Kind == engine.ActSigmoid || act.Kind == engine.ActSilu || act.Kind == engine.ActExp
			erfs := act.Kind == engine.ActErf || act.Kind == engine.ActGelu
			bad := 0
			for i, x := range xs {
				got, want := v[i], act.Apply(x)
				if got != got && want != want || math.Float32bits(got) == math.Float32bits(want) {
					continue
				}
				if exps && (ulps(got, want) <= 4 || math.Abs(float64(got-want)) <= 1e-37) {
					continue
				}
				if erfs && math.Abs(float64(got-want)) <= 4e-7*max(1, math.Abs(float64(x))) {
					continue
				}
				if bad++; bad <= 5 {
					t.Errorf("%v %v(%g) = %g (%#x), Apply gives %g (%#x)", set, act.Kind, x, got, math.Float32bits(got), want, math.Float32bits(want))
				}
			}
			if bad > 5 {
				t.Errorf("%v %v: %d of %d differ", set, act.Kind, bad, len(xs))
			}
		}
	}
}

// TestAffineISAs checks activate.c's scale and shift on every instruction
// set the CPU runs against affineGo, to the bit (two roundings, not a
// fused multiply-add), with NaN, infinities and both zeros among the
// inputs, scales and shifts, slices with tails, into another slice and in
// place.
func TestAffineISAs(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 3e38, 1e-40}
	pick := func() float32 {
		if rng.IntN(4) == 0 {
			return special[rng.IntN(len(special))]
		}
		return float32(rng.NormFloat64() * 3)
	}
	for range 200 {
		n := rng.IntN(100)
		x := make([]float32, n)
		for i := range x {
			x[i] = pick()
		}
		s, sh := pick(), pick()
		want := make([]float32, n)
		affineGo(x, want, s, sh)
		for _, set := range isas() {
			for _, inPlace := range []bool{false, true} {
				got := randoms(rng, n+1) // one past the slice: left alone
				last := got[n]
				if inPlace {
					copy(got, x)
					affineWith(set, got[:n], got, s, sh)
				} else {
					affineWith(set, x, got, s, sh)
				}
				if i := firstDiff(got, want); i >= 0 {
					t.Fatalf("%v (in place %v): %g·%g + %g = %g, Go gives %g", set, inPlace, x[i], s, sh, got[i], want[i])
				}
				if math.Float32bits(got[n]) != math.Float32bits(last) {
					t.Fatalf("%v: the float past %d written", set, n)
				}
			}
		}
	}
}

// TestLayerNormISAs checks layernorm.c on every instruction set the CPU
// runs against layerNormRowsGo, to the bit: rows of 1 to 200 floats (the
// eight lanes' tails), scale and bias each present or not, NaN,
// infinities, both zeros and floats near the largest among the inputs,
// into another slice and in place, the rows outside [lo, hi) left alone.
func TestLayerNormISAs(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 3e38, -3e38}
	for trial := range 300 {
		n, rows := 1+rng.IntN(200), 1+rng.IntN(4)
		lo := rng.IntN(rows)
		hi := lo + rng.IntN(rows-lo+1)
		x := make([]float32, rows*n)
		for i := range x {
			x[i] = float32(rng.NormFloat64()*2 + 1)
			if trial%3 == 0 && rng.IntN(50) == 0 {
				x[i] = special[rng.IntN(len(special))]
			}
		}
		var scale, bias []float32
		if rng.IntN(2) == 0 {
			scale = randoms(rng, n)
		}
		if rng.IntN(2) == 0 {
			bias = randoms(rng, n)
		}
		eps := float64(float32(1e-5))
		for _, inPlace := range []bool{false, true} {
			run := func(set isa) []float32 {
				y := append([]float32(nil), x...) // the rows outside [lo, hi) as they were
				if !inPlace {
					for i := range y {
						y[i] = 7
					}
				}
				src := x
				if inPlace {
					src = y
				}
				layerNormRowsWith(set, src, y, scale, bias, n, eps, lo, hi)
				return y
			}
			want := run(isaGo)
			for _, set := range isas() {
				got := run(set)
				if i := firstDiff(got, want); i >= 0 {
					t.Fatalf("%v (in place %v): rows [%d, %d) of %d×%d, scale %v, bias %v: [%d] = %g, Go gives %g",
						set, inPlace, lo, hi, rows, n, scale != nil, bias != nil, i, got[i], want[i])
				}
			}
		}
	}
}

// ulps is how many floats lie between a and b, both finite and of one sign.
func ulps(a, b float32) int64 {
	if math.Signbit(float64(a)) != math.Signbit(float64(b)) || math.IsInf(float64(a), 0) || math.IsInf(float64(b), 0) {
		return math.MaxInt64
	}
	d := int64(math.Float32bits(a)) - int64(math.Float32bits(b))
	return max(d, -d)
}

// BenchmarkActivate times SiLU and ReLU6 over 64 Ki floats (an
// EfficientNet activation map's size) on each instruction set the CPU runs,
// Go's loops ("go") beside activate.c's.
func BenchmarkActivate(b *testing.B) {
	v := make([]float32, 64<<10)
	for i := range v {
		v[i] = float32(i%200)/20 - 5
	}
	for _, act := range []engine.Activation{{Kind: engine.ActSilu}, {Kind: engine.ActClip, Min: 0, Max: 6}} {
		for _, set := range isas() {
			b.Run(act.Kind.String()+"/"+set.String(), func(b *testing.B) {
				for b.Loop() {
					activateWith(set, act, v)
				}
			})
		}
	}
}

// TestSoftmaxRowISAs checks activate.c's softmax of a row against
// softmaxRowGo on every instruction set the CPU runs: rows shorter than a
// vector and with tails, values far apart, masked (-inf) entries, and a
// row all masked (NaN, as in Go).
func TestSoftmaxRowISAs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	inf := float32(math.Inf(1))
	for _, n := range []int{1, 15, 16, 17, 64, 197, 1000} {
		for _, scale := range []float32{1, 30} {
			x := randoms(rng, n)
			for i := range x {
				x[i] *= scale
				if i%7 == 3 {
					x[i] = -inf
				}
			}
			want := make([]float32, n)
			softmaxRowGo(x, want)
			for _, set := range isas() {
				got := make([]float32, n)
				softmaxRowWith(set, x, got)
				for i := range want {
					if got[i] != got[i] && want[i] != want[i] {
						continue
					}
					if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-6*float64(want[i]) || d <= 1e-37) {
						t.Fatalf("%v n %d scale %g: [%d] = %g, Go gives %g", set, n, scale, i, got[i], want[i])
					}
				}
			}
		}
	}
	masked := []float32{-inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf}
	for _, set := range isas() {
		got := make([]float32, len(masked))
		softmaxRowWith(set, masked, got)
		if got[0] == got[0] || got[16] == got[16] {
			t.Errorf("%v: a row all -inf gave %v, want NaN as Go", set, got)
		}
	}
}

// BenchmarkSoftmaxRow times the softmax of ViT-B/16's attention rows (12
// heads × 197 rows of 197) on each instruction set the CPU runs.
func BenchmarkSoftmaxRow(b *testing.B) {
	const n, rows = 197, 12 * 197
	x, y := randoms(rand.New(rand.NewPCG(1, 2)), n*rows), make([]float32, n*rows)
	for _, set := range isas() {
		b.Run(set.String(), func(b *testing.B) {
			for b.Loop() {
				for r := range rows {
					softmaxRowWith(set, x[r*n:][:n], y[r*n:][:n])
				}
			}
		})
	}
}
