package cpuexec

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Block sizes of gemmAcc. gonum's Sgemm goes parallel (spawning goroutines)
// once a call covers 4 blocks of 64×64; calls of at most blockM × blockN
// stay serial, so the parallelism is ours. blockK bounds the panels of A
// and B a call walks.
const (
	blockM = 64
	blockN = 128
	blockK = 2048
)

var blas32 gonum.Implementation

func transpose(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// gemmAcc adds alpha·op(A)·op(B) to the m×n matrix C (row stride ldc), on
// the calling goroutine. op(A) is m×k: A (row stride lda) or, with tA, the
// transpose of a k×m A. op(B) is k×n likewise.
func gemmAcc(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	ta, tb := transpose(tA), transpose(tB)
	for k0 := 0; k0 < k; k0 += blockK {
		kb := min(blockK, k-k0)
		for i0 := 0; i0 < m; i0 += blockM {
			mb := min(blockM, m-i0)
			ao := i0*lda + k0
			if tA {
				ao = k0*lda + i0
			}
			for j0 := 0; j0 < n; j0 += blockN {
				nb := min(blockN, n-j0)
				bo := k0*ldb + j0
				if tB {
					bo = j0*ldb + k0
				}
				blas32.Sgemm(ta, tb, mb, nb, kb, alpha, a[ao:], lda, b[bo:], ldb, 1, c[i0*ldc+j0:], ldc)
			}
		}
	}
}
