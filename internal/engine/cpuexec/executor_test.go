package cpuexec_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/engine/cpuexec"
)

// TestGemmLayouts runs hand-made Gemm ops over the layouts the importer
// does not produce from small graphs: transposed A, a column block N0 of a
// wider Y, and every broadcast of C.
func TestGemmLayouts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	w := cpuexec.NewWorkers(2)
	defer w.Close()
	const M, N, K, N0, LDY = 70, 150, 33, 5, 160
	for _, tc := range []struct {
		name           string
		transA, transB bool
		cRows, cCols   int // C's shape; 0 for none
		act            engine.Activation
	}{
		{name: "plain"},
		{name: "transA", transA: true, cRows: M, cCols: LDY},
		{name: "transB-row-bias", transB: true, cRows: 1, cCols: LDY, act: engine.Activation{Kind: engine.ActRelu}},
		{name: "both-column-C", transA: true, transB: true, cRows: M, cCols: 1},
		{name: "scalar-C-clip", cRows: 1, cCols: 1, act: engine.Activation{Kind: engine.ActClip, Min: -1, Max: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := randTensor(r, M*K).Data
			b := randTensor(r, K*N).Data
			op := &engine.Gemm{
				Nodes: tc.name, M: M, N: N, K: K, N0: N0, LDY: LDY, TransA: tc.transA, TransB: tc.transB,
				LDA: K, LDB: N, Alpha: 0.7, Beta: 1.3, Act: tc.act,
				A: engine.TensorRef{Region: engine.IO, Shape: []int{M, K}},
				B: engine.TensorRef{Region: engine.Weights, Shape: []int{K, N}},
				Y: engine.TensorRef{Region: engine.IO, Offset: 4 * M * K, Shape: []int{M, LDY}},
			}
			if tc.transA {
				op.LDA, op.A.Shape = M, []int{K, M}
			}
			if tc.transB {
				op.LDB, op.B.Shape = K, []int{N, K}
			}
			var c []float32
			if tc.cRows > 0 {
				c = randTensor(r, tc.cRows*tc.cCols).Data
				op.C = engine.TensorRef{Region: engine.Weights, Offset: 4 * K * N, Shape: []int{tc.cRows, tc.cCols}}
				if tc.cRows > 1 {
					op.CRowStride = tc.cCols
				}
				if tc.cCols > 1 {
					op.CColStride = 1
				}
			}
			plan := &engine.Plan{Batch: 1, Ops: []engine.Op{op}, IOBytes: 4 * (M*K + M*LDY)}
			page := make([]byte, 4*(K*N+len(c)))
			putFloats(page, b)
			putFloats(page[4*K*N:], c)
			e, err := cpuexec.New(plan, [][]byte{page})
			if err != nil {
				t.Fatal(err)
			}
			io := make([]byte, plan.IOBytes)
			putFloats(io, a)
			if err := e.Run(w, cpuexec.Memory{IO: io, Pages: [][]byte{page}}); err != nil {
				t.Fatal(err)
			}
			got := getFloats(io[4*M*K:], M*LDY)
			want := make([]float32, M*LDY)
			for i := range M {
				for j := range N {
					var s float64
					for k := range K {
						av, bv := a[i*K+k], b[k*N+j]
						if tc.transA {
							av = a[k*M+i]
						}
						if tc.transB {
							bv = b[j*K+k]
						}
						s += float64(av) * float64(bv)
					}
					s *= 0.7
					if c != nil {
						s += 1.3 * float64(c[min(i, tc.cRows-1)*tc.cCols+min(N0+j, tc.cCols-1)])
					}
					want[i*LDY+N0+j] = tc.act.Apply(float32(s))
				}
			}
			compare(t, tc.name, got, want)
		})
	}
}

// TestBatchMatMulTiles runs BatchMatMuls of 130 rows on 2 workers: one
// product and five (tiles of 64 rows, 3 units a product) and 64 (a unit a
// product: one for every two of the workers' parts or more), B either way
// round and one B for all products (stride 0).
func TestBatchMatMulTiles(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	w := cpuexec.NewWorkers(2)
	defer w.Close()
	const M, N, K = 130, 9, 7
	for _, batch := range []int{1, 5, 64} {
		for _, transB := range []bool{false, true} {
			for _, strideB := range []int{K * N, 0} {
				a := randTensor(r, batch*M*K).Data
				b := randTensor(r, max(1, batch*strideB/(K*N))*K*N).Data
				op := &engine.BatchMatMul{
					Batch: batch, M: M, N: N, K: K, StrideA: M * K, StrideB: strideB, TransB: transB, Alpha: 0.5,
					A: engine.TensorRef{Region: engine.IO, Shape: []int{batch, M, K}},
					B: engine.TensorRef{Region: engine.IO, Offset: int64(4 * len(a)), Shape: []int{len(b)}},
					Y: engine.TensorRef{Region: engine.IO, Offset: int64(4 * (len(a) + len(b))), Shape: []int{batch, M, N}},
				}
				plan := &engine.Plan{Batch: 1, Ops: []engine.Op{op}, IOBytes: int64(4 * (len(a) + len(b) + batch*M*N))}
				e, err := cpuexec.New(plan, nil)
				if err != nil {
					t.Fatal(err)
				}
				io := make([]byte, plan.IOBytes)
				putFloats(io, a)
				putFloats(io[4*len(a):], b)
				if err := e.Run(w, cpuexec.Memory{IO: io}); err != nil {
					t.Fatal(err)
				}
				want := make([]float32, batch*M*N)
				for p := range batch {
					for i := range M {
						for j := range N {
							var s float64
							for k := range K {
								bv := b[p*strideB+k*N+j]
								if transB {
									bv = b[p*strideB+j*K+k]
								}
								s += float64(a[p*M*K+i*K+k]) * float64(bv)
							}
							want[(p*M+i)*N+j] = float32(0.5 * s)
						}
					}
				}
				name := fmt.Sprintf("batch %d transB %v strideB %d", batch, transB, strideB)
				compare(t, name, getFloats(io[4*(len(a)+len(b)):], batch*M*N), want)
			}
		}
	}
}

func TestNewRejectsInconsistentOps(t *testing.T) {
	x := engine.TensorRef{Region: engine.IO, Shape: []int{1, 3, 8, 8}}
	y := engine.TensorRef{Region: engine.IO, Offset: x.Bytes(), Shape: []int{1, 4, 8, 8}}
	w := engine.TensorRef{Region: engine.Weights, Shape: []int{4, 3, 3, 3}}
	good := engine.Conv{X: x, W: w, Y: y, Groups: 1, KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1,
		DilationH: 1, DilationW: 1, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1}
	io := x.Bytes() + y.Bytes()
	pages := [][]byte{make([]byte, 4096)} // room for every weight below
	if _, err := cpuexec.New(&engine.Plan{Ops: []engine.Op{&good}, IOBytes: io}, pages); err != nil {
		t.Fatalf("consistent conv rejected: %v", err)
	}
	for name, mutate := range map[string]func(*engine.Conv){
		"pads":          func(c *engine.Conv) { c.PadTop = 0 },
		"groups":        func(c *engine.Conv) { c.Groups = 2 },
		"zero stride":   func(c *engine.Conv) { c.StrideH = 0 },
		"beyond IO":     func(c *engine.Conv) { c.Y.Offset += 4 },
		"misaligned":    func(c *engine.Conv) { c.X.Offset = 2 },
		"bias size":     func(c *engine.Conv) { c.B = engine.TensorRef{Region: engine.Weights, Offset: 512, Shape: []int{3}} },
		"no region":     func(c *engine.Conv) { c.W.Region = engine.Region(9) },
		"kernel":        func(c *engine.Conv) { c.KernelW = 2 },
		"residual size": func(c *engine.Conv) { c.Z = x },
	} {
		c := good
		mutate(&c)
		if _, err := cpuexec.New(&engine.Plan{Ops: []engine.Op{&c}, IOBytes: io}, pages); err == nil {
			t.Errorf("%s: inconsistent conv accepted", name)
		}
	}
	g := &engine.Gemm{M: 2, N: 3, K: 4, LDA: 4, LDB: 3, LDY: 2,
		A: engine.TensorRef{Region: engine.IO, Shape: []int{2, 4}},
		B: engine.TensorRef{Region: engine.IO, Shape: []int{4, 3}},
		Y: engine.TensorRef{Region: engine.IO, Shape: []int{2, 3}}}
	if _, err := cpuexec.New(&engine.Plan{Ops: []engine.Op{g}, IOBytes: 1 << 10}, nil); err == nil || !strings.Contains(err.Error(), "Gemm") {
		t.Errorf("Gemm wider than LDY accepted (err %v)", err)
	}
}

func TestRunChecksBuffers(t *testing.T) {
	x := engine.TensorRef{Region: engine.IO, Shape: []int{1, 4}}
	ws := engine.TensorRef{Region: engine.Workspace, Shape: []int{1, 4}}
	wt := engine.TensorRef{Region: engine.Weights, Page: 1, Offset: 256, Shape: []int{1, 4}}
	y := engine.TensorRef{Region: engine.IO, Offset: 16, Shape: []int{1, 4}}
	plan := &engine.Plan{Batch: 1, IOBytes: 32, WorkspaceBytes: 16, Ops: []engine.Op{
		&engine.Binary{Op: engine.Add, A: x, B: wt, Y: ws, Dims: []int{4}, StrideA: []int{1}, StrideB: []int{1}},
		&engine.Activate{X: ws, Y: y, Act: engine.Activation{Kind: engine.ActRelu}},
	}}
	pages := [][]byte{nil, make([]byte, 272)}
	e, err := cpuexec.New(plan, pages)
	if err != nil {
		t.Fatal(err)
	}
	w := cpuexec.NewWorkers(1)
	defer w.Close()
	for name, mem := range map[string]cpuexec.Memory{
		"small IO":        {IO: make([]byte, 31), Workspace: make([]byte, 16), Pages: pages},
		"small workspace": {IO: make([]byte, 32), Workspace: make([]byte, 15), Pages: pages},
		"missing page":    {IO: make([]byte, 32), Workspace: make([]byte, 16), Pages: pages[:1]},
		"short page":      {IO: make([]byte, 32), Workspace: make([]byte, 16), Pages: [][]byte{nil, make([]byte, 271)}},
	} {
		if err := e.Run(w, mem); err == nil {
			t.Errorf("%s: Run succeeded", name)
		}
	}
	io := make([]byte, 32)
	putFloats(io, []float32{1, -2, 3, -4})
	putFloats(pages[1][256:], []float32{1, 1, -5, 1})
	if err := e.Run(w, cpuexec.Memory{IO: io, Workspace: make([]byte, 16), Pages: pages}); err != nil {
		t.Fatal(err)
	}
	compare(t, "y", getFloats(io[16:], 4), []float32{2, 0, 0, 0})
}
