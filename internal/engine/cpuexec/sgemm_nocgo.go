//go:build !cgo

package cpuexec

// gemmWork is the floats of work memory gemmAcc needs.
const gemmWork = gonumWork

// gemmAcc adds alpha·op(A)·op(B) to the m×n matrix C (row stride ldc), on
// the calling goroutine, with gonum's Sgemm: without cgo, sgemm.c is not
// built. op(A) is m×k: A (row stride lda) or, with tA, the transpose of a
// k×m A. op(B) is k×n likewise.
func gemmAcc(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, work []float32) {
	gemmGonum(tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, work)
}

// packB writes the k×n matrix B (row stride ldb) into panel as gemmInto
// reads it. panel holds panelFloats(k, n) floats.
func packB(k, n int, b []float32, ldb int, panel []float32) { packBGo(k, n, b, ldb, panel) }

// gemmInto writes act(clip(A·B + bias + Z)) into the m×n matrix C (row stride
// ldc), as e says, on the calling goroutine. A is m×k (row stride lda), B
// k×n as packB packed it into panel. work holds gemmWork floats.
func gemmInto(m, n, k int, a []float32, lda int, panel []float32, c []float32, ldc int, e epilogue, work []float32) {
	gemmIntoGonum(m, n, k, a, lda, panel, n, c, ldc, e, work)
}

// gemmEpilogue writes act(clip(alpha·op(A)·op(B) + bias + Z)) into the m×n
// matrix C (row stride ldc), as e says, with gonum's Sgemm. k > 0.
func gemmEpilogue(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, e epilogue, work []float32) {
	gemmEpilogueGonum(tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, e, work)
}
