//go:build cgo

// Global pooling, a range of (image, channel) planes a call, as
// gapKernel.planesGo does it, to the bit. A sum (or mean) adds the plane in
// sixteen lanes (element i in lane i mod 16), the lanes then folded in
// halves, so that every instruction set (whose vectors hold 16, 8 or 4
// floats: the compiler splits the sixteen lanes among them) and Go's loop
// add the same floats in the same order; a maximum, as Go's max, is the
// same in any order.

#include "kernels.h"

typedef float lanes16 __attribute__((vector_size(64), aligned(4), may_alias));

// FOLD adds sixteen lanes: i + (i+8), then i + (i+4), i + (i+2), 0 + 1.
// (A macro: a function taking a vector of 64 bytes is not of one ABI
// across the instruction sets.)
#define FOLD(v)                                                                                                 \
	(((((v)[0] + (v)[8]) + ((v)[4] + (v)[12])) + (((v)[2] + (v)[10]) + ((v)[6] + (v)[14]))) +                 \
	 ((((v)[1] + (v)[9]) + ((v)[5] + (v)[13])) + (((v)[3] + (v)[11]) + ((v)[7] + (v)[15]))))

#define GLOBAL_POOL(NAME, ATTR, W)                                                                              \
	GO_VEC(NAME, ATTR, W)                                                                                       \
	ATTR static void NAME(int mode, const float *x, float *y, long size, long lo, long hi) {                    \
		for (long u = lo; u < hi; u++) {                                                                        \
			const float *p = x + u * size;                                                                      \
			if (mode == CW_GLOBAL_MAX) {                                                                        \
				y[u] = NAME##_max_of(p, size);                                                                  \
				continue;                                                                                       \
			}                                                                                                   \
			long i = 0;                                                                                         \
			lanes16 acc = {0};                                                                                  \
			for (; i + 16 <= size; i += 16)                                                                     \
				acc += *(const lanes16 *)(p + i);                                                               \
			for (; i < size; i++)                                                                               \
				acc[i % 16] += p[i];                                                                            \
			float s = FOLD(acc);                                                                                \
			y[u] = mode == CW_GLOBAL_AVG ? s / (float)size : s;                                                 \
		}                                                                                                       \
	}

GLOBAL_POOL(global_pool_base, , 4)
#if defined(__x86_64__)
GLOBAL_POOL(global_pool_avx2, __attribute__((target("avx2"))), 8)
GLOBAL_POOL(global_pool_avx512, __attribute__((target("avx512f"))), 16)
#endif

void cw_global_pool(int isa, int mode, const float *x, float *y, long size, long lo, long hi) {
	CW_DISPATCH(isa, global_pool, mode, x, y, size, lo, hi);
}
