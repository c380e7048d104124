package cpuexec

import (
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// TestConvTiles checks that a convolution's tiles of positions are whole
// panels but for the last, so that the GEMM computes few columns past the
// positions: ResNet's 14 × 14 3×3 convolution over 256 channels was two
// tiles of 98 (256 columns computed for 196), and is 128 + 68 (224).
func TestConvTiles(t *testing.T) {
	for _, c := range []struct {
		size, chans, k int
		columns        int // computed, in panels of panelWidth
	}{
		{14, 256, 3, 224}, {28, 128, 1, 800}, {56, 64, 3, 3136}, {7, 512, 3, 64}, {5, 8, 1, 32},
	} {
		o := &engine.Conv{
			X:       engine.TensorRef{Region: engine.IO, Shape: []int{1, c.chans, c.size, c.size}},
			W:       engine.TensorRef{Region: engine.Weights, Shape: []int{c.chans, c.chans, c.k, c.k}},
			Y:       engine.TensorRef{Region: engine.IO, Shape: []int{1, c.chans, c.size, c.size}},
			KernelH: c.k, KernelW: c.k, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1,
			PadTop: c.k / 2, PadLeft: c.k / 2, PadBottom: c.k / 2, PadRight: c.k / 2, Groups: 1,
		}
		kern, _, err := newConv(o)
		if err != nil {
			t.Fatal(err)
		}
		k := kern.(*convKernel)
		columns := 0
		for p0 := 0; p0 < k.p; p0 += k.pt {
			columns += (min(k.pt, k.p-p0) + panelWidth - 1) / panelWidth * panelWidth
		}
		if k.nPT != (k.p+k.pt-1)/k.pt || k.pt != k.p && k.pt%panelWidth != 0 || columns != c.columns {
			t.Errorf("%d channels of %d², %d×%d kernel: %d tiles of %d positions (of %d), %d columns computed; want %d",
				c.chans, c.size, c.k, c.k, k.nPT, k.pt, k.p, columns, c.columns)
		}
	}
}
