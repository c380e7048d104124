package cpuexec

import (
	"math"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// An epilogue is what a GEMM adds to a product before writing it, and how
// it clips it: a convolution's bias, residual and ReLU or Clip, a Gemm
// op's C (a matrix, or a row for every row: ldz 0) and ReLU or Clip.
type epilogue struct {
	bias   []float32 // one a row of C, or nil
	z      []float32 // a matrix of C's shape, row stride ldz, or nil
	ldz    int
	lo, hi float32           // the result clipped to [lo, hi]
	act    engine.Activation // then activated (one that is no clip), each row after the product's last block
}

// epilogueOf is the epilogue that applies activation a: a clip to [lo,
// hi] where it is one (ReLU, Clip, or none: ±inf), else a itself.
func epilogueOf(a engine.Activation) epilogue {
	e := epilogue{lo: float32(math.Inf(-1)), hi: float32(math.Inf(1))}
	switch a.Kind {
	case engine.ActNone:
	case engine.ActRelu:
		e.lo = 0
	case engine.ActClip:
		e.lo, e.hi = a.Min, a.Max
	default:
		e.act = a
	}
	return e
}

// start writes bias + Z into the m×n matrix C (row stride ldc).
func (e *epilogue) start(m, n int, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc:][:n]
		var b float32
		if e.bias != nil {
			b = e.bias[i]
		}
		if e.z != nil {
			for j, zv := range e.z[i*e.ldz:][:n] {
				row[j] = zv + b
			}
			continue
		}
		for j := range row {
			row[j] = b
		}
	}
}

// finish clips the m×n matrix C (row stride ldc) to [lo, hi] and
// activates it.
func (e *epilogue) finish(m, n int, c []float32, ldc int) {
	for i := range m {
		row := c[i*ldc:][:n]
		for j, v := range row {
			row[j] = min(max(v, e.lo), e.hi)
		}
		activateGo(e.act, row)
	}
}

// panelWidth bounds the width of a packed B's panels (sgemm.c's NR).
const panelWidth = 32

// panelFloats is the floats packB writes for a k×n B, whatever the
// instruction set: k rows of n columns rounded up to whole panels.
func panelFloats(k, n int) int { return k * ((n + panelWidth - 1) / panelWidth * panelWidth) }

// packBGo is packB for gemmIntoGonum: B's rows one after another.
func packBGo(k, n int, b []float32, ldb int, panel []float32) {
	for p := range k {
		copy(panel[p*n:][:n], b[p*ldb:][:n])
	}
}

// lineFloats is the floats of a 64-byte cache line.
const lineFloats = 16

// cacheAligned returns the n floats of f from its first at a 64-byte
// boundary (a panel is best so aligned); f has n + lineFloats.
func cacheAligned(f []float32, n int) []float32 {
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(f))) % 64 / 4)
	return f[(lineFloats-off)%lineFloats:][:n]
}

// gemmIntoGonum writes A·B + the epilogue into C with gemmGonum.
func gemmIntoGonum(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, e epilogue, work []float32) {
	gemmEpilogueGonum(false, false, m, n, k, 1, a, lda, b, ldb, c, ldc, e, work)
}

// gemmEpilogueGonum writes clip(alpha·op(A)·op(B) + bias + Z) into C as e
// says, with gemmGonum.
func gemmEpilogueGonum(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, e epilogue, work []float32) {
	e.start(m, n, c, ldc)
	gemmGonum(tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, work)
	e.finish(m, n, c, ldc)
}

// Block sizes of the Gemm kernels' units, and of gemmGonum's calls.
// gonum's Sgemm goes parallel (spawning goroutines) once a call covers 4
// blocks of 64×64; calls of at most blockM × blockN stay serial, so the
// parallelism is ours. blockK bounds the blocks of B gemmGonum transposes.
const (
	blockM = 64
	blockN = 128
	blockK = 2048
)

// gonumWork is the floats of work memory gemmGonum needs: a block of B
// transposed.
const gonumWork = blockN * blockK

var blas32 gonum.Implementation

// gemmGonum adds alpha·op(A)·op(B) to the m×n matrix C (row stride ldc), on
// the calling goroutine, with gonum's Sgemm: the GEMM of builds without cgo.
// op(A) is m×k: A (row stride lda) or, with tA, the transpose of a k×m A.
// op(B) is k×n likewise. work holds gonumWork floats. Each block of B is
// transposed first where it is not: gonum multiplies rows by rows (dot
// products, each summed in parts) twice as fast as rows by columns, which
// adds every product to C in turn (the error of a long sum growing with
// its length).
func gemmGonum(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, work []float32) {
	ta := blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	for j0 := 0; j0 < n; j0 += blockN {
		nb := min(blockN, n-j0)
		for k0 := 0; k0 < k; k0 += blockK {
			kb := min(blockK, k-k0)
			bb, ldbb := work, kb
			if tB {
				bb, ldbb = b[j0*ldb+k0:], ldb
			} else {
				// 8 columns at a time: 8 rows of work written in turn.
				for jb := 0; jb < nb; jb += 8 {
					w := min(8, nb-jb)
					for p := range kb {
						for j, v := range b[(k0+p)*ldb+j0+jb:][:w] {
							work[(jb+j)*kb+p] = v
						}
					}
				}
			}
			for i0 := 0; i0 < m; i0 += blockM {
				ao := i0*lda + k0
				if tA {
					ao = k0*lda + i0
				}
				blas32.Sgemm(ta, blas.Trans, min(blockM, m-i0), nb, kb, alpha, a[ao:], lda, bb, ldbb, 1, c[i0*ldc+j0:], ldc)
			}
		}
	}
}
