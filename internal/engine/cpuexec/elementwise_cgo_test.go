//go:build cgo

package cpuexec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// TestBinaryISAs checks elementwise.c against binaryGo, to the bit, on
// every instruction set the CPU runs: every operator over random
// geometries of one to four dimensions, each operand whole, broadcast
// (stride 0) or strided along the row, a third of them with A read across
// the rows as a Transpose reads it (elementwise.c's blocks of eight rows),
// rows longer than a chunk, any range of units, and values that include
// NaN, ±0, ±Inf and equal pairs: 300 geometries, 60 with -short (make
// asan, where each takes longer).
func TestBinaryISAs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 1, -1, 3e38}
	value := func() float32 {
		if rng.IntN(4) == 0 {
			return special[rng.IntN(len(special))]
		}
		return float32(rng.IntN(7) - 3) // small integers: equal pairs are common
	}
	ops := []engine.BinaryOp{engine.Add, engine.Mul, engine.Sub, engine.Div, engine.Max, engine.Min}
	trials := 300
	if testing.Short() {
		trials = 60
	}
	for trial := range trials {
		nd := 1 + rng.IntN(4)
		dims := make([]int, nd)
		for d := range dims {
			dims[d] = 1 + rng.IntN(5)
		}
		switch rng.IntN(6) {
		case 0:
			dims[nd-1] = chunk + 1 + rng.IntN(3*chunk) // several chunks a row
		case 1:
			dims[nd-1] = 1 + rng.IntN(100)
		}
		// Strides: an operand is laid out over dims, its size 1 (broadcast)
		// on a random subset of them; along the row a third stride,
		// neither 0 nor 1, reads every other element.
		strides := func() ([]int, int) {
			st := make([]int, nd)
			size := 1
			for d := nd - 1; d >= 0; d-- {
				if rng.IntN(3) == 0 {
					continue // broadcast
				}
				step := 1
				if d == nd-1 && rng.IntN(4) == 0 {
					step = 2
				}
				st[d] = size * step
				size *= dims[d] * step
			}
			return st, size
		}
		sa, na := strides()
		sb, nb := strides()
		if trial%3 == 0 && nd >= 2 { // a Transpose's: A read across the rows, B constant over the last two dims
			dims[nd-1] = 1 + rng.IntN(40)
			dims[nd-2] = 1 + rng.IntN(30)
			sa, na = make([]int, nd), 1
			sa[nd-2], sa[nd-1] = 1, dims[nd-2]
			na = dims[nd-2] * dims[nd-1]
			for d := nd - 3; d >= 0; d-- {
				sa[d] = na
				na *= dims[d]
			}
			sb, nb = make([]int, nd), 1
			if nd >= 3 && rng.IntN(2) == 0 {
				sb[nd-3], nb = 1, dims[nd-3]
			}
		}
		op := ops[rng.IntN(len(ops))]
		o := &engine.Binary{Op: op, Dims: dims, StrideA: sa, StrideB: sb,
			A: engine.TensorRef{Shape: []int{na}}, B: engine.TensorRef{Shape: []int{nb}}, Y: engine.TensorRef{Shape: dims}}
		kk, err := newBinary(o)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		k := kk.(*binaryKernel)
		a, b := make([]float32, na), make([]float32, nb)
		for i := range a {
			a[i] = value()
		}
		for i := range b {
			b[i] = value()
		}
		units := k.rows * k.nChunks
		lo := rng.IntN(units)
		hi := lo + 1 + rng.IntN(units-lo)
		if trial%6 == 0 { // a range about a block of eight rows long
			hi = min(units, lo+[]int{7, 8, 9, 15}[rng.IntN(4)])
		}
		want := make([]float32, k.rows*k.inner)
		k.binaryGo(a, b, want, lo, hi)
		for _, set := range isas() {
			got := make([]float32, len(want))
			k.binaryWith(set, a, b, got, lo, hi)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("trial %d, %v %v over dims %v, strides %v and %v, units [%d, %d): y[%d] = %g (%#x), Go gives %g (%#x)",
					trial, set, op, dims, sa, sb, lo, hi, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
	}
}

// BenchmarkBinary times a ConvNeXt block's layer scale (rows of 96
// channels by one vector), its residual Add (one long row) and its two
// Transposes (channels last, and back: Y = X·1, X read across the rows),
// Go's loops beside elementwise.c's.
func BenchmarkBinary(b *testing.B) {
	for _, c := range []struct {
		name   string
		op     engine.BinaryOp
		dims   []int
		sa, sb []int
		na, nb int
	}{
		{"scale-3136x96", engine.Mul, []int{3136, 96}, []int{96, 1}, []int{0, 1}, 3136 * 96, 96},
		{"residual-301056", engine.Add, []int{301056}, []int{1}, []int{1}, 301056, 301056},
		{"transpose-96x3136", engine.Mul, []int{3136, 96}, []int{1, 3136}, []int{0, 0}, 3136 * 96, 1},
		{"transpose-3136x96", engine.Mul, []int{96, 3136}, []int{1, 96}, []int{0, 0}, 3136 * 96, 1},
	} {
		o := &engine.Binary{Op: c.op, Dims: c.dims, StrideA: c.sa, StrideB: c.sb,
			A: engine.TensorRef{Shape: []int{c.na}}, B: engine.TensorRef{Shape: []int{c.nb}}, Y: engine.TensorRef{Shape: c.dims}}
		kk, err := newBinary(o)
		if err != nil {
			b.Fatal(err)
		}
		k := kk.(*binaryKernel)
		x, w, y := make([]float32, c.na), make([]float32, c.nb), make([]float32, k.rows*k.inner)
		for _, set := range isas() {
			b.Run(fmt.Sprintf("%s/%v", c.name, set), func(b *testing.B) {
				for b.Loop() {
					k.binaryWith(set, x, w, y, 0, k.rows*k.nChunks)
				}
			})
		}
	}
}
