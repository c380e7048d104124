//go:build cgo

package cpuexec

// #cgo noescape cw_sgemm
// #cgo nocallback cw_sgemm
// #cgo noescape cw_sgemm_into
// #cgo nocallback cw_sgemm_into
// #cgo noescape cw_sgemm_ep
// #cgo nocallback cw_sgemm_ep
// #cgo noescape cw_pack_b
// #cgo nocallback cw_pack_b
// #include "kernels.h"
//
// // cw_sgemm_into is cw_sgemm_packed with an epilogue, and cw_sgemm_ep
// // cw_sgemm with one, whose fields Go passes one by one (Go memory passed
// // to C may not hold Go pointers).
// static void cw_sgemm_into(int isa, long m, long n, long k, const float *a, long lda, const float *pb,
//                           float *c, long ldc, const float *bias, const float *z, long ldz, float lo, float hi,
//                           int act, float aa, float ab, float *work) {
// 	struct cw_epilogue ep = {bias, z, ldz, lo, hi, act, aa, ab};
// 	cw_sgemm_packed(isa, m, n, k, a, lda, pb, c, ldc, &ep, work);
// }
// static void cw_sgemm_ep(int isa, int tA, int tB, long m, long n, long k, float alpha, const float *a, long lda,
//                         const float *b, long ldb, float *c, long ldc, const float *bias, const float *z, long ldz,
//                         float lo, float hi, int act, float aa, float ab, float *work) {
// 	struct cw_epilogue ep = {bias, z, ldz, lo, hi, act, aa, ab};
// 	cw_sgemm(isa, tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, &ep, work);
// }
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// gemmWork is the floats of work memory gemmAcc needs (gemmAccWith with
// isaGo needs gonumWork).
const gemmWork = C.CW_SGEMM_WORK

// gemmAcc adds alpha·op(A)·op(B) to the m×n matrix C (row stride ldc), on
// the calling goroutine. op(A) is m×k: A (row stride lda) or, with tA, the
// transpose of a k×m A. op(B) is k×n likewise. work holds gemmWork floats.
func gemmAcc(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, work []float32) {
	gemmAccWith(cpuISA, tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, work)
}

func gemmAccWith(set isa, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, work []float32) {
	if m <= 0 || n <= 0 || k <= 0 {
		return
	}
	if set == isaGo {
		gemmGonum(tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, work)
		return
	}
	checkGemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc, work)
	C.cw_sgemm(C.int(set), cbool(tA), cbool(tB), C.long(m), C.long(n), C.long(k), C.float(alpha),
		cfloats(a), C.long(lda), cfloats(b), C.long(ldb), cfloats(c), C.long(ldc), nil, cfloats(work))
}

// panelWidth is at least every instruction set's panel width; dotRows is
// sgemm.c's.
const _ = uint(panelWidth - C.CW_SGEMM_MAX_NR)
const _ = uint(dotRows - C.CW_SGEMM_DOT_M)
const _ = uint(C.CW_SGEMM_DOT_M - dotRows)

// slack is kernels.h's.
const _ = uint(slack - C.CW_SLACK)
const _ = uint(C.CW_SLACK - slack)

// packB writes the k×n matrix B (row stride ldb) into panel as gemmInto
// reads it: packed once for the products of several blocks of rows by it
// (a convolution's output channels, 64 at a time, by one tile of its
// patches). panel holds panelFloats(k, n) floats.
func packB(k, n int, b []float32, ldb int, panel []float32) {
	packBWith(cpuISA, k, n, b, ldb, panel)
}

func packBWith(set isa, k, n int, b []float32, ldb int, panel []float32) {
	if k <= 0 || n <= 0 {
		return
	}
	if set == isaGo {
		packBGo(k, n, b, ldb, panel)
		return
	}
	if need(k, n, ldb) > len(b) || ldb < n || len(panel) < panelFloats(k, n) {
		panic(fmt.Sprintf("cpuexec: packing %d×%d beyond its operands (%d floats, ldb %d; panel %d)", k, n, len(b), ldb, len(panel)))
	}
	C.cw_pack_b(C.int(set), C.long(k), C.long(n), cfloats(b), C.long(ldb), cfloats(panel))
}

// gemmInto writes act(clip(A·B + bias + Z)) into the m×n matrix C (row stride
// ldc), as e says, on the calling goroutine. A is m×k (row stride lda), B
// k×n as packB packed it into panel. work holds gemmWork floats.
func gemmInto(m, n, k int, a []float32, lda int, panel []float32, c []float32, ldc int, e epilogue, work []float32) {
	gemmIntoWith(cpuISA, m, n, k, a, lda, panel, c, ldc, e, work)
}

func gemmIntoWith(set isa, m, n, k int, a []float32, lda int, panel []float32, c []float32, ldc int, e epilogue, work []float32) {
	if m <= 0 || n <= 0 {
		return
	}
	if set == isaGo || k <= 0 {
		gemmIntoGonum(m, n, k, a, lda, panel, n, c, ldc, e, work)
		return
	}
	if need(m, k, lda) > len(a) || lda < k || len(panel) < panelFloats(k, n) || need(m, n, ldc) > len(c) || ldc < n ||
		len(work) < gemmWork {
		panic(fmt.Sprintf("cpuexec: gemm %d×%d×%d beyond its operands (%d, %d, %d floats; lda %d, ldc %d; work %d)",
			m, n, k, len(a), len(panel), len(c), lda, ldc, len(work)))
	}
	checkEpilogue(m, n, e)
	act, aa, ab := e.cActivation()
	C.cw_sgemm_into(C.int(set), C.long(m), C.long(n), C.long(k), cfloats(a), C.long(lda), cfloats(panel),
		cfloats(c), C.long(ldc), cfloats(e.bias), cfloats(e.z), C.long(e.ldz), C.float(e.lo), C.float(e.hi), act,
		C.float(aa), C.float(ab), cfloats(work))
	e.activateGo(m, n, c, ldc)
}

// gemmEpilogue writes act(clip(alpha·op(A)·op(B) + bias + Z)) into the m×n
// matrix C (row stride ldc), as e says, on the calling goroutine: gemmAcc
// with an epilogue, which sets C from bias and Z with the first block of
// the product's depth rather than adding to it. k > 0.
func gemmEpilogue(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, e epilogue, work []float32) {
	gemmEpilogueWith(cpuISA, tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, e, work)
}

func gemmEpilogueWith(set isa, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, e epilogue, work []float32) {
	if m <= 0 || n <= 0 {
		return
	}
	if set == isaGo || k <= 0 {
		gemmEpilogueGonum(tA, tB, m, n, k, alpha, a, lda, b, ldb, c, ldc, e, work)
		return
	}
	checkGemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc, work)
	checkEpilogue(m, n, e)
	act, aa, ab := e.cActivation()
	C.cw_sgemm_ep(C.int(set), cbool(tA), cbool(tB), C.long(m), C.long(n), C.long(k), C.float(alpha),
		cfloats(a), C.long(lda), cfloats(b), C.long(ldb), cfloats(c), C.long(ldc), cfloats(e.bias), cfloats(e.z),
		C.long(e.ldz), C.float(e.lo), C.float(e.hi), act, C.float(aa), C.float(ab), cfloats(work))
	e.activateGo(m, n, c, ldc)
}

// cActivation is e's activation as the C epilogue takes it: CW_ACT_NONE
// where there is none or activate.c lacks it (activateGo then applies it).
func (e *epilogue) cActivation() (act C.int, a, b float32) {
	if code, a, b, ok := cActivation(e.act); ok && e.act.Kind != engine.ActNone {
		return code, a, b
	}
	return C.CW_ACT_NONE, 0, 0
}

// inGo says whether e has an activation that activate.c lacks, which Go
// applies after the C (activateGo).
func (e *epilogue) inGo() bool {
	_, _, _, ok := cActivation(e.act)
	return !ok && e.act.Kind != engine.ActNone
}

// activateGo applies e's activation to the m×n matrix C (row stride ldc)
// where activate.c lacks it.
func (e *epilogue) activateGo(m, n int, c []float32, ldc int) {
	if !e.inGo() {
		return
	}
	for i := range m {
		activateGo(e.act, c[i*ldc:][:n])
	}
}

// checkEpilogue panics unless e's bias and Z span an m×n product's.
func checkEpilogue(m, n int, e epilogue) {
	if e.bias != nil && len(e.bias) < m || e.z != nil && (e.ldz < 0 || len(e.z) < need(m, n, e.ldz)) {
		panic(fmt.Sprintf("cpuexec: gemm %d×%d beyond its epilogue (%d biases, %d floats of Z, row stride %d)",
			m, n, len(e.bias), len(e.z), e.ldz))
	}
}

// checkGemm panics unless the operands span what a GEMM of their shapes
// reads and writes: C reads and writes without bounds checks.
func checkGemm(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, work []float32) {
	rowsA, colsA := m, k
	if tA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if tB {
		rowsB, colsB = n, k
	}
	if need(rowsA, colsA, lda) > len(a) || need(rowsB, colsB, ldb) > len(b) || need(m, n, ldc) > len(c) ||
		lda < colsA || ldb < colsB || ldc < n || len(work) < gemmWork {
		panic(fmt.Sprintf("cpuexec: gemm %d×%d×%d beyond its operands (%d, %d, %d floats; lda %d, ldb %d, ldc %d; work %d)",
			m, n, k, len(a), len(b), len(c), lda, ldb, ldc, len(work)))
	}
}

// cfloats is the address of f's first float, or NULL for none.
func cfloats(f []float32) *C.float {
	if len(f) == 0 {
		return nil
	}
	return (*C.float)(unsafe.Pointer(&f[0]))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
