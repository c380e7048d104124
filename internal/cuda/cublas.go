//go:build linux && cgo

package cuda

/*
#include "cublas.h"

#cgo noescape cw_cublasCreate
#cgo nocallback cw_cublasCreate
#cgo noescape cw_cublasGetVersion
#cgo nocallback cw_cublasGetVersion
#cgo noescape cw_cublasSgemm
#cgo nocallback cw_cublasSgemm
#cgo noescape cw_cublasSgemmStridedBatched
#cgo nocallback cw_cublasSgemmStridedBatched
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// libcublas.so needs libcublasLt.so of the same version, which lies in the
// same directory.
var cublas = loader{spec: libSpec{
	names:    []string{"libcublas.so.13", "libcublas.so.12"},
	siblings: []string{"libcublasLt.so.*"},
	table:    func() (*C.cw_sym, C.int) { return C.cw_cublas_syms(), C.cw_cublas_nsyms() },
}}

// LoadCUBLAS opens cuBLAS.
func LoadCUBLAS() (*Library, error) { return cublas.load() }

func blasCheck(fn string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	return blasError(fn, rc)
}

func blasError(fn string, rc C.int) error {
	if rc == C.CW_NOSYM {
		return cublas.noSymbol(fn)
	}
	msg := fmt.Sprintf("cuBLAS status %d", int(rc))
	if s := C.cw_cublasGetStatusName(rc); s != nil {
		msg = C.GoString(s)
	}
	if s := C.cw_cublasGetStatusString(rc); s != nil {
		msg += ": " + C.GoString(s)
	}
	return &Error{Func: fn, Code: int(rc), Msg: msg}
}

// BLAS is a cuBLAS handle, bound to the context current when it was
// created.
type BLAS struct{ p unsafe.Pointer }

// NewBLAS creates a cuBLAS handle in the current context.
func NewBLAS() (BLAS, error) {
	var h unsafe.Pointer
	err := blasCheck("cublasCreate", C.cw_cublasCreate(&h))
	return BLAS{h}, err
}

// Destroy releases the handle.
func (h BLAS) Destroy() error { return blasCheck("cublasDestroy", C.cw_cublasDestroy(h.p)) }

// Version is cuBLAS's version, e.g. 130100.
func (h BLAS) Version() (int, error) {
	var v C.int
	return int(v), blasCheck("cublasGetVersion", C.cw_cublasGetVersion(h.p, &v))
}

// SetStream makes h queue its work on s. It also resets the workspace to
// cuBLAS's own pool: call SetWorkspace after it.
func (h BLAS) SetStream(s Stream) error {
	return blasCheck("cublasSetStream", C.cw_cublasSetStream(h.p, s.p))
}

// SetWorkspace gives cuBLAS n bytes at ws for its kernels, so that it
// allocates nothing during stream capture (NVIDIA recommends 32 MiB on
// Hopper).
func (h BLAS) SetWorkspace(ws DevicePtr, n uint64) error {
	return blasCheck("cublasSetWorkspace", C.cw_cublasSetWorkspace(h.p, C.cw_dptr(ws), C.size_t(n)))
}

// BLASMath is a cublasMath_t.
type BLASMath int32

// Math modes. The default computes fp32 GEMMs in fp32; TF32 trades
// precision (10-bit mantissa products) for speed.
const (
	BLASDefaultMath  BLASMath = 0
	BLASPedanticMath BLASMath = 2
	BLASTF32Math     BLASMath = 3
)

// SetMathMode selects the math mode.
func (h BLAS) SetMathMode(m BLASMath) error {
	return blasCheck("cublasSetMathMode", C.cw_cublasSetMathMode(h.p, C.int(m)))
}

// Op is a cublasOperation_t.
type Op int32

// Operations on a GEMM operand.
const (
	OpN Op = 0 // as is
	OpT Op = 1 // transposed
)

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for column-major fp32
// matrices, op(A) m×k, op(B) k×n, C m×n. A row-major Y[n×m] = X[n×k]·Wᵀ
// with W m×k row-major (ONNX Gemm with transB) is
// Sgemm(OpT, OpN, m, n, k, 1, W, k, X, k, 0, Y, m).
func (h BLAS) Sgemm(transA, transB Op, m, n, k int, alpha float32, a DevicePtr, lda int, b DevicePtr, ldb int,
	beta float32, c DevicePtr, ldc int) error {
	al, be := C.float(alpha), C.float(beta)
	return blasCheck("cublasSgemm", C.cw_cublasSgemm(h.p, C.int(transA), C.int(transB), C.int(m), C.int(n),
		C.int(k), &al, C.cw_dptr(a), C.int(lda), C.cw_dptr(b), C.int(ldb), &be, C.cw_dptr(c), C.int(ldc)))
}

// SgemmStridedBatched runs count Sgemms whose matrices lie strideA,
// strideB and strideC elements apart.
func (h BLAS) SgemmStridedBatched(transA, transB Op, m, n, k int, alpha float32, a DevicePtr, lda int,
	strideA int64, b DevicePtr, ldb int, strideB int64, beta float32, c DevicePtr, ldc int, strideC int64,
	count int) error {
	al, be := C.float(alpha), C.float(beta)
	return blasCheck("cublasSgemmStridedBatched", C.cw_cublasSgemmStridedBatched(h.p, C.int(transA),
		C.int(transB), C.int(m), C.int(n), C.int(k), &al, C.cw_dptr(a), C.int(lda), C.longlong(strideA),
		C.cw_dptr(b), C.int(ldb), C.longlong(strideB), &be, C.cw_dptr(c), C.int(ldc), C.longlong(strideC),
		C.int(count)))
}
