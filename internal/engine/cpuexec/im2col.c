//go:build cgo

// im2col as convKernel.im2colGo does it, written straight into the panels
// cw_pack_b would have made of its patch matrix (sgemm.c), compiled for
// each instruction set.
//
// For each input channel, the rows of its plane that a run of positions
// reads are first copied to work, zero-padded as the window sees them and,
// at a column stride s, split into s phases of every s-th column (as
// depthwise.c lays out its planes): every output row's run of positions
// then reads one tap at consecutive floats, in any padding, copied in
// whole vectors. A 1 × 1 window (a pointwise convolution with a stride or
// padding) reads each input float once: its patch rows are gathered from
// the plane directly. A patch row, made in a buffer in L1, goes from there
// to its places in the panels. (Each patch row was made a segment of an
// output row at a time, the window's bounds worked out with divisions for
// each: a 7 × 7 plane's seven segments of seven floats cost more than
// their copies, and packing the patches of ResNet-50's last 3 × 3
// convolutions took a tenth of their time.)

#include "kernels.h"

// The positions of a patch row made at a time: a multiple of every
// instruction set's panel width.
enum { ROW_RUN = 256 };
_Static_assert(ROW_RUN % CW_SGEMM_MAX_NR == 0, "runs of whole panels");

// phase_width is the floats of each of a padded input row's sw phases: an
// output row's ow positions from the phase's float (kw − 1)·dw / sw at most.
static long phase_width(const struct cw_window *g) { return g->ow + (g->kw - 1) * g->dw / g->sw; }

// window_rows is the input rows a run of n positions (from any column)
// reads: those of its output rows, at most (n − 1) / ow + 2.
static long window_rows(const struct cw_window *g, long n) {
	long rows = (n - 1) / g->ow + 2;
	rows = rows < g->oh ? rows : g->oh;
	return (rows - 1) * g->sh + (g->kh - 1) * g->dh + 1;
}

long cw_im2col_work(const struct cw_window *g, long np) {
	if (g->kh * g->kw == 1)
		return 0; // gathered
	long n = np < ROW_RUN ? np : ROW_RUN;
	return window_rows(g, n > 0 ? n : 1) * g->sw * phase_width(g) + CW_SLACK;
}

#define IM2COL(NAME, ATTR, W)                                                                                   \
	GO_VEC(NAME, ATTR, W)                                                                                       \
	/* fill writes the rows input rows from ih0 of plane to pad, each as sw */                                  \
	/* phases of wq floats, phase q's float t the padded column q + t·sw */                                     \
	/* (input column q + t·sw − pl, zero outside the plane); only the rows */                                  \
	/* and phases a tap reads. (No divisions: with a few for each row and */                                   \
	/* each tap, packing the patches of 7 × 7 planes took twice as long.) */                                      \
	ATTR CW_NO_LIBCALL static void NAME##_fill(const struct cw_window *g, const float *restrict plane,          \
	                                           float *restrict pad, long ih0, long rows, long wq) {             \
		long s = g->sw;                                                                                         \
		for (long q = 0; q < s; q++) {                                                                          \
			int tapped = 0; /* kw·dw ≡ q (mod s) for a tap kw */                                                \
			for (long kw = 0, r = 0; kw < g->kw && !tapped; kw++)                                               \
				for (tapped = r == q, r += g->dw; r >= s;)                                                      \
					r -= s;                                                                                     \
			if (!tapped)                                                                                        \
				continue;                                                                                       \
			long lo = 0, hi = wq; /* inside the plane for t in [lo, hi) */                                      \
			while (lo < wq && q + lo * s < g->pl)                                                               \
				lo++;                                                                                           \
			while (hi > lo && q + (hi - 1) * s - g->pl >= g->w)                                                 \
				hi--;                                                                                           \
			for (long i = 0, ri = 0; i < rows; i++, ri = ri + 1 < g->sh ? ri + 1 : 0) { /* ri: i mod sh */       \
				int read = 0; /* i is oh·sh + kh·dh for an output row oh ≥ 0 and a tap kh */                    \
				for (long kh = 0, r = 0; kh < g->kh && kh * g->dh <= i && !read; kh++)                          \
					for (read = r == ri, r += g->dh; r >= g->sh;)                                               \
						r -= g->sh;                                                                             \
				if (!read)                                                                                      \
					continue;                                                                                   \
				float *restrict d = pad + (i * s + q) * wq;                                                     \
				long ih = ih0 + i;                                                                              \
				if (ih < 0 || ih >= g->h) {                                                                     \
					for (long t = 0; t < wq; t++)                                                               \
						d[t] = 0;                                                                               \
					continue;                                                                                   \
				}                                                                                               \
				const float *src = plane + ih * g->w;                                                           \
				long at = q - g->pl; /* d[t] is src[at + t·s] */                                                \
				for (long t = 0; t < lo; t++)                                                                   \
					d[t] = 0;                                                                                   \
				if (s == 1)                                                                                     \
					for (long t = lo; t < hi; t++)                                                              \
						d[t] = src[at + t];                                                                     \
				else if (s == 2) /* constant: vectors of strided loads */                                       \
					for (long t = lo; t < hi; t++)                                                              \
						d[t] = src[at + 2 * t];                                                                 \
				else                                                                                            \
					for (long t = lo; t < hi; t++)                                                              \
						d[t] = src[at + t * s];                                                                 \
				for (long t = hi; t < wq; t++)                                                                  \
					d[t] = 0;                                                                                   \
			}                                                                                                   \
		}                                                                                                       \
	}                                                                                                           \
	/* gather writes positions [q0, q0+n) of a 1 × 1 window's patch row */                                     \
	/* over plane to buf, q0 = oh0·ow + ow0. */                                                                 \
	ATTR CW_NO_LIBCALL static void NAME##_gather(const struct cw_window *g, const float *restrict plane,        \
	                                             float *restrict buf, long oh0, long ow0, long n) {             \
		long lo = 0, hi = g->ow; /* output columns inside the plane: [lo, hi) */                                \
		while (lo < g->ow && lo * g->sw < g->pl)                                                                \
			lo++;                                                                                               \
		while (hi > lo && (hi - 1) * g->sw - g->pl >= g->w)                                                    \
			hi--;                                                                                               \
		for (long j = 0, oh = oh0, o = ow0; j < n; oh++, o = 0) {                                               \
			long end = n - j < g->ow - o ? o + n - j : g->ow; /* this row's columns: [o, end) */                \
			float *seg = buf + j - o;                                                                           \
			j += end - o;                                                                                       \
			long ih = oh * g->sh - g->pt;                                                                       \
			long a = o > lo ? o : lo, b = end < hi ? end : hi;                                                  \
			if (ih < 0 || ih >= g->h)                                                                           \
				a = b = end;                                                                                    \
			a = a < end ? a : end;                                                                              \
			b = b > a ? b : a;                                                                                  \
			const float *src = plane + (ih < 0 || ih >= g->h ? 0 : ih * g->w); /* column t: src[t·sw − pl] */  \
			for (long t = o; t < a; t++)                                                                        \
				seg[t] = 0;                                                                                     \
			if (g->sw == 2) /* constant: vectors of strided loads */                                            \
				for (long t = a; t < b; t++)                                                                    \
					seg[t] = src[2 * t - g->pl];                                                                \
			else                                                                                                \
				for (long t = a; t < b; t++)                                                                    \
					seg[t] = src[t * g->sw - g->pl];                                                            \
			for (long t = b; t < end; t++)                                                                      \
				seg[t] = 0;                                                                                     \
		}                                                                                                       \
	}                                                                                                           \
	/* put writes patch row r, made in buf for positions [j0, j0+n), to its */                                  \
	/* places in the panels, zeros to m. */                                                                     \
	ATTR static inline void NAME##_put(float *restrict buf, float *restrict panel, long r, long kdim, long width, \
	                                   long j0, long n, long m, long nr) {                                      \
		for (long t = n; t < m; t += (W))                                                                       \
			*(NAME##_vec *)(buf + t) = NAME##_splat(0);                                                         \
		long pc = r / CW_SGEMM_KC * CW_SGEMM_KC;                                                                \
		long kc = kdim - pc < CW_SGEMM_KC ? kdim - pc : CW_SGEMM_KC;                                            \
		float *base = panel + pc * width + (r - pc) * nr + j0 * kc;                                             \
		for (long j = 0; j < m; j += nr)                                                                        \
			for (long t = 0; t < nr; t += (W))                                                                  \
				*(NAME##_vec *)(base + j * kc + t) = *(const NAME##_vec *)(buf + j + t);                        \
	}                                                                                                           \
	/* NAME writes the patch rows of cg planes into the panels at panel: row r's */                             \
	/* run of nr positions from column j0 at (r's block of KC rows) + j0·kc + */                                \
	/* (r − the block's first row)·nr, zeros past np in the last panel. pad */                                 \
	/* holds cw_im2col_work's floats. */                                                                        \
	ATTR CW_NO_LIBCALL static void NAME(const struct cw_window *g, long cg, const float *restrict x,             \
	                                    float *restrict panel, long p0, long np, long nr, float *restrict pad) { \
		long kdim = cg * g->kh * g->kw, width = (np + nr - 1) / nr * nr;                                        \
		long wq = phase_width(g), rs = g->sw * wq; /* a padded row's floats */                                  \
		float buf[ROW_RUN + CW_SLACK];                                                                             \
		for (long j0 = 0; j0 < width; j0 += ROW_RUN) {                                                          \
			long n = np - j0 < ROW_RUN ? np - j0 : ROW_RUN;                                                     \
			long m = width - j0 < ROW_RUN ? width - j0 : ROW_RUN; /* whole panels */                            \
			long q0 = p0 + j0, oh0 = q0 / g->ow, ow0 = q0 % g->ow;                                              \
			long rows = ((q0 + n - 1) / g->ow - oh0) * g->sh + (g->kh - 1) * g->dh + 1;                         \
			for (long c = 0, r = 0; c < cg; c++) {                                                              \
				if (g->kh * g->kw == 1) { /* one tap: a gather, no padded rows to read again */                 \
					NAME##_gather(g, x + c * g->h * g->w, buf, oh0, ow0, n);                                    \
					NAME##_put(buf, panel, r++, kdim, width, j0, n, m, nr);                                     \
					continue;                                                                                   \
				}                                                                                               \
				NAME##_fill(g, x + c * g->h * g->w, pad, oh0 * g->sh - g->pt, rows, wq);                        \
				for (long kh = 0; kh < g->kh; kh++)                                                             \
					for (long kw = 0, q = 0, i0 = 0; kw < g->kw; kw++, r++) { /* kw·dw is i0·sw + q */          \
						const float *tap = pad + kh * g->dh * rs + q * wq + i0;                                 \
						for (q += g->dw; q >= g->sw; q -= g->sw)                                                \
							i0++;                                                                               \
						for (long j = 0, oh = 0, o = ow0; j < n; oh++, o = 0) { /* output row oh0 + oh */       \
							long cnt = n - j < g->ow - o ? n - j : g->ow - o;                                   \
							const float *src = tap + oh * g->sh * rs + o;                                       \
							for (long t = 0; t < cnt; t += (W)) /* past cnt: the next run's floats, or slack */ \
								*(NAME##_vec *)(buf + j + t) = *(const NAME##_vec *)(src + t);                  \
							j += cnt;                                                                           \
						}                                                                                       \
						NAME##_put(buf, panel, r, kdim, width, j0, n, m, nr);                                   \
					}                                                                                           \
			}                                                                                                   \
		}                                                                                                       \
	}

IM2COL(im2col_base, , 4)
#if defined(__x86_64__)
IM2COL(im2col_avx2, __attribute__((target("avx2"))), 8)
IM2COL(im2col_avx512, __attribute__((target("avx512f"))), 16)
#endif

int cw_im2col_panels(int isa, const struct cw_window *g, long cg, const float *x, float *panel, long p0, long np,
                     float *work, long nwork) {
	if (nwork < cw_im2col_work(g, np))
		return -1;
	CW_DISPATCH(isa, im2col, g, cg, x, panel, p0, np, cw_sgemm_nr(isa), work);
	return 0;
}
