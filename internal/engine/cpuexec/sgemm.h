// The CPU executor's single-precision GEMM (sgemm.c).

enum {
	CW_SGEMM_BASE,   // the compiler's baseline vectors (SSE2 on x86-64)
	CW_SGEMM_AVX2,   // AVX2 and FMA
	CW_SGEMM_AVX512, // AVX-512F
	CW_SGEMM_ISAS,
};

enum { CW_SGEMM_MAX_MR = 8, CW_SGEMM_MAX_NR = 32 };

// CW_SGEMM_WORK is the floats of work memory cw_sgemm needs: the packed
// panels of A and B and 64 bytes to align them.
#define CW_SGEMM_WORK ((96 + CW_SGEMM_MAX_MR) * 128 + (512 + CW_SGEMM_MAX_NR) * 128 + 16)

int cw_sgemm_supported(int isa);
const char *cw_sgemm_name(int isa);
int cw_sgemm_best(void);

// A cw_epilogue makes cw_sgemm write C = clip(alpha·op(A)·op(B) + bias + Z)
// rather than add to C: bias one float a row of C, Z a matrix of C's shape
// (row stride ldz), either NULL for none, clipped to [lo, hi] (±inf for
// none).
struct cw_epilogue {
	const float *bias;
	const float *z;
	long ldz;
	float lo, hi;
};

// cw_sgemm adds alpha·op(A)·op(B) to the m×n matrix c (row stride ldc), or
// with an epilogue ep writes what it says. op(A) is m×k: a (row stride lda)
// or, with tA, the transpose of a k×m a; op(B) is k×n likewise. k > 0.
// work holds CW_SGEMM_WORK floats.
void cw_sgemm(int isa, int tA, int tB, long m, long n, long k, float alpha, const float *a, long lda,
              const float *b, long ldb, float *c, long ldc, const struct cw_epilogue *ep, float *work);
