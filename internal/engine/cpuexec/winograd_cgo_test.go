//go:build cgo

package cpuexec

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// TestWinogradISAs checks winograd.c's transforms on every instruction set
// the CPU runs against the Go loops, to the bit, over 100 geometries drawn
// at random (odd and even planes, asymmetric padding, tiles that start and
// end mid-row) with each activation kind: the filters', the patches' (every
// float of V a unit's tiles own), and the outputs with bias, residual and
// the activation (a Clip, ReLU, or none, to the bit; SiLU and hard swish,
// activate.c's or Go's, within 4 units in the last place; leaky ReLU in Go
// after the C), the planes' other floats left as they were.
func TestWinogradISAs(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	acts := []engine.Activation{{}, {Kind: engine.ActRelu}, {Kind: engine.ActClip, Min: -0.5, Max: 1.5},
		{Kind: engine.ActSilu}, {Kind: engine.ActHardSwish, Alpha: 1.0 / 6, Beta: 0.5},
		{Kind: engine.ActLeakyRelu, Alpha: 0.1}}
	for i := range 100 {
		h, wd := 1+rng.IntN(20), 1+rng.IntN(40)
		pt, pb, pl, pr := rng.IntN(3), rng.IntN(3), rng.IntN(3), rng.IntN(3)
		if h+pt+pb < 3 || wd+pl+pr < 3 {
			continue
		}
		oh, ow := h+pt+pb-2, wd+pl+pr-2
		c, m := 2+rng.IntN(8), 1+rng.IntN(9) // one channel to one is a depthwise convolution
		o := &engine.Conv{
			X:       engine.TensorRef{Region: engine.IO, Shape: []int{1, c, h, wd}},
			W:       engine.TensorRef{Region: engine.Weights, Shape: []int{m, c, 3, 3}},
			Y:       engine.TensorRef{Region: engine.IO, Shape: []int{1, m, oh, ow}},
			KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1,
			PadTop: pt, PadLeft: pl, PadBottom: pb, PadRight: pr, Groups: 1, Act: acts[i%len(acts)],
		}
		kern, _, err := newWinogradConv(o)
		if err != nil {
			t.Fatal(err)
		}
		w := kern.(*winogradKernel)
		t0 := rng.IntN(w.tiles)
		nt := 1 + rng.IntN(w.tiles-t0)
		ld := nt + winogradSlack + rng.IntN(3)
		x, wt, bias, z := randoms(rng, c*h*wd), randoms(rng, m*c*9), randoms(rng, m), randoms(rng, m*oh*ow)
		if rng.IntN(2) == 0 {
			bias = nil
		}
		if rng.IntN(2) == 0 {
			z = nil
		}
		work := make([]float32, w.transformWork(nt))
		var wantU, wantV, wantY []float32
		for _, set := range isas() {
			nan := func(n int) []float32 {
				v := make([]float32, n)
				for i := range v {
					v[i] = float32(math.NaN())
				}
				return v
			}
			u := nan(16 * m * c)
			f0 := rng.IntN(m * c)
			winogradFiltersWith(set, m*c, wt, u, 0, f0) // in two calls, the second's filters from any
			winogradFiltersWith(set, m*c, wt, u, f0, m*c)
			v := nan(16 * c * ld)
			w.inputWith(set, x, v, ld, t0, nt, work)
			owned := func(v []float32, rows int) []float32 { // a row's first nt floats, each row
				var out []float32
				for r := range rows {
					out = append(out, v[r*ld:][:nt]...)
				}
				return out
			}
			mo := randoms(rand.New(rand.NewPCG(uint64(i), 1)), 16*m*ld)
			y := randoms(rand.New(rand.NewPCG(uint64(i), 2)), m*oh*ow)
			w.outputWith(set, m, mo, ld, bias, z, y, t0, nt, work)
			if set == isaGo {
				wantU, wantV, wantY = u, owned(v, 16*c), y
				continue
			}
			smooth := o.Act.Kind == engine.ActSilu || o.Act.Kind == engine.ActHardSwish
			for _, r := range []struct {
				what      string
				got, want []float32
				ulps      int64
			}{{"filters", u, wantU, 0}, {"patches", owned(v, 16*c), wantV, 0}, {"outputs", y, wantY, map[bool]int64{true: 4}[smooth]}} {
				for j := range r.want {
					if math.Float32bits(r.got[j]) != math.Float32bits(r.want[j]) && ulps(r.got[j], r.want[j]) > r.ulps {
						t.Fatalf("%s, %d×%d pads %d %d %d %d, %d→%d channels, tiles %d+%d of %d, %v: %s [%d] = %v, Go's %v",
							set, h, wd, pt, pl, pb, pr, c, m, t0, nt, w.tiles, o.Act.Kind, r.what, j, r.got[j], r.want[j])
					}
				}
			}
		}
		if slices.ContainsFunc(wantV, func(f float32) bool { return f != f }) {
			t.Fatalf("a patch transform left unwritten")
		}
	}
}
