package cpuexec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
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
		kern, _, err := newIm2colConv(o)
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

// TestConvShares checks how the workers share a convolution's work: in
// order, every (position tile, block of channels) once, and each share's
// cost within a block of its equal part, where whole 64-channel units
// left one of two workers with 8.5 % more than half of ResNet-50's and
// some of sixteen with nothing.
func TestConvShares(t *testing.T) {
	for _, c := range []struct {
		n, size, chans, groups, k int
	}{
		{1, 7, 512, 1, 3}, {1, 14, 256, 1, 3}, {1, 56, 64, 1, 3}, {3, 9, 80, 2, 3}, {2, 5, 12, 3, 1}, {1, 1, 2048, 1, 3},
	} {
		o := &engine.Conv{
			X:       engine.TensorRef{Region: engine.IO, Shape: []int{c.n, c.chans, c.size, c.size}},
			W:       engine.TensorRef{Region: engine.Weights, Shape: []int{c.chans, c.chans / c.groups, c.k, c.k}},
			Y:       engine.TensorRef{Region: engine.IO, Shape: []int{c.n, c.chans, c.size, c.size}},
			KernelH: c.k, KernelW: c.k, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1,
			PadTop: c.k / 2, PadLeft: c.k / 2, PadBottom: c.k / 2, PadRight: c.k / 2, Groups: c.groups,
		}
		kern, _, err := newIm2colConv(o)
		if err != nil {
			t.Fatal(err)
		}
		k := kern.(*convKernel)
		width := func(tile int) int { // the columns the GEMM computes for the tile, in half panels
			pti := tile % k.nPT
			return (min(k.pt, k.p-pti*k.pt) + panelWidth/2 - 1) / (panelWidth / 2)
		}
		total, block := 0, 0
		for tile := range k.tiles {
			total += width(tile) * k.mg
			block = max(block, width(tile)*min(shareRows, k.mg))
		}
		for parts := 1; parts <= 17; parts++ {
			name := fmt.Sprintf("%d×%d channels of %d² in %d groups, %d parts", c.n, c.chans, c.size, c.groups, parts)
			tile, row := k.share(0, parts)
			if tile != 0 || row != 0 {
				t.Fatalf("%s: the first share starts at tile %d row %d", name, tile, row)
			}
			for part := range parts {
				t1, r1 := k.share(part+1, parts)
				if t1 < tile || t1 == tile && r1 < row || r1%shareRows != 0 || r1 >= k.mg || t1 > k.tiles ||
					t1 == k.tiles && r1 != 0 {
					t.Fatalf("%s: share %d from tile %d row %d to tile %d row %d", name, part, tile, row, t1, r1)
				}
				cost := 0
				for ; tile < t1 || tile == t1 && row < r1; row += shareRows {
					if row >= k.mg {
						tile, row = tile+1, -shareRows
						continue
					}
					cost += width(tile) * min(shareRows, k.mg-row)
				}
				tile, row = t1, r1
				if d := cost - total/parts; d > block || d < -block {
					t.Errorf("%s: share %d costs %d of %d, more than a block (%d) from its equal part", name, part, cost, total, block)
				}
			}
			if tile != k.tiles || row != 0 {
				t.Errorf("%s: the last share ends at tile %d row %d of %d tiles", name, tile, row, k.tiles)
			}
		}
	}
}

// TestConvPartsAnyOrder checks that a convolution's parts give the same
// output, to the bit, in whatever order and on whichever workers they run
// within an op (a worker reuses the tile of patches its last part packed,
// and the Workers hand parts to other workers than their own): as one
// part, as parts taken from both ends by two workers, and shuffled among
// three; and that a tile packed in one op is not reused in the next. The
// depthwise convolutions among them have items of 16 channels, and where
// those are fewer than the parts (32 channels of 112 × 112) bands of rows,
// on scratch that other parts left (NaN at first).
func TestConvPartsAnyOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		size, chans, groups, k, stride int
	}{
		{56, 64, 1, 3, 1}, {28, 128, 1, 3, 1}, {14, 256, 1, 3, 1}, {28, 96, 1, 1, 1}, {15, 40, 1, 3, 2}, {9, 80, 2, 3, 1},
		{112, 32, 32, 3, 1}, {15, 40, 40, 5, 2}, {7, 96, 96, 3, 1},
	} {
		oh := (c.size+2*(c.k/2)-c.k)/c.stride + 1
		x := engine.TensorRef{Region: engine.IO, Shape: []int{1, c.chans, c.size, c.size}}
		y := engine.TensorRef{Region: engine.IO, Offset: x.Bytes(), Shape: []int{1, c.chans, oh, oh}}
		w := engine.TensorRef{Region: engine.Weights, Shape: []int{c.chans, c.chans / c.groups, c.k, c.k}}
		b := engine.TensorRef{Region: engine.Weights, Offset: w.Bytes(), Shape: []int{c.chans}}
		o := &engine.Conv{X: x, W: w, B: b, Y: y, KernelH: c.k, KernelW: c.k, StrideH: c.stride, StrideW: c.stride,
			DilationH: 1, DilationW: 1, PadTop: c.k / 2, PadLeft: c.k / 2, PadBottom: c.k / 2, PadRight: c.k / 2,
			Groups: c.groups, Act: engine.Activation{Kind: engine.ActRelu}}
		k, floats, err := newConv(o)
		if err != nil {
			t.Fatal(err)
		}
		m := &memory{io: make([]byte, y.Offset+y.Bytes()), pages: [][]byte{make([]byte, b.Offset+b.Bytes())}}
		for _, v := range [][]float32{m.f32(x), m.f32(w), m.f32(b)} {
			for i := range v {
				v[i] = float32(rng.NormFloat64())
			}
		}
		if p, ok := k.(preparer); ok { // Winograd's, its filters transformed
			p.prepare(m)
		}
		workers := make([]*scratch, 3)
		for i := range workers {
			workers[i] = &scratch{buf: make([]float32, floats)}
			for j := range workers[i].buf {
				workers[i].buf[j] = float32(math.NaN())
			}
		}
		op := uint64(0)
		run := func(order []int, parts int, on func(i int) *scratch) []float32 {
			op++
			for _, s := range workers {
				s.op = op
			}
			out := m.f32(y)
			for i := range out {
				out[i] = float32(math.NaN())
			}
			for i, part := range order {
				k.run(m, part, parts, on(i))
			}
			return slices.Clone(out)
		}
		want := run([]int{0}, 1, func(int) *scratch { return workers[0] })
		const parts = 16
		ends := make([]int, parts) // 0, 15, 1, 14, …: two workers from both ends
		for i := range ends {
			ends[i] = i / 2
			if i%2 == 1 {
				ends[i] = parts - 1 - i/2
			}
		}
		forward, backward := make([]int, parts), make([]int, parts)
		for i := range parts {
			forward[i], backward[i] = i, parts-1-i
		}
		check := func(name string, got []float32) {
			t.Helper()
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%+v, parts %s: output %d is %v, want %v", c, name, i, got[i], want[i])
				}
			}
		}
		check("from both ends", run(ends, parts, func(i int) *scratch { return workers[i%2] }))
		check("shuffled", run(rng.Perm(parts), parts, func(i int) *scratch { return workers[i%3] }))
		check("backwards", run(backward, parts, func(int) *scratch { return workers[0] }))
		// Worker 0 holds the first tile, packed in the last op; with other
		// inputs the next op packs it again.
		xs := m.f32(x)
		for i := range xs {
			xs[i] = float32(rng.NormFloat64())
		}
		fresh := &scratch{buf: make([]float32, floats)}
		want = run([]int{0}, 1, func(int) *scratch { fresh.op = op; return fresh })
		check("in the next op", run(forward, parts, func(int) *scratch { return workers[0] }))
	}
}

// TestGemmTiles checks a Gemm op's tiles: every element of Y written once,
// the same to the bit in one part as in sixteen or five, and within the
// float64 product's rounding, for shapes whose rows make one tile of
// narrower columns (ViT-B/16's 197 tokens by 768 and 2304 columns), several
// tiles of rows, and few of either; B as given and transposed, a bias row
// as C and GELU after.
func TestGemmTiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, c := range []struct {
		m, n, k, mt, nt int // the shape and the tiles newGemm should choose
	}{
		{197, 768, 40, 256, 96}, {197, 2304, 24, 256, 128}, {300, 130, 20, 128, 64}, {64, 64, 30, 64, 64},
		{1000, 40, 12, 128, 128},
	} {
		for _, transB := range []bool{false, true} {
			a := engine.TensorRef{Region: engine.IO, Shape: []int{c.m, c.k}}
			b := engine.TensorRef{Region: engine.Weights, Shape: []int{c.k, c.n}}
			bias := engine.TensorRef{Region: engine.Weights, Offset: b.Bytes(), Shape: []int{c.n}}
			y := engine.TensorRef{Region: engine.IO, Offset: a.Bytes(), Shape: []int{c.m, c.n}}
			ldb := c.n
			if transB {
				b.Shape, ldb = []int{c.n, c.k}, c.k
			}
			o := &engine.Gemm{A: a, B: b, C: bias, Y: y, M: c.m, N: c.n, K: c.k, TransB: transB, LDA: c.k, LDB: ldb,
				LDY: c.n, Alpha: 1, Beta: 1, CColStride: 1, Act: engine.Activation{Kind: engine.ActGelu}}
			kern, err := newGemm(o)
			if err != nil {
				t.Fatal(err)
			}
			k := kern.(*gemmKernel)
			name := fmt.Sprintf("%d×%d×%d transB %v", c.m, c.n, c.k, transB)
			if k.mt != c.mt || k.nt != c.nt {
				t.Errorf("%s: tiles of %d × %d, want %d × %d", name, k.mt, k.nt, c.mt, c.nt)
			}
			m := &memory{io: make([]byte, y.Offset+y.Bytes()), pages: [][]byte{make([]byte, bias.Offset+bias.Bytes())}}
			for _, v := range [][]float32{m.f32(a), m.f32(b), m.f32(bias)} {
				for i := range v {
					v[i] = float32(rng.NormFloat64())
				}
			}
			s := &scratch{buf: make([]float32, gemmWork)}
			run := func(parts int) []float32 {
				out := m.f32(y)
				for i := range out {
					out[i] = float32(math.NaN())
				}
				for part := range parts {
					k.run(m, part, parts, s)
				}
				return slices.Clone(out)
			}
			want := run(1)
			for _, parts := range []int{16, 5} {
				got := run(parts)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: %d parts: Y[%d] = %v, in one part %v", name, parts, i, got[i], want[i])
					}
				}
			}
			av, bv, cv := m.f32(a), m.f32(b), m.f32(bias)
			for i := range c.m {
				for j := range c.n {
					sum := float64(cv[j])
					for p := range c.k {
						bij := bv[p*c.n+j]
						if transB {
							bij = bv[j*c.k+p]
						}
						sum += float64(av[i*c.k+p]) * float64(bij)
					}
					ref := []float32{float32(sum)}
					activateGo(o.Act, ref)
					if got := want[i*c.n+j]; !(math.Abs(float64(got-ref[0])) <= 1e-5*math.Max(1, math.Abs(float64(ref[0])))) {
						t.Fatalf("%s: Y[%d][%d] = %v, want %v", name, i, j, got, ref[0])
					}
				}
			}
		}
	}
}
