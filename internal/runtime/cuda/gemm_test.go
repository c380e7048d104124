//go:build linux && cgo

package cuda

import (
	"math"
	"testing"

	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/runtime"
)

// gemmModel writes a model of three fully connected layers (PyTorch's
// layout, transB) to dir: in features 30 (not a multiple of 4, gemm_rows'
// scalar path), then 52 and 4112 (its vector path; 4112 long enough for
// its loop of four steps at once, and a remainder), with ReLU and a bias.
func gemmModel(t *testing.T, dir string) string {
	return gemmLayers(t, dir, 30, 52, 4112, 9)
}

// gemmLayers writes a model of fully connected layers of these widths,
// input first, as gemmModel.
func gemmLayers(t *testing.T, dir string, widths ...int) string {
	t.Helper()
	b := modelgen.NewBuilder("gemms", 7)
	x := b.Input("input", widths[0])
	last := len(widths) - 2
	for i := range last + 1 {
		l := struct{ in, out int }{widths[i], widths[i+1]}
		name := b.Fresh("fc")
		w := b.Normal(name+".weight", 0, math.Sqrt(1/float64(l.in)), l.out, l.in)
		bias := b.Normal(name+".bias", 0, 0.1, l.out)
		out := name
		if i == last {
			out = "output"
		}
		b.NodeOut("Gemm", out, []string{x, w, bias}, modelgen.Float("alpha", 1), modelgen.Float("beta", 1),
			modelgen.Int("transB", 1))
		x = out
		if i < last {
			x = b.Node("Relu", []string{x})
		}
	}
	b.Output("output", widths[last+1])
	return writeModel(t, dir, b)
}

// TestGPUGemmModes runs a model of Gemms with each way of computing them
// alone (cuBLAS, gemm_rows with one and four columns per block) at batch
// sizes 1 to 16 against the CPU runtime.
func TestGPUGemmModes(t *testing.T) {
	testGemmModes(t, gemmModel(t, t.TempDir()))
}

// TestGPUGemmRowsPaths is TestGPUGemmModes with the same paths of
// gemm_rows (the loop of four steps and its remainder, k 4112; the vector
// path, k 52; the scalar one, k 9) but few output columns, so that it
// runs in seconds where the fake runs kernelSource itself, a fiber per
// GPU thread (TestFakeCUDAKernelSource leaves TestGPUGemmModes out).
func TestGPUGemmRowsPaths(t *testing.T) {
	testGemmModes(t, gemmLayers(t, t.TempDir(), 4112, 9, 52, 6))
}

func testGemmModes(t *testing.T, path string) {
	ref := newReference(t, path)
	defer func(w []gemmMode) { gemmWays = w }(gemmWays)
	for _, mode := range []gemmMode{gemmBLAS, gemmRows1, gemmRows4} {
		t.Run(mode.String(), func(t *testing.T) {
			gemmWays = []gemmMode{mode}
			// Outputs are what is checked: no timing of each batch size.
			rt := newRuntimeWith(t, func(cfg *Config) { cfg.Measure = false })
			m, err := rt.Load(path, runtime.LoadOptions{MaxBatch: 16, MaxExec: math.MaxUint64, PageSize: testPage})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			for _, v := range m.(*Model).inst[0].variants {
				for _, s := range v.steps {
					if g, ok := s.(*gemmStep); ok && g.mode != mode {
						t.Fatalf("batch size %d: a Gemm runs as %v", v.batch, g.mode)
					}
				}
			}
			pages := make([]int, m.Info().NumPages)
			for i := range pages {
				pages[i] = i
			}
			if _, err := m.LoadWeights(0, pages, 0); err != nil {
				t.Fatal(err)
			}
			matchesCPU(t, m, ref, pages, 1e-5, []batchCase{{1, 1}, {2, 2}, {3, 4}, {7, 8}, {16, 16}})
		})
	}
}
