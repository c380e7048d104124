//go:build linux && cgo

package cuda

import (
	"fmt"
	"strings"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/engine"
)

// gemmMode is how a Gemm is computed.
type gemmMode uint8

const (
	// gemmBLAS is cublasSgemm, then the epilogue kernel for Beta·C and
	// the activation where there are any.
	gemmBLAS gemmMode = iota
	// gemmRows1 and gemmRows4 are the runtime's gemm_rows kernel (epilogue
	// included) with one or four output columns per block: for a few rows
	// against weights stored a row per column, where cuBLAS reads the
	// weights at a fraction of the memory bandwidth (VGG's classifier,
	// split over 16 MiB pages, took 0.93 ms of 3.6 at batch size 2).
	gemmRows1
	gemmRows4
)

var gemmModeNames = [...]string{"cublas", "gemm_rows/1", "gemm_rows/4"}

func (m gemmMode) String() string { return gemmModeNames[m] }

// gemmWays are the modes choose times where gemm_rows applies, in order
// (the first is the reference for the others' outputs); tests narrow it
// to one.
var gemmWays = []gemmMode{gemmBLAS, gemmRows1, gemmRows4}

// gemmStep is a Gemm computed as its mode says, chosen at Load by timing
// where there is a choice. cuBLAS sees the row-major operands as
// column-major transposes (Yᵀ = op(B)ᵀ·op(A)ᵀ).
type gemmStep struct {
	op   *engine.Gemm
	mode gemmMode
}

// rowsKernel is whether gemm_rows can compute the op: A not transposed,
// B transposed (a row per output column), at most gemmRowsMax rows, and
// C not overlapping Y (the choice runs the op more than once).
func (s *gemmStep) rowsKernel() bool {
	o := s.op
	if o.TransA || !o.TransB || o.M > gemmRowsMax || o.M == 0 || o.N == 0 {
		return false
	}
	if o.C.Present() && o.C.Region == o.Y.Region &&
		o.C.Offset < o.Y.Offset+o.Y.Bytes() && o.Y.Offset < o.C.Offset+o.C.Bytes() {
		return false
	}
	return true
}

func (s *gemmStep) enqueue(b *builder, k *kernels, m *binding) error {
	o := s.op
	if o.M == 0 || o.N == 0 {
		return nil
	}
	y := m.addr(o.Y).Add(4 * uint64(o.N0))
	withC := o.C.Present() && o.Beta != 0
	var c cu.DevicePtr
	if withC {
		c = m.addr(o.C).Add(4 * uint64(o.N0*o.CColStride))
	}
	if s.mode != gemmBLAS {
		g := gemmRowsArgs{a: m.addr(o.A), b: m.addr(o.B), y: y, m: o.M, n: o.N, k: o.K, lda: o.LDA, ldb: o.LDB,
			ldy: o.LDY, alpha: o.Alpha, act: o.Act, cols: 1}
		if s.mode == gemmRows4 {
			g.cols = 4
		}
		if withC {
			g.c, g.cRow, g.cCol, g.beta = c, o.CRowStride, o.CColStride, o.Beta
		}
		return k.launchGemmRows(b.s, &b.args, g)
	}
	opA, opB := cu.OpN, cu.OpN
	if o.TransA {
		opA = cu.OpT
	}
	if o.TransB {
		opB = cu.OpT
	}
	if err := b.blas.Sgemm(opB, opA, o.N, o.M, o.K, o.Alpha, m.addr(o.B), o.LDB, m.addr(o.A), o.LDA, 0, y, o.LDY); err != nil {
		return err
	}
	if !withC && o.Act.Kind == engine.ActNone {
		return nil
	}
	g := gemmEpilogueArgs{y: y, rows: o.M, cols: o.N, ldy: o.LDY, act: o.Act}
	if withC {
		g.c, g.cRow, g.cCol, g.beta = c, o.CRowStride, o.CColStride, o.Beta
	}
	return k.launchGemmEpilogue(b.s, &b.args, g)
}

// choose picks the mode on d by timing cuBLAS and gemm_rows where the
// kernel applies (choose.go); choices are cached per GPU by geometry
// (d.choices, which may come from a file). It runs under d.loadMu.
func (s *gemmStep) choose(d *device, b *builder, m *binding, tf32 bool) error {
	s.mode = gemmBLAS
	if !s.rowsKernel() {
		return nil
	}
	o := s.op
	key := fmt.Sprintf("gemm m%d n%d k%d lda%d ldb%d ldy%d c=%v tf32=%v", o.M, o.N, o.K, o.LDA, o.LDB, o.LDY, o.C.Present(), tf32)
	if mode, ok := d.choices.gemm[key]; ok {
		s.mode = mode
		d.choices.reused++
		return nil
	}
	d.choices.timed++
	ways := gemmWays
	// The output is the op's columns of Y's first M rows.
	rows := 4 * ((o.M-1)*o.LDY + o.N0 + o.N)
	c := candidates{
		n:    len(ways),
		set:  func(i int) error { s.mode = ways[i]; return nil },
		name: func(i int) string { return ways[i].String() },
		out: func() ([]byte, error) {
			all, err := b.readBack(d, m.addr(o.Y), rows)
			if err != nil {
				return nil, err
			}
			out := make([]byte, 0, o.M*o.N*4)
			for r := range o.M {
				from := 4 * (r*o.LDY + o.N0)
				out = append(out, all[from:from+4*o.N]...)
			}
			return out, nil
		},
		tol: tolerance(tf32),
	}
	best, _, tried, ok := b.fastest(c, func() error { return s.enqueue(b, d.k, m) })
	if !ok {
		return fmt.Errorf("no way to compute the Gemm runs: %s", strings.Join(tried, "; "))
	}
	s.mode = ways[best]
	d.choices.setGemm(key, s.mode)
	return nil
}

func (s *gemmStep) destroy() {}

// batchMatMulStep is a BatchMatMul as one cublasSgemmStridedBatched on
// the column-major transposes (Yᵀ[i] = Alpha·op(B[i])ᵀ·A[i]ᵀ); a stride
// of 0 repeats a matrix, as cuBLAS allows.
type batchMatMulStep struct{ op *engine.BatchMatMul }

func newBatchMatMulStep(o *engine.BatchMatMul) (step, error) {
	if o.Batch < 1 || o.M < 1 || o.N < 1 || o.K < 1 || o.StrideA < 0 || o.StrideB < 0 ||
		(o.Batch-1)*o.StrideA+o.M*o.K > o.A.Elems() || (o.Batch-1)*o.StrideB+o.K*o.N > o.B.Elems() ||
		o.Batch*o.M*o.N != o.Y.Elems() {
		return nil, fmt.Errorf("batched matmul %d × (%d×%d · %d×%d), strides %d, %d, of A%v B%v into Y%v",
			o.Batch, o.M, o.K, o.K, o.N, o.StrideA, o.StrideB, o.A.Shape, o.B.Shape, o.Y.Shape)
	}
	return &batchMatMulStep{op: o}, nil
}

func (s *batchMatMulStep) enqueue(b *builder, k *kernels, m *binding) error {
	o := s.op
	opB, ldb := cu.OpN, o.N
	if o.TransB {
		opB, ldb = cu.OpT, o.K
	}
	return b.blas.SgemmStridedBatched(opB, cu.OpN, o.N, o.M, o.K, o.Alpha, m.addr(o.B), ldb, int64(o.StrideB),
		m.addr(o.A), o.K, int64(o.StrideA), 0, m.addr(o.Y), o.N, int64(o.M*o.N), o.Batch)
}

func (s *batchMatMulStep) destroy() {}
