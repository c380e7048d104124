//go:build cgo

package cpuexec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// TestGemmISAs checks every GEMM the CPU runs against a float64 product,
// over shapes around the micro-kernels' tiles and the packed blocks'
// edges and shapes drawn at random, all four transposes, strided operands
// and an alpha, and that the floats around C stay as they were.
func TestGemmISAs(t *testing.T) {
	if l := isas(); len(l) < 2 || !slices.Contains(l, cpuISA) {
		t.Errorf("instruction sets %v: want go, base and %v, the one the kernels run", l, cpuISA)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{1, 1, 1}, {5, 7, 3}, {6, 16, 9}, {7, 33, 17}, {13, 65, 256}, {64, 128, 257}, {97, 31, 600}, {100, 530, 40}, {2, 1000, 5}, {1, 7, 19}, {1, 9, 40}}
	random := 40
	if testing.Short() { // make asan, where each takes longer
		random = 8
	}
	for range random { // and some drawn at random, the operands no larger than they must be
		shapes = append(shapes, [3]int{1 + rng.IntN(120), 1 + rng.IntN(120), 1 + rng.IntN(300)})
	}
	work := make([]float32, max(gemmWork, gonumWork))
	for _, isa := range isas() {
		for _, s := range shapes {
			m, n, k := s[0], s[1], s[2]
			for tr := range 4 {
				tA, tB := tr&1 != 0, tr&2 != 0
				name := fmt.Sprintf("%v/%dx%dx%d/tA=%v,tB=%v", isa, m, n, k, tA, tB)
				lda, ldb, ldc := k+3, n+1, n+5
				if tA {
					lda = m + 2
				}
				if tB {
					ldb = k
				}
				a := randoms(rng, need(rows(m, k, tA), cols(m, k, tA), lda))
				b := randoms(rng, need(rows(k, n, tB), cols(k, n, tB), ldb))
				c := randoms(rng, need(m, n, ldc)+ldc) // a row past the end
				want := make([]float64, len(c))
				for i := range want {
					want[i] = float64(c[i])
				}
				const alpha = 0.75
				for i := range m {
					for j := range n {
						var sum float64
						for p := range k {
							ai, bi := i*lda+p, p*ldb+j
							if tA {
								ai = p*lda + i
							}
							if tB {
								bi = j*ldb + p
							}
							av, bv := a[ai], b[bi]
							sum += float64(av) * float64(bv)
						}
						want[i*ldc+j] += alpha * sum
					}
				}
				gemmAccWith(isa, tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, work)
				for i, w := range want {
					inside := i/ldc < m && i%ldc < n
					if got := float64(c[i]); !inside && got != w || !(math.Abs(got-w) <= 1e-5*(1+math.Sqrt(float64(k)))) {
						t.Fatalf("%s: C[%d][%d] = %g, want %g (inside %v)", name, i/ldc, i%ldc, got, w, inside)
					}
				}
			}
		}
	}
}

// TestGemmEpilogue checks every GEMM the CPU runs writing a product with
// an epilogue: bias, residual and clip, each present or not, over depths of
// one block and several, against the float64 product.
func TestGemmEpilogue(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	work := make([]float32, max(gemmWork, gonumWork))
	inf := float32(math.Inf(1))
	for _, isa := range isas() {
		for _, s := range [][3]int{{1, 1, 1}, {8, 32, 5}, {13, 70, 300}, {64, 98, 128}} {
			for variant := range 8 {
				m, n, k := s[0], s[1], s[2]
				name := fmt.Sprintf("%v/%dx%dx%d/variant %d", isa, m, n, k, variant)
				ldc := n + 3
				a := randoms(rng, m*k)
				c := randoms(rng, need(m, n, ldc)) // overwritten
				e := epilogue{lo: -inf, hi: inf}
				if variant&1 != 0 {
					e.bias = randoms(rng, m)
				}
				if variant&2 != 0 {
					e.z, e.ldz = randoms(rng, need(m, n, ldc)), ldc
				}
				if variant&4 != 0 {
					e.lo, e.hi = -0.5, 2
				}
				// B with a row stride past its width, packed into a panel
				// off the cache line, and used for two blocks of rows.
				ldb := n + 5
				b := randoms(rng, need(k, n, ldb))
				panel := make([]float32, 1+panelFloats(k, n))[1:]
				packBWith(isa, k, n, b, ldb, panel)
				h := m / 2
				gemmIntoWith(isa, h, n, k, a, k, panel, c, ldc, e, work)
				rest := e
				if e.bias != nil {
					rest.bias = e.bias[h:]
				}
				if e.z != nil {
					rest.z = e.z[h*ldc:]
				}
				gemmIntoWith(isa, m-h, n, k, a[h*k:], k, panel, c[h*ldc:], ldc, rest, work)
				for i := range m {
					for j := range n {
						var want float64
						for p := range k {
							want += float64(a[i*k+p]) * float64(b[p*ldb+j])
						}
						if e.bias != nil {
							want += float64(e.bias[i])
						}
						if e.z != nil {
							want += float64(e.z[i*ldc+j])
						}
						want = min(max(want, float64(e.lo)), float64(e.hi))
						if got := float64(c[i*ldc+j]); !(math.Abs(got-want) <= 1e-5*(1+math.Sqrt(float64(k)))) {
							t.Fatalf("%s: C[%d][%d] = %g, want %g", name, i, j, got, want)
						}
					}
				}
			}
		}
	}
}

// TestGemmEpilogueActivation checks the epilogue's activations that are
// no clip, on every GEMM the CPU runs (gemmInto on a packed B and
// gemmEpilogue, the latter past a block of 512 columns): each element is
// the product without the activation, activated by Go's loop, within the
// C activations' error (TestActivateISAs), and exactly for one activate.c
// lacks (Go's then); C's columns past the product are left alone.
func TestGemmEpilogueActivation(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	work := make([]float32, max(gemmWork, gonumWork))
	acts := []engine.Activation{{Kind: engine.ActSilu}, {Kind: engine.ActSigmoid}, {Kind: engine.ActGelu},
		{Kind: engine.ActHardSwish, Alpha: 1.0 / 6, Beta: 0.5}, {Kind: engine.ActLeakyRelu, Alpha: 0.1}}
	for _, set := range isas() {
		for _, s := range [][3]int{{9, 70, 300}, {3, 600, 20}} {
			m, n, k := s[0], s[1], s[2]
			ldc := n + 3
			a, b, bias := randoms(rng, m*k), randoms(rng, k*n), randoms(rng, m)
			panel := make([]float32, panelFloats(k, n))
			packBWith(set, k, n, b, n, panel)
			for _, act := range acts {
				for _, packed := range []bool{true, false} {
					run := func(act engine.Activation) []float32 {
						c := make([]float32, need(m, n, ldc))
						for i := range c {
							c[i] = 7 // what the columns past n keep
						}
						e := epilogueOf(act)
						e.bias = bias
						if packed {
							gemmIntoWith(set, m, n, k, a, k, panel, c, ldc, e, work)
						} else {
							gemmEpilogueWith(set, false, false, m, n, k, 1, a, k, b, n, c, ldc, e, work)
						}
						return c
					}
					got, want := run(act), run(engine.Activation{})
					for i := range m {
						activateGo(act, want[i*ldc:][:n])
					}
					name := fmt.Sprintf("%v %dx%dx%d %v packed %v", set, m, n, k, act.Kind, packed)
					for i := range got {
						if i%ldc >= n {
							if got[i] != 7 {
								t.Fatalf("%s: C[%d][%d] past the product = %g", name, i/ldc, i%ldc, got[i])
							}
							continue
						}
						tol := 2e-6 * math.Max(1, math.Abs(float64(want[i])))
						if act.Kind == engine.ActLeakyRelu {
							tol = 0
						}
						if !(math.Abs(float64(got[i]-want[i])) <= tol) {
							t.Fatalf("%s: C[%d][%d] = %g, activated after %g", name, i/ldc, i%ldc, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestGemmEpilogueClip checks the epilogue's clip to the bit against Go's
// min(max(v, lo), hi), for bounds of every kind (±0, numbers, infinities,
// NaN) and values at and around them, in whole tiles and at their edges:
// C = A·B with A of ones and k = 1, so that C is B's values, NaN included
// (but -0: a sum starts from +0; TestActivateISAs clips -0).
func TestGemmEpilogueClip(t *testing.T) {
	inf, nan, negZero := float32(math.Inf(1)), float32(math.NaN()), float32(math.Copysign(0, -1))
	values := []float32{0, negZero, nan, inf, -inf, 0.25, -0.25, 0.5, -0.5, 1, -1, 6, 7, -2, 1e-40, -1e-40, 3e38}
	bounds := []float32{-inf, inf, 0, negZero, -0.5, 0.25, 6, nan}
	const m, n = 9, 70 // an 8-row tile and one row, two 32-column tiles and 6 (AVX-512)
	a := make([]float32, m)
	for i := range a {
		a[i] = 1
	}
	b := make([]float32, n)
	for j := range b {
		b[j] = values[j%len(values)]
	}
	work := make([]float32, max(gemmWork, gonumWork))
	for _, set := range isas() {
		for _, lo := range bounds {
			for _, hi := range bounds {
				c := make([]float32, m*n)
				panel := make([]float32, panelFloats(1, n))
				packBWith(set, 1, n, b, n, panel)
				gemmIntoWith(set, m, n, 1, a, 1, panel, c, n, epilogue{lo: lo, hi: hi}, work)
				for i := range m {
					for j, v := range b {
						var sum float32
						got, want := c[i*n+j], min(max(sum+v, lo), hi)
						if math.Float32bits(got) != math.Float32bits(want) && !(got != got && want != want) {
							t.Fatalf("%v: clip %g to [%g, %g] at C[%d][%d] = %g (%#x), Go gives %g (%#x)",
								set, v, lo, hi, i, j, got, math.Float32bits(got), want, math.Float32bits(want))
						}
					}
				}
			}
		}
	}
}

func rows(r, c int, t bool) int {
	if t {
		return c
	}
	return r
}

func cols(r, c int, t bool) int {
	if t {
		return r
	}
	return c
}

func randoms(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// BenchmarkPackB packs 2304 rows of 49, 98 and 196 positions (a 3 × 3
// convolution's patches over 256 channels; ResNet's 7 × 7 and 14 × 14
// stages): whole panels and a last one of 17, 2 and 4 columns.
func BenchmarkPackB(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{49, 98, 196} {
		const k = 2304
		src, panel := randoms(rng, k*n), make([]float32, panelFloats(k, n))
		for _, set := range isas() {
			b.Run(fmt.Sprintf("%dx%d/%v", k, n, set), func(b *testing.B) {
				for b.Loop() {
					packBWith(set, k, n, src, n, panel)
				}
			})
		}
	}
}

// BenchmarkGemm times the GEMMs the CPU runs side by side on products of
// the shapes the executor gives them: a convolution's unit (64 channels ×
// up to 256 positions) at ResNet-50's depths, a Gemm op's block, and a
// fully connected layer at batch size 1.
func BenchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	work := make([]float32, max(gemmWork, gonumWork))
	for _, s := range []struct {
		name    string
		m, n, k int
		tB      bool
	}{
		{"conv-k576-p256", 64, 256, 576, false},
		{"conv-k2304-p98", 64, 98, 2304, false},
		{"conv-k256-p256-1x1", 64, 256, 256, false},
		{"conv-k64-p256-1x1", 64, 256, 64, false}, // the epilogue's share is largest
		{"gemm-64x128x2048", 64, 128, 2048, false},
		{"fc-1x1000x2048", 1, 1000, 2048, true},
	} {
		a, bm, c := randoms(rng, s.m*s.k), randoms(rng, s.k*s.n), make([]float32, s.m*s.n)
		ldb := s.n
		if s.tB {
			ldb = s.k
		}
		for _, isa := range isas() {
			b.Run(s.name+"/"+isa.String(), func(b *testing.B) {
				for b.Loop() {
					gemmAccWith(isa, false, s.tB, s.m, s.n, s.k, 1, a, s.k, bm, ldb, c, s.n, work)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			if s.tB {
				continue
			}
			// As a convolution runs: B packed, bias and ReLU in the
			// epilogue.
			e := epilogue{bias: randoms(rng, s.m), hi: float32(math.Inf(1))}
			panel := make([]float32, panelFloats(s.k, s.n))
			b.Run(s.name+"-relu/"+isa.String(), func(b *testing.B) {
				for b.Loop() {
					packBWith(isa, s.k, s.n, bm, s.n, panel)
					gemmIntoWith(isa, s.m, s.n, s.k, a, s.k, panel, c, s.n, e, work)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
