//go:build cgo

// im2col as convKernel.im2colGo does it, written straight into the panels
// cw_pack_b would have made of its patch matrix (sgemm.c), compiled for
// each instruction set. Each row of the patch matrix is filled a run of
// positions at a time into a buffer in L1, an output row's run at unit
// stride a copy the compiler vectorizes (Go's copy of a few floats was
// mostly the call), and copied from there to its place in each panel: the
// patch matrix, up to 1 MiB a tile, is no longer written to L2 to be read
// back and packed (im2col and packing were 10 % each of DenseNet-121's
// samples).

#include "kernels.h"

// The positions of a patch row made at a time: a multiple of every
// instruction set's panel width.
enum { ROW_RUN = 256 };
_Static_assert(ROW_RUN % CW_SGEMM_MAX_NR == 0, "runs of whole panels");

#define IM2COL(NAME, ATTR)                                                                              \
	/* row writes tap (kh, kw) of the input plane for positions [p0, p0+np) to d. */                    \
	ATTR CW_NO_LIBCALL static void NAME##_row(const struct cw_window *g, const float *restrict plane, long kh, long kw,   \
	                            float *restrict d, long p0, long np) {                                  \
		long s = g->sw, oh = p0 / g->ow, ow = p0 % g->ow;                                              \
		for (long j = 0; j < np; oh++, ow = 0) { /* output row oh's positions from column ow */         \
			long n = np - j < g->ow - ow ? np - j : g->ow - ow;                                         \
			float *seg = d + j;                                                                         \
			j += n;                                                                                     \
			long ih = oh * g->sh - g->pt + kh * g->dh;                                                  \
			if (ih < 0 || ih >= g->h) {                                                                 \
				for (long t = 0; t < n; t++)                                                            \
					seg[t] = 0;                                                                         \
				continue;                                                                               \
			}                                                                                           \
			const float *src = plane + ih * g->w;                                                       \
			long iw = ow * s - g->pl + kw * g->dw; /* the input column of seg[0] */                     \
			/* seg[t] reads src[iw + t·s]: inside for t in [lo, hi). */                                 \
			long lo = 0, hi = n;                                                                        \
			if (iw < 0)                                                                                 \
				lo = s == 1 ? -iw : (-iw + s - 1) / s; /* no division at unit stride */                 \
			lo = lo < n ? lo : n;                                                                       \
			long end = s == 1 ? g->w - iw : (g->w - iw + s - 1) / s;                                    \
			hi = end < hi ? end : hi;                                                                   \
			hi = hi > lo ? hi : lo; /* 0 ≤ lo ≤ hi ≤ n */                                               \
			for (long t = 0; t < lo; t++)                                                               \
				seg[t] = 0;                                                                             \
			for (long t = hi; t < n; t++)                                                               \
				seg[t] = 0;                                                                             \
			if (s == 1)                                                                                 \
				for (long t = lo; t < hi; t++)                                                          \
					seg[t] = src[iw + t];                                                               \
			else                                                                                        \
				for (long t = lo; t < hi; t++)                                                          \
					seg[t] = src[iw + t * s];                                                           \
		}                                                                                               \
	}                                                                                                   \
	/* NAME writes the patch rows of cg planes into the panels at panel: row r's */                     \
	/* run of nr positions from column j0 at (r's block of KC rows) + j0·kc + */                        \
	/* (r − the block's first row)·nr, zeros past np in the last panel. */                              \
	ATTR CW_NO_LIBCALL static void NAME(const struct cw_window *g, long cg, const float *restrict x,                  \
	                      float *restrict panel, long p0, long np, long nr) {                           \
		long kdim = cg * g->kh * g->kw, width = (np + nr - 1) / nr * nr;                                \
		float buf[ROW_RUN];                                                                             \
		for (long r = 0; r < kdim; r++) {                                                               \
			long c = r / (g->kh * g->kw), kh = r / g->kw % g->kh, kw = r % g->kw;                       \
			long pc = r / CW_SGEMM_KC * CW_SGEMM_KC;                                                    \
			long kc = kdim - pc < CW_SGEMM_KC ? kdim - pc : CW_SGEMM_KC;                                \
			float *base = panel + pc * width + (r - pc) * nr;                                           \
			for (long j0 = 0; j0 < width; j0 += ROW_RUN) {                                              \
				long n = np - j0 < ROW_RUN ? np - j0 : ROW_RUN;                                         \
				NAME##_row(g, x + c * g->h * g->w, kh, kw, buf, p0 + j0, n);                            \
				long m = width - j0 < ROW_RUN ? width - j0 : ROW_RUN; /* whole panels */                \
				for (long t = n; t < m; t++)                                                            \
					buf[t] = 0;                                                                         \
				for (long j = 0; j < m; j += nr) {                                                      \
					float *restrict dst = base + (j0 + j) * kc;                                         \
					for (long t = 0; t < nr; t++)                                                       \
						dst[t] = buf[j + t];                                                            \
				}                                                                                       \
			}                                                                                           \
		}                                                                                               \
	}

IM2COL(im2col_base, )
#if defined(__x86_64__)
IM2COL(im2col_avx2, __attribute__((target("avx2"))))
IM2COL(im2col_avx512, __attribute__((target("avx512f"))))
#endif

void cw_im2col_panels(int isa, const struct cw_window *g, long cg, const float *x, float *panel, long p0, long np) {
	CW_DISPATCH(isa, im2col, g, cg, x, panel, p0, np, cw_sgemm_nr(isa));
}
