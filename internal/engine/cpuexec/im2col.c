//go:build cgo

// im2col as convKernel.im2colGo does it, compiled for each instruction set:
// each row of the patch matrix is filled an output row's run of positions
// at a time, at unit stride a copy the compiler vectorizes (Go's copy of a
// few floats was mostly the call).

#include "kernels.h"

#define IM2COL(NAME, ATTR)                                                                              \
	ATTR static void NAME(const struct cw_window *g, long cg, const float *restrict x,                  \
	                      float *restrict cols, long p0, long np) {                                     \
		long s = g->sw;                                                                                 \
		for (long c = 0; c < cg; c++) {                                                                 \
			const float *plane = x + c * g->h * g->w;                                                   \
			for (long kh = 0; kh < g->kh; kh++)                                                         \
				for (long kw = 0; kw < g->kw; kw++) {                                                   \
					float *d = cols + ((c * g->kh + kh) * g->kw + kw) * np;                             \
					for (long j = 0; j < np;) {                                                         \
						long oh = (p0 + j) / g->ow, ow = (p0 + j) % g->ow;                              \
						long n = np - j < g->ow - ow ? np - j : g->ow - ow;                             \
						float *seg = d + j;                                                             \
						j += n;                                                                         \
						long ih = oh * g->sh - g->pt + kh * g->dh;                                      \
						if (ih < 0 || ih >= g->h) {                                                     \
							for (long t = 0; t < n; t++)                                                \
								seg[t] = 0;                                                             \
							continue;                                                                   \
						}                                                                               \
						const float *src = plane + ih * g->w;                                           \
						long iw = ow * s - g->pl + kw * g->dw; /* the input column of seg[0] */         \
						/* seg[t] reads src[iw + t·s]: inside for t in [lo, hi). */                     \
						long lo = 0, hi = n;                                                            \
						if (iw < 0)                                                                     \
							lo = (-iw + s - 1) / s < hi ? (-iw + s - 1) / s : hi;                       \
						long end = (g->w - iw + s - 1) / s;                                             \
						hi = end < hi ? end : hi;                                                       \
						hi = hi > lo ? hi : lo;                                                         \
						for (long t = 0; t < lo; t++)                                                   \
							seg[t] = 0;                                                                 \
						for (long t = hi; t < n; t++)                                                   \
							seg[t] = 0;                                                                 \
						if (s == 1)                                                                     \
							for (long t = lo; t < hi; t++)                                              \
								seg[t] = src[iw + t];                                                   \
						else                                                                            \
							for (long t = lo; t < hi; t++)                                              \
								seg[t] = src[iw + t * s];                                               \
					}                                                                                   \
				}                                                                                       \
		}                                                                                               \
	}

IM2COL(im2col_base, )
#if defined(__x86_64__)
IM2COL(im2col_avx2, __attribute__((target("avx2"))))
IM2COL(im2col_avx512, __attribute__((target("avx512f"))))
#endif

void cw_im2col(int isa, const struct cw_window *g, long cg, const float *x, float *cols, long p0, long np) {
	CW_DISPATCH(isa, im2col, g, cg, x, cols, p0, np);
}
