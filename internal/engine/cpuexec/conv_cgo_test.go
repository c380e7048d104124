//go:build cgo

package cpuexec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// TestDepthwiseISAs checks depthwise.c on every instruction set the CPU
// runs against planesGo, over the kernel it has registers for (3 × 3) and
// others, strides and dilations (each axis its own), kernels wider than
// the input, asymmetric padding, with and without bias and a residual,
// each followed by an activation (activate.c's or Go's) or none: 19
// channels of 2 images (a vector's and some more, a block that ends with
// the image), rows r0 to r1 of the planes of units 1 to 37 written (and
// the rest left alone), in bands of 1 row to all.
func TestDepthwiseISAs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	type geometry struct{ h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr int }
	cases := []geometry{
		{9, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
		{9, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
		{12, 40, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2},
		{12, 40, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2},
		{10, 33, 7, 7, 1, 1, 1, 1, 3, 3, 3, 3},
		{10, 33, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},
		{6, 4, 3, 9, 1, 1, 1, 1, 1, 4, 1, 4},
		{7, 21, 3, 3, 3, 3, 1, 1, 0, 1, 2, 0},
		{7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, // MobileNetV2's last planes
		{11, 13, 3, 5, 2, 1, 1, 3, 1, 2, 0, 3},
	}
	// And 300 drawn at random: C reads without bounds checks, so a tap
	// that strayed outside its phase would read what lies beside it, and
	// differ.
	for len(cases) < 310 {
		c := geometry{h: 1 + rng.IntN(12), w: 1 + rng.IntN(40), kh: 1 + rng.IntN(7), kw: 1 + rng.IntN(7), sh: 1 + rng.IntN(3),
			sw: 1 + rng.IntN(3), dh: 1 + rng.IntN(3), dw: 1 + rng.IntN(3), pt: rng.IntN(4), pl: rng.IntN(4), pb: rng.IntN(4), pr: rng.IntN(4)}
		if c.h+c.pt+c.pb >= c.dh*(c.kh-1)+1 && c.w+c.pl+c.pr >= c.dw*(c.kw-1)+1 {
			cases = append(cases, c)
		}
	}
	// The last, not in activate.c, is applied in Go after the planes.
	acts := []engine.Activation{{}, {Kind: engine.ActClip, Min: 0, Max: 0.5}, {Kind: engine.ActSilu}, {Kind: engine.ActLeakyRelu, Alpha: 0.1}}
	const images, chans = 2, 19
	for n, c := range cases {
		oh := (c.h+c.pt+c.pb-c.dh*(c.kh-1)-1)/c.sh + 1
		ow := (c.w+c.pl+c.pr-c.dw*(c.kw-1)-1)/c.sw + 1
		o := &engine.Conv{
			X:       engine.TensorRef{Region: engine.IO, Shape: []int{images, chans, c.h, c.w}},
			W:       engine.TensorRef{Region: engine.Weights, Shape: []int{chans, 1, c.kh, c.kw}},
			Y:       engine.TensorRef{Region: engine.IO, Shape: []int{images, chans, oh, ow}},
			KernelH: c.kh, KernelW: c.kw, StrideH: c.sh, StrideW: c.sw, DilationH: c.dh, DilationW: c.dw,
			PadTop: c.pt, PadLeft: c.pl, PadBottom: c.pb, PadRight: c.pr, Groups: chans, Act: acts[n%len(acts)],
		}
		k, _, err := newConv(o)
		if err != nil {
			t.Fatal(err)
		}
		d := k.(*depthwiseKernel)
		d.band = 1 + rng.IntN(oh)
		r0 := rng.IntN(oh)
		r1 := r0 + 1 + rng.IntN(oh-r0)
		if n%2 == 0 {
			r0, r1 = 0, oh
		}
		units, p := images*chans, oh*ow
		x, w, bias, z := randoms(rng, units*c.h*c.w), randoms(rng, chans*c.kh*c.kw), randoms(rng, chans), randoms(rng, units*p)
		for _, with := range []struct{ bias, z bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
			bp, zp := bias, z
			if !with.bias {
				bp = nil
			}
			if !with.z {
				zp = nil
			}
			run := func(set isa) []float32 {
				y := make([]float32, units*p)
				for i := range y {
					y[i] = 7 // what the units and rows not written keep
				}
				work := make([]float32, d.cFloats(d.band)) // exactly: make asan sees past it
				if set == isaGo {
					work = make([]float32, d.work())
				}
				d.planesWith(set, x, w, bp, zp, y, work, 1, units-1, r0, r1)
				return y
			}
			want := run(isaGo)
			for i, v := range want {
				if u, r := i/p, i%p/ow; (u < 1 || u >= units-1 || r < r0 || r >= r1) != (v == 7) {
					t.Fatalf("%+v: Go's [%d] (unit %d row %d) = %g, written %d to %d of rows %d to %d",
						c, i, u, r, v, 1, units-1, r0, r1)
				}
			}
			for _, set := range isas() {
				got := run(set)
				name := fmt.Sprintf("%v %+v band %d rows %d to %d %v bias %v residual %v", set, c, d.band, r0, r1, o.Act.Kind,
					with.bias, with.z)
				for i := range want {
					if !(math.Abs(float64(got[i]-want[i])) <= 1e-5*math.Max(1, math.Abs(float64(want[i])))) { // NaN fails
						t.Fatalf("%s: [%d] = %g, Go gives %g", name, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestPoolISAs checks depthwise.c's max and average pools on every
// instruction set the CPU runs against planesGo, to the bit (but for which
// NaN a sum keeps), over 300 geometries each drawn at random (strides and
// dilations of each axis, asymmetric padding, windows wider than the
// input, an output row or column more than the padded input holds, as
// ceil_mode gives; average pools counting the padding or not) with NaN,
// infinities and both zeros among the inputs: 3 planes of 2 images, units
// 1 to 4 written.
func TestPoolISAs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	special := []float32{float32(math.NaN()), math.Float32frombits(0xffc00001), math.Float32frombits(0x7fc12345),
		float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1))}
	const units = 6
	for n := 0; n < 900; {
		h, w, kh, kw := 1+rng.IntN(12), 1+rng.IntN(40), 1+rng.IntN(5), 1+rng.IntN(5)
		sh, sw, dh, dw := 1+rng.IntN(3), 1+rng.IntN(3), 1+rng.IntN(2), 1+rng.IntN(2)
		pt, pl, pb, pr := rng.IntN(3), rng.IntN(3), rng.IntN(3), rng.IntN(3)
		if h+pt+pb < dh*(kh-1)+1 || w+pl+pr < dw*(kw-1)+1 {
			continue
		}
		mode, countPad := []engine.PoolMode{engine.PoolMax, engine.PoolAvg, engine.PoolAvg}[n%3], n%3 == 2
		n++
		oh := (h+pt+pb-dh*(kh-1)-1)/sh + 1 + rng.IntN(2)
		ow := (w+pl+pr-dw*(kw-1)-1)/sw + 1 + rng.IntN(2)
		o := &engine.Pool{
			Mode:    mode,
			X:       engine.TensorRef{Region: engine.IO, Shape: []int{2, 3, h, w}},
			Y:       engine.TensorRef{Region: engine.IO, Shape: []int{2, 3, oh, ow}},
			KernelH: kh, KernelW: kw, StrideH: sh, StrideW: sw, DilationH: dh, DilationW: dw,
			PadTop: pt, PadLeft: pl, PadBottom: pb, PadRight: pr, CountIncludePad: countPad,
		}
		kern, _, err := newPool(o)
		if err != nil {
			t.Fatal(err)
		}
		k := kern.(*poolKernel)
		// Specials in some planes, NaNs in half the trials (a max pool of a
		// plane without NaN takes depthwise.c's keys), one of them negative
		// and one with a payload of its own.
		x, specials := randoms(rng, units*h*w), special[rng.IntN(2)*3:]
		for i := range x {
			if rng.IntN(10) == 0 && (i/(h*w))%2 == 0 {
				x[i] = specials[rng.IntN(len(specials))]
			}
		}
		run := func(set isa) []float32 {
			y := make([]float32, units*oh*ow)
			for i := range y {
				y[i] = 7 // what the units and rows not written keep
			}
			k.phasePlanesWith(set, x, y, make([]float32, k.work()), 1, units-1)
			return y
		}
		want := run(isaGo)
		for _, set := range isas() {
			got := run(set)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("%v %+v: [%d] = %g, Go gives %g", set, o, i, got[i], want[i])
			}
		}
	}
}

// TestGlobalPoolISAs checks globalpool.c on every instruction set the CPU
// runs against planesGo, to the bit (but for which NaN a sum keeps): the
// mean, sum and maximum of planes of 1 to 300 floats (the lanes' tails),
// some all negative, NaN, infinities and both zeros among them, 3 planes
// of 2 images, units 1 to 4 written.
func TestGlobalPoolISAs(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1))}
	const units = 6
	for n := range 300 {
		size := 1 + rng.IntN(300)
		mode := []engine.PoolMode{engine.PoolAvg, engine.PoolSum, engine.PoolMax}[n%3]
		o := &engine.GlobalPool{
			Mode: mode,
			X:    engine.TensorRef{Region: engine.IO, Shape: []int{2, 3, size}},
			Y:    engine.TensorRef{Region: engine.IO, Shape: []int{2, 3, 1}},
		}
		kern, err := newGlobalPool(o)
		if err != nil {
			t.Fatal(err)
		}
		k := kern.(*gapKernel)
		x := make([]float32, units*size)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * math.Exp2(float64(rng.IntN(40)-20))) // sums that depend on their order
			if n%5 < 2 {
				x[i] = -float32(math.Abs(float64(x[i]))) // planes all negative: a maximum not from 0
			}
			if n%2 == 0 && rng.IntN(100) == 0 {
				x[i] = special[rng.IntN(len(special))]
			}
		}
		run := func(set isa) []float32 {
			y := []float32{7, 7, 7, 7, 7, 7} // what planes 0 and 5 keep
			k.poolWith(set, x, y, 1, units-1)
			return y
		}
		want := run(isaGo)
		for _, set := range isas() {
			got := run(set)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("%v %v of %d: [%d] = %g, Go gives %g", set, mode, size, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkDepthwiseISAs times depthwise convolutions of MobileNetV2's
// and EfficientNet-B0's (channels × input size; bias, no activation), every
// plane in one call on one thread, on each instruction set the CPU runs,
// Go's loops ("go") beside depthwise.c's.
func BenchmarkDepthwiseISAs(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, c := range []struct {
		name                  string
		planes, size, k, step int
	}{{"3x3-s1-32x112", 32, 112, 3, 1}, {"3x3-s2-96x112", 96, 112, 3, 2}, {"3x3-s1-144x56", 144, 56, 3, 1},
		{"3x3-s1-384x14", 384, 14, 3, 1}, {"3x3-s1-960x7", 960, 7, 3, 1}, {"5x5-s2-144x56", 144, 56, 5, 2},
		{"5x5-s1-672x14", 672, 14, 5, 1}} {
		p := c.k / 2
		out := (c.size+2*p-c.k)/c.step + 1
		o := &engine.Conv{
			X:       engine.TensorRef{Region: engine.IO, Shape: []int{1, c.planes, c.size, c.size}},
			W:       engine.TensorRef{Region: engine.Weights, Shape: []int{c.planes, 1, c.k, c.k}},
			B:       engine.TensorRef{Region: engine.Weights, Shape: []int{c.planes}},
			Y:       engine.TensorRef{Region: engine.IO, Shape: []int{1, c.planes, out, out}},
			KernelH: c.k, KernelW: c.k, StrideH: c.step, StrideW: c.step, DilationH: 1, DilationW: 1,
			PadTop: p, PadLeft: p, PadBottom: p, PadRight: p, Groups: c.planes,
		}
		k, _, err := newConv(o)
		if err != nil {
			b.Fatal(err)
		}
		d := k.(*depthwiseKernel)
		x, w, bias := randoms(rng, c.planes*c.size*c.size), randoms(rng, c.planes*c.k*c.k), randoms(rng, c.planes)
		y, work := make([]float32, c.planes*out*out), make([]float32, d.work())
		for _, set := range isas() {
			b.Run(c.name+"/"+set.String(), func(b *testing.B) {
				for b.Loop() {
					d.planesWith(set, x, w, bias, nil, y, work, 0, c.planes, 0, out)
				}
			})
		}
	}
}

// TestIm2colISAs checks im2col.c on every instruction set the CPU runs
// against im2colGo's patches packed by packB, over 200 convolution
// geometries: four of a 1 × 1 kernel (its rows gathered, not padded
// first), the rest drawn at random (strides, dilations, asymmetric pads, kernels
// wider than the input, up to 325 patch rows: several of the GEMM's blocks
// of rows) and position tiles that start and end mid-row, some longer than
// im2col.c's runs of 256.
func TestIm2colISAs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	// Windows of one tap (gathered, not padded first), at strides 1 to 3,
	// with and without padding, then windows drawn at random.
	fixed := [][10]int{ // h, w, kh, kw, s, d, pt, pl, pb, pr
		{14, 14, 1, 1, 2, 1, 0, 0, 0, 0}, {15, 9, 1, 1, 2, 1, 1, 2, 0, 1}, {8, 11, 1, 1, 3, 1, 0, 1, 2, 0},
		{5, 7, 1, 1, 1, 1, 1, 1, 1, 1},
	}
	for n := 0; n < 200; {
		h, w, kh, kw := 1+rng.IntN(12), 1+rng.IntN(40), 1+rng.IntN(5), 1+rng.IntN(5)
		s, d := 1+rng.IntN(3), 1+rng.IntN(2)
		pt, pl, pb, pr := rng.IntN(3), rng.IntN(3), rng.IntN(3), rng.IntN(3)
		if n < len(fixed) {
			f := fixed[n]
			h, w, kh, kw, s, d, pt, pl, pb, pr = f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9]
		}
		if h+pt+pb < d*(kh-1)+1 || w+pl+pr < d*(kw-1)+1 {
			continue
		}
		n++
		oh, ow := (h+pt+pb-d*(kh-1)-1)/s+1, (w+pl+pr-d*(kw-1)-1)/s+1
		c := 2 + rng.IntN(12)
		o := &engine.Conv{
			X:       engine.TensorRef{Region: engine.IO, Shape: []int{1, c, h, w}},
			W:       engine.TensorRef{Region: engine.Weights, Shape: []int{2, c, kh, kw}},
			Y:       engine.TensorRef{Region: engine.IO, Shape: []int{1, 2, oh, ow}},
			KernelH: kh, KernelW: kw, StrideH: s, StrideW: s, DilationH: d, DilationW: d,
			PadTop: pt, PadLeft: pl, PadBottom: pb, PadRight: pr, Groups: 1,
		}
		kern, _, err := newIm2colConv(o)
		if err != nil {
			t.Fatal(err)
		}
		k := kern.(*convKernel)
		x := randoms(rng, c*h*w)
		p0 := rng.IntN(k.p)
		np := 1 + rng.IntN(k.p-p0)
		patches := make([]float32, k.kdim*np)
		k.im2colGo(x, patches, p0, np)
		size := panelFloats(k.kdim, np)
		for _, set := range isas() {
			// The same floats before: every one packB writes written, the
			// others left alone.
			got := randoms(rng, size+1)
			want := append([]float32(nil), got...)
			packBWith(set, k.kdim, np, patches, np, want[:size])
			work := make([]float32, k.im2colWork(np)) // exactly: make asan sees past it
			if set == isaGo {
				work = make([]float32, k.kdim*np)
			}
			k.im2colPanelWith(set, x, work, got[:size], p0, np)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v: %d channels %d×%d, kernel %d×%d stride %d dilation %d pads %d %d %d %d, positions %d+%d: [%d of %d] = %g, packed Go gives %g",
						set, c, h, w, kh, kw, s, d, pt, pl, pb, pr, p0, np, i, size, got[i], want[i])
				}
			}
		}
	}
}

// BenchmarkPool times ResNet's max pool (3×3, stride 2, padding 1, 64
// planes of 112 × 112), Inception-v3's average pool (3×3, stride 1,
// padding 1 counted, 192 planes of 35 × 35) and one of GoogLeNet's max
// pools (3×3, stride 1, padding 1, 480 planes of 14 × 14) on each
// instruction set the CPU runs, Go's loops ("go") beside depthwise.c's, on
// one thread.
func BenchmarkPool(b *testing.B) {
	for _, c := range []struct {
		name                 string
		mode                 engine.PoolMode
		planes, size, stride int
	}{
		{"max-3x3-s2-112", engine.PoolMax, 64, 112, 2}, {"avg-3x3-s1-35", engine.PoolAvg, 192, 35, 1},
		{"max-3x3-s1-14", engine.PoolMax, 480, 14, 1},
	} {
		out := (c.size-1)/c.stride + 1
		o := &engine.Pool{
			Mode:    c.mode,
			X:       engine.TensorRef{Region: engine.IO, Shape: []int{1, c.planes, c.size, c.size}},
			Y:       engine.TensorRef{Region: engine.IO, Shape: []int{1, c.planes, out, out}},
			KernelH: 3, KernelW: 3, StrideH: c.stride, StrideW: c.stride, DilationH: 1, DilationW: 1,
			PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, CountIncludePad: true,
		}
		kern, work, err := newPool(o)
		if err != nil {
			b.Fatal(err)
		}
		k := kern.(*poolKernel)
		x, y, scratch := randoms(rand.New(rand.NewPCG(1, 2)), c.planes*c.size*c.size), make([]float32, c.planes*out*out),
			make([]float32, work)
		for _, set := range isas() {
			b.Run(c.name+"/"+set.String(), func(b *testing.B) {
				for b.Loop() {
					k.phasePlanesWith(set, x, y, scratch, 0, c.planes)
				}
			})
		}
	}
}

// BenchmarkIm2col times the packing of one tile of a convolution's
// patches on each instruction set the CPU runs, Go's im2col and packing
// ("go") beside im2col.c's: ResNet-50's stem (7×7 stride 2 over 3 planes of
// 224², 256 positions), a 3×3 convolution at each of its last two stages
// (512 planes of 7², all 49 positions; 256 of 14², 128) and its last
// stride-2 1×1 (1024 planes of 14² to 7²).
func BenchmarkIm2col(b *testing.B) {
	for _, c := range []struct {
		name                  string
		planes, size, k, s, p int
	}{
		{"stem-7x7-s2-224", 3, 224, 7, 2, 3}, {"3x3-s1-7", 512, 7, 3, 1, 1}, {"3x3-s1-14", 256, 14, 3, 1, 1},
		{"1x1-s2-14", 1024, 14, 1, 2, 0},
	} {
		out := (c.size+2*c.p-c.k)/c.s + 1
		o := &engine.Conv{
			X:       engine.TensorRef{Region: engine.IO, Shape: []int{1, c.planes, c.size, c.size}},
			W:       engine.TensorRef{Region: engine.Weights, Shape: []int{64, c.planes, c.k, c.k}},
			Y:       engine.TensorRef{Region: engine.IO, Shape: []int{1, 64, out, out}},
			KernelH: c.k, KernelW: c.k, StrideH: c.s, StrideW: c.s, DilationH: 1, DilationW: 1,
			PadTop: c.p, PadLeft: c.p, PadBottom: c.p, PadRight: c.p, Groups: 1,
		}
		kern, _, err := newIm2colConv(o)
		if err != nil {
			b.Fatal(err)
		}
		k := kern.(*convKernel)
		x := randoms(rand.New(rand.NewPCG(1, 2)), c.planes*c.size*c.size)
		panel := make([]float32, panelFloats(k.kdim, k.pt))
		for _, set := range isas() {
			work := make([]float32, k.patchWork)
			if set == isaGo {
				work = make([]float32, k.kdim*k.pt)
			}
			b.Run(fmt.Sprintf("%s/%v", c.name, set), func(b *testing.B) {
				for b.Loop() {
					k.im2colPanelWith(set, x, work, panel, 0, k.pt)
				}
			})
		}
	}
}
