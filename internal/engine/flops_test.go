package engine

import "testing"

func TestFlops(t *testing.T) {
	ref := func(shape ...int) TensorRef { return TensorRef{Shape: shape} }
	for _, c := range []struct {
		name string
		op   Op
		want float64
	}{
		// 2 images × 8 channels × 5 × 5 positions, each 3·3·3 taps (groups of 3 of 6 input channels).
		{"conv", &Conv{X: ref(2, 6, 7, 7), W: ref(8, 3, 3, 3), Y: ref(2, 8, 5, 5), Groups: 2}, 2 * 2 * 8 * 25 * 27},
		// 2 · 4 · 3 · 3 input elements, each adding to 5 · 2 · 2 outputs.
		{"conv transpose", &ConvTranspose{X: ref(2, 4, 3, 3), W: ref(4, 5, 2, 2), Y: ref(2, 5, 6, 6)}, 2 * 2 * 4 * 9 * 20},
		{"gemm", &Gemm{M: 3, N: 5, K: 7}, 2 * 3 * 5 * 7},
		{"batch matmul", &BatchMatMul{Batch: 4, M: 3, N: 5, K: 7}, 2 * 4 * 3 * 5 * 7},
		{"activation", &Activate{X: ref(1, 10), Y: ref(1, 10)}, 0},
		{"conv without weights' shape", &Conv{Y: ref(1, 1, 1, 1)}, 0},
	} {
		if got := Flops(c.op); got != c.want {
			t.Errorf("%s: %g flops, want %g", c.name, got, c.want)
		}
	}
}
