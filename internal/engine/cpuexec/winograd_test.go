package cpuexec

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// winogradConv is a 3 × 3 convolution of c channels to m over n images of
// size × size, padded by one (ResNet's), with bias, residual and ReLU, and
// memory for it filled at random.
func winogradConv(rng *rand.Rand, n, c, m, size int) (*engine.Conv, *memory) {
	x := engine.TensorRef{Region: engine.IO, Shape: []int{n, c, size, size}}
	y := engine.TensorRef{Region: engine.IO, Offset: x.Bytes(), Shape: []int{n, m, size, size}}
	z := engine.TensorRef{Region: engine.IO, Offset: y.Offset + y.Bytes(), Shape: []int{n, m, size, size}}
	w := engine.TensorRef{Region: engine.Weights, Shape: []int{m, c, 3, 3}}
	b := engine.TensorRef{Region: engine.Weights, Offset: w.Bytes(), Shape: []int{m}}
	o := &engine.Conv{X: x, W: w, B: b, Z: z, Y: y, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1,
		DilationH: 1, DilationW: 1, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, Groups: 1,
		Act: engine.Activation{Kind: engine.ActRelu}}
	mem := &memory{io: make([]byte, z.Offset+z.Bytes()), pages: [][]byte{make([]byte, b.Offset+b.Bytes())}}
	for _, t := range []engine.TensorRef{x, z, w, b} {
		v := mem.f32(t)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
	}
	return o, mem
}

// bind gives w's workers the scratch k needs, and prepares k (as New
// does) with the weights in mem.
func bind(w *Workers, k kernel, scratch int, mem *memory) {
	w.reserve(scratch)
	if p, ok := k.(preparer); ok {
		p.prepare(mem)
	}
}

// TestWinogradConv checks Winograd's kernel against the GEMM over the
// patches on whole convolutions (bias, residual and ReLU; odd planes;
// several images, units that span two), run by one worker and by three,
// within 1e-5 of the direct sums relative to the larger of the output and
// the outputs' root mean square (a sum of many terms that cancel to near
// zero is as far from its exact value as the terms' rounding errors).
func TestWinogradConv(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, c := range []struct{ n, c, m, size int }{
		{1, 64, 64, 56}, {3, 5, 7, 13}, {2, 16, 24, 20}, {4, 40, 8, 7}, {1, 3, 200, 24},
	} {
		o, mem := winogradConv(rng, c.n, c.c, c.m, c.size)
		outputs := func(newK func(*engine.Conv) (kernel, int, error), workers int) []float32 {
			k, scratch, err := newK(o)
			if err != nil {
				t.Fatal(err)
			}
			w := NewWorkers(workers)
			defer w.Close()
			bind(w, k, scratch, mem)
			y := mem.f32(o.Y)
			for i := range y {
				y[i] = float32(math.NaN())
			}
			w.do(k, mem)
			if _, ok := k.(*winogradKernel); ok != (workers > 0) {
				t.Fatalf("%+v: %T", c, k)
			}
			return slices.Clone(y)
		}
		want := outputs(newIm2colConv, 0)
		var rms float64
		for _, w := range want {
			rms += float64(w) * float64(w) / float64(len(want))
		}
		rms = math.Sqrt(rms)
		for _, workers := range []int{1, 3} {
			got := outputs(newWinogradConv, workers)
			for i := range want {
				if g, w := float64(got[i]), float64(want[i]); !(math.Abs(g-w) <= 1e-5*max(1, math.Abs(w), rms)) {
					t.Fatalf("%+v, %d workers: output %d = %v, want %v", c, workers, i, g, w)
				}
			}
		}
	}
}

// BenchmarkWinograd times ResNet's 3 × 3 convolutions by Winograd's
// F(2×2, 3×3) (whether or not newConv would choose it) and as GEMMs over
// their patches, side by side, on the machine's CPUs: each convolution
// again and again with its filters in the caches, and cold, with 128 MiB
// written between runs (untimed), as in a model, where the other layers'
// weights pass through the caches between two runs of one. The cold rows
// run only with -benchtime as a count of runs (100x): the framework sizes
// a run count by the timed time alone, and so would write 128 MiB some
// thousands of times a row.
func BenchmarkWinograd(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var evict []float32
	if f := flag.Lookup("test.benchtime"); f != nil && strings.HasSuffix(f.Value.String(), "x") {
		evict = make([]float32, 32<<20)
	}
	for _, c := range []struct{ n, chans, size int }{
		{1, 64, 56}, {1, 128, 28}, {1, 256, 14}, {4, 256, 14}, {1, 512, 7}, {2, 512, 7}, {4, 512, 7}, {16, 512, 7},
	} {
		o, mem := winogradConv(rng, c.n, c.chans, c.chans, c.size)
		for _, cold := range []bool{false, true} {
			for _, way := range []string{"winograd", "im2col"} {
				name := fmt.Sprintf("%dx%dx%d²/%s", c.n, c.chans, c.size, way)
				if cold {
					name += "-cold"
				}
				b.Run(name, func(b *testing.B) {
					if cold && evict == nil {
						b.Skip("cold rows need -benchtime as a count of runs, such as 100x")
					}
					newK := newWinogradConv
					if way == "im2col" {
						newK = newIm2colConv
					}
					k, scratch, err := newK(o)
					if err != nil {
						b.Fatal(err)
					}
					w := NewWorkers(0)
					defer w.Close()
					bind(w, k, scratch, mem)
					for b.Loop() {
						if cold {
							b.StopTimer()
							for i := range evict {
								evict[i]++
							}
							b.StartTimer()
						}
						w.do(k, mem)
					}
					b.ReportMetric(2*float64(c.n*c.chans*c.chans*9*c.size*c.size)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// TestWinogradFits checks which convolutions newConv gives Winograd's
// kernel: 3 × 3, unit stride and dilation, one group, 64 tiles or more,
// 16 input channels or more, and filters and channels within the bounds on
// its memory.
func TestWinogradFits(t *testing.T) {
	for _, c := range []struct {
		n, c, m, size, stride, groups int
		want                          bool
	}{
		{1, 64, 64, 56, 1, 1, true}, {1, 128, 128, 28, 1, 1, true}, {1, 256, 256, 14, 1, 1, false}, // 49 tiles
		{2, 512, 512, 7, 1, 1, false}, {4, 512, 512, 7, 1, 1, true}, // 32 tiles, 64
		{16, 512, 512, 7, 1, 1, true}, {8, 1024, 1024, 7, 1, 1, false}, // U of 16 Mi floats
		{1, 8, 4090, 32, 1, 1, false}, {1, 64, 64, 56, 2, 1, false}, {1, 64, 64, 56, 1, 2, false},
		{1, 3, 64, 224, 1, 1, false}, {1, 16, 64, 32, 1, 1, true}, // VGG's first, 3 channels: too shallow
	} {
		oh := (c.size+2-3)/c.stride + 1
		o := &engine.Conv{
			X:       engine.TensorRef{Region: engine.IO, Shape: []int{c.n, c.c, c.size, c.size}},
			W:       engine.TensorRef{Region: engine.Weights, Shape: []int{c.m, c.c / c.groups, 3, 3}},
			Y:       engine.TensorRef{Region: engine.IO, Shape: []int{c.n, c.m, oh, oh}},
			KernelH: 3, KernelW: 3, StrideH: c.stride, StrideW: c.stride, DilationH: 1, DilationW: 1,
			PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1, Groups: c.groups,
		}
		k, _, err := newConv(o)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := k.(*winogradKernel); ok != c.want {
			t.Errorf("%+v: %T", c, k)
		}
	}
}
