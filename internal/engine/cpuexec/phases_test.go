package cpuexec

import (
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// TestPhasesFit checks that the phases' layout stays of the order of the
// planes it serves: a stride past a single output row or column lays out
// one phase; a depthwise convolution padded far past its input runs as a
// GEMM per group instead, with scratch of a tile (TestOperators runs both
// ops against the reference); a window as large as its padding is not
// laid out, nor its taps listed.
func TestPhasesFit(t *testing.T) {
	pool := &engine.Pool{
		Mode:    engine.PoolMax,
		X:       engine.TensorRef{Region: engine.IO, Shape: []int{1, 3, 8, 8}},
		Y:       engine.TensorRef{Region: engine.IO, Shape: []int{1, 3, 1, 1}},
		KernelH: 2, KernelW: 2, StrideH: 65536, StrideW: 65536, DilationH: 1, DilationW: 1,
	}
	k, work, err := newPool(pool)
	if err != nil {
		t.Fatal(err)
	}
	// The phase (as floats, and again as a max pool's keys), the output's
	// row, and a vector's slack after each of the two: 42 floats.
	if p := k.(*poolKernel).ph; p == nil || p.sh != 1 || p.sw != 1 || work > 2*(4+16)+2 {
		t.Errorf("max pool of stride 65,536 over 8 × 8: phases %+v, %d floats of scratch; want one phase of 2 × 2", p, work)
	}

	const pad, dil = 200, 150
	oh := 1 + 2*pad - 2*dil
	conv := &engine.Conv{
		X:       engine.TensorRef{Region: engine.IO, Shape: []int{1, 2, 1, 1}},
		W:       engine.TensorRef{Region: engine.Weights, Shape: []int{2, 1, 3, 3}},
		Y:       engine.TensorRef{Region: engine.IO, Shape: []int{1, 2, oh, oh}},
		KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, DilationH: dil, DilationW: dil,
		PadTop: pad, PadLeft: pad, PadBottom: pad, PadRight: pad, Groups: 2,
	}
	if p := newPhases(1, 1, oh, oh, 3, 3, 1, 1, dil, dil, pad, pad); p != nil {
		t.Fatalf("phases of %d floats laid out for planes of 1 and %d", p.size(), oh*oh)
	}
	// A pool's window as large as its padding, which has no weights to
	// bound it: 2⁴⁸ taps, had they been listed.
	const huge = 1 << 24
	if p := newPhases(1, 1, 1, 1, huge, huge, 1, 1, 1, 1, huge/2, huge/2); p != nil {
		t.Fatalf("phases of %d floats laid out for a %d × %d window over one float", p.size(), huge, huge)
	}
	kern, work, err := newConv(conv)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := kern.(*convKernel); !ok || work > 1<<20 {
		t.Errorf("depthwise padded by %d: %T with %d floats of scratch; want the GEMM's", pad, kern, work)
	}
}
