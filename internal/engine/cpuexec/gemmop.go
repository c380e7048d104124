package cpuexec

import (
	"fmt"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// gemmKernel computes a Gemm op in tiles of mt × nt of its block of Y:
// initialise with Beta·C, accumulate Alpha·op(A)·op(B), activate. mt is
// blockM times 4, 2 or 1, the most that leaves minGemmUnits tiles with nt
// of blockN, 96 or 64 columns, the widest that does: each tile's GEMM
// packs its columns of B once for all its rows, so that B is packed once
// for each tile of rows (ViT-B/16's 197 tokens were two tiles of 128 rows
// by 128 columns, each packing the weights, and are one of 256 by 96 or
// 128).
type gemmKernel struct {
	op                 *engine.Gemm
	mt, nt, nMT, units int
}

// minGemmUnits is the fewest tiles a Gemm is cut into where its rows allow,
// to keep the workers busy.
const minGemmUnits = 8

// dotRows is the most rows of A sgemm.c multiplies by a transposed B as dot
// products (DOT_M), without packing B and without an epilogue.
const dotRows = 8

func newGemm(o *engine.Gemm) (kernel, error) {
	rowsA, colsA := o.M, o.K
	if o.TransA {
		rowsA, colsA = o.K, o.M
	}
	rowsB, colsB := o.K, o.N
	if o.TransB {
		rowsB, colsB = o.N, o.K
	}
	ok := o.M >= 0 && o.N >= 0 && o.K >= 0 && o.N0 >= 0 && o.N0+o.N <= o.LDY &&
		o.LDA >= max(colsA, 1) && o.LDB >= max(colsB, 1) &&
		need(rowsA, colsA, o.LDA) <= o.A.Elems() && need(rowsB, colsB, o.LDB) <= o.B.Elems() &&
		need(o.M, o.LDY, o.LDY) <= o.Y.Elems() && o.CRowStride >= 0 && o.CColStride >= 0
	if ok && o.C.Present() && o.M > 0 && o.N > 0 {
		ok = o.CRowStride*(o.M-1)+o.CColStride*(o.N0+o.N-1) < o.C.Elems()
	}
	if !ok {
		return nil, fmt.Errorf("inconsistent geometry M=%d N=%d K=%d N0=%d A%v B%v C%v Y%v", o.M, o.N, o.K, o.N0, o.A.Shape, o.B.Shape, o.C.Shape, o.Y.Shape)
	}
	k := &gemmKernel{op: o}
	var nNT int
search:
	for _, k.mt = range []int{4 * blockM, 2 * blockM, blockM} {
		k.nMT = (o.M + k.mt - 1) / k.mt
		for _, k.nt = range []int{blockN, 96, 64} {
			if nNT = (o.N + k.nt - 1) / k.nt; k.nMT*nNT >= minGemmUnits {
				break search
			}
		}
	}
	k.units = k.nMT * nNT
	return k, nil
}

// need is the number of elements a rows×cols matrix with row stride ld
// spans.
func need(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

func (k *gemmKernel) run(mem *memory, part, parts int, s *scratch) {
	o := k.op
	a, b, c, y := mem.f32(o.A), mem.f32(o.B), mem.f32(o.C), mem.f32(o.Y)
	lo, hi := span(k.units, part, parts)
	for u := lo; u < hi; u++ {
		i0 := u % k.nMT * k.mt
		j0 := u / k.nMT * k.nt
		mb, nb := min(k.mt, o.M-i0), min(k.nt, o.N-j0)
		ao := i0 * o.LDA
		if o.TransA {
			ao = i0
		}
		bo := j0
		if o.TransB {
			bo = j0 * o.LDB
		}
		yt := y[i0*o.LDY+o.N0+j0:]
		// The GEMM sets Y to C (its epilogue's Z: a matrix, or a bias row of
		// row stride 0), adds the product and activates it, Y written once
		// (a ReLU or Clip with each tile, another once a block of columns
		// is). A C it cannot read so, Beta·C, is written first and added
		// to, as are the rows sgemm.c takes as dot products (no epilogue
		// there, the activation applied after) and a product of no depth.
		e := epilogueOf(o.Act)
		epi := o.K > 0 && !(o.TransB && !o.TransA && mb <= dotRows)
		switch {
		case c == nil || o.Beta == 0:
			if !epi {
				for i := range mb {
					clear(yt[i*o.LDY:][:nb])
				}
			}
		case o.Beta == 1 && o.CColStride == 1 && epi:
			e.z, e.ldz = c[i0*o.CRowStride+o.N0+j0:], o.CRowStride
		default:
			for i := range mb {
				row, ci := yt[i*o.LDY:][:nb], (i0+i)*o.CRowStride+(o.N0+j0)*o.CColStride
				for j := range row {
					row[j] = o.Beta * c[ci+j*o.CColStride]
				}
			}
			e.z, e.ldz = yt, o.LDY // itself, where the epilogue runs
		}
		if epi {
			gemmEpilogue(o.TransA, o.TransB, mb, nb, o.K, o.Alpha, a[ao:], o.LDA, b[bo:], o.LDB, yt, o.LDY, e, s.buf)
		} else if o.K > 0 {
			gemmAcc(o.TransA, o.TransB, mb, nb, o.K, o.Alpha, a[ao:], o.LDA, b[bo:], o.LDB, yt, o.LDY, s.buf)
		}
		if !epi && o.Act.Kind != engine.ActNone {
			for i := range mb {
				activate(o.Act, yt[i*o.LDY:][:nb])
			}
		}
	}
}

// batchMatMulKernel computes a BatchMatMul a tile of one product per unit:
// the whole product where there is one for every two parts (the workers
// balance whole products as well: ViT-B/16's 12 heads, 24 ops, on two
// workers took 9.8–13.3 ms as tiles, 7.8–8.6 whole), else tiles of up to
// blockM rows. Each tile packs its product's B again
// (attention's Kᵀ is transposed as it is packed), so whole products pack
// it once. B[i] spans K·N elements either way round.
type batchMatMulKernel struct {
	op *engine.BatchMatMul
}

func newBatchMatMul(o *engine.BatchMatMul) (kernel, error) {
	ok := o.Batch >= 1 && o.M >= 1 && o.N >= 1 && o.K >= 1 && o.StrideA >= 0 && o.StrideB >= 0 &&
		(o.Batch-1)*o.StrideA+o.M*o.K <= o.A.Elems() && (o.Batch-1)*o.StrideB+o.K*o.N <= o.B.Elems() &&
		o.Batch*o.M*o.N == o.Y.Elems()
	if !ok {
		return nil, fmt.Errorf("inconsistent geometry %d × (%d×%d · %d×%d), strides %d, %d, for A%v B%v Y%v",
			o.Batch, o.M, o.K, o.K, o.N, o.StrideA, o.StrideB, o.A.Shape, o.B.Shape, o.Y.Shape)
	}
	return &batchMatMulKernel{op: o}, nil
}

func (k *batchMatMulKernel) run(mem *memory, part, parts int, s *scratch) {
	o := k.op
	a, b, y := mem.f32(o.A), mem.f32(o.B), mem.f32(o.Y)
	mt := blockM
	if 2*o.Batch >= parts {
		mt = o.M
	}
	nMT := (o.M + mt - 1) / mt
	lo, hi := span(o.Batch*nMT, part, parts)
	for u := lo; u < hi; u++ {
		i, i0 := u/nMT, u%nMT*mt
		mb := min(mt, o.M-i0)
		yt := y[(i*o.M+i0)*o.N:][:mb*o.N]
		clear(yt)
		ldb := o.N
		if o.TransB {
			ldb = o.K
		}
		gemmAcc(false, o.TransB, mb, o.N, o.K, o.Alpha, a[i*o.StrideA+i0*o.K:], o.K, b[i*o.StrideB:], ldb, yt, o.N, s.buf)
	}
}
