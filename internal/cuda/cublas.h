/* cuBLAS (libcublas.so.13, v2 API): prototypes written from the public
 * documentation; the handle is void*, matrices are device addresses,
 * alpha/beta host pointers to float. */
#ifndef CW_CUBLAS_H
#define CW_CUBLAS_H

#include "cw.h"

#define CW_CUBLAS_API(X) \
	X(int, cublasCreate, cublasCreate_v2, (void **h), (h)) \
	X(int, cublasDestroy, cublasDestroy_v2, (void *h), (h)) \
	X(int, cublasGetVersion, cublasGetVersion_v2, (void *h, int *v), (h, v)) \
	X(int, cublasSetStream, cublasSetStream_v2, (void *h, void *s), (h, s)) \
	X(int, cublasSetWorkspace, cublasSetWorkspace_v2, (void *h, cw_dptr ws, size_t n), (h, ws, n)) \
	X(int, cublasSetMathMode, cublasSetMathMode, (void *h, int mode), (h, mode)) \
	X(cw_str, cublasGetStatusName, cublasGetStatusName, (int status), (status)) \
	X(cw_str, cublasGetStatusString, cublasGetStatusString, (int status), (status)) \
	X(int, cublasSgemm, cublasSgemm_v2, \
		(void *h, int ta, int tb, int m, int n, int k, const float *alpha, cw_dptr a, int lda, \
		 cw_dptr b, int ldb, const float *beta, cw_dptr c, int ldc), \
		(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) \
	X(int, cublasSgemmStridedBatched, cublasSgemmStridedBatched, \
		(void *h, int ta, int tb, int m, int n, int k, const float *alpha, cw_dptr a, int lda, long long sa, \
		 cw_dptr b, int ldb, long long sb, const float *beta, cw_dptr c, int ldc, long long sc, int count), \
		(h, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, count))

CW_CUBLAS_API(CW_DECLARE)

cw_sym *cw_cublas_syms(void);
int cw_cublas_nsyms(void);

#endif
