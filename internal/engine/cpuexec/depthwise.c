// Depthwise convolution and pooling.
//
// A depthwise convolution computes the planes of W channels at a time (W
// the vector's floats: 16 with AVX-512, 8 with AVX2, 4 on the baseline),
// each vector lane a channel: the input rows a band of output rows reads
// are transposed into position vectors (position p's W channels in one
// vector, 16 × 16 blocks turned in registers), laid out padded, so that
// every tap of every output position is one vector multiply-add at a fixed
// offset, whatever the stride, dilation or plane size, with no lane
// wasted (MobileNetV2's last planes are 7 × 7: rows of 7 floats); the
// output positions are transposed back into the W planes. A tap is one
// weight vector (the W channels' weights for it) times one input vector.
//
// A pool (and the Go reference of the convolution, conv.go) lays each
// plane out in phases instead (phases.go; phase a, b holds the padded rows
// a, a+sh, … and columns b, b+sw, …; a stride of 1 has one phase, the
// padded plane). In a phase's row-major order every tap of the window then
// reads at a fixed offset from the output position r·ws + c (taps[i·kw+j],
// computed by newPhases), so a plane is one run of positions (the columns
// past ow of each row computed and dropped): no bounds tests, no gathers
// for strides, and vectors as long as the plane rather than its rows. The
// padding (zeros, which change no average's sum; -inf for a max pool,
// which changes no maximum) is the same for every plane of a call: it is
// written once and each plane writes the phases' insides alone, in loops
// of its own rather than memcpy's calls (a 7 × 7 plane's rows are 28
// bytes; the library's calls took 30 % of the planes' time in MobileNetV2).

#include <string.h>

#include "kernels.h"

// DW_AT is the vector of floats at p + t (any alignment), in a function
// whose vectors are named vec.
#define DW_AT(p, t) (*(vec *)((p) + (t)))

// DW_TRANSPOSE_W(r, T) transposes the W × W floats of the W vectors
// r[0..W): for each bit s of a lane's index, rows k and k + s (k without
// bit s) exchange the floats whose lane has bit s and row has not with
// those the other way round (DW_LO_W_s and DW_HI_W_s pick the new rows k
// and k + s), so that each float's row and lane, exchanged bit by bit,
// end exchanged.
#define DW_PAIR(r, T, W, s, k, j)                                                                   \
	do {                                                                                            \
		__typeof__(r[0]) lo_ = r[k], hi_ = r[j];                                                    \
		r[k] = CW_SHUFFLE(T, lo_, hi_, DW_LO_##W##_##s);                                            \
		r[j] = CW_SHUFFLE(T, lo_, hi_, DW_HI_##W##_##s);                                            \
	} while (0)
#define DW_LO_4_2 0, 1, 4, 5
#define DW_HI_4_2 2, 3, 6, 7
#define DW_LO_4_1 0, 4, 2, 6
#define DW_HI_4_1 1, 5, 3, 7
#define DW_LO_8_4 0, 1, 2, 3, 8, 9, 10, 11
#define DW_HI_8_4 4, 5, 6, 7, 12, 13, 14, 15
#define DW_LO_8_2 0, 1, 8, 9, 4, 5, 12, 13
#define DW_HI_8_2 2, 3, 10, 11, 6, 7, 14, 15
#define DW_LO_8_1 0, 8, 2, 10, 4, 12, 6, 14
#define DW_HI_8_1 1, 9, 3, 11, 5, 13, 7, 15
#define DW_LO_16_8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define DW_HI_16_8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define DW_LO_16_4 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define DW_HI_16_4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define DW_LO_16_2 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define DW_HI_16_2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define DW_LO_16_1 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define DW_HI_16_1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
// DW_STAGE exchanges bit s (written as a number: it names the lanes'
// lists) of the rows' and lanes' indices where they differ.
#define DW_STAGE(r, T, W, s)                                                                        \
	for (int k_ = 0; k_ < (W); k_++)                                                                \
		if (!(k_ & (s)))                                                                            \
			DW_PAIR(r, T, W, s, k_, k_ + (s))
#define DW_TRANSPOSE_4(r, T)                                                                        \
	do {                                                                                            \
		DW_STAGE(r, T, 4, 2);                                                                       \
		DW_STAGE(r, T, 4, 1);                                                                       \
	} while (0)
#define DW_TRANSPOSE_8(r, T)                                                                        \
	do {                                                                                            \
		DW_STAGE(r, T, 8, 4);                                                                       \
		DW_STAGE(r, T, 8, 2);                                                                       \
		DW_STAGE(r, T, 8, 1);                                                                       \
	} while (0)
#define DW_TRANSPOSE_16(r, T)                                                                       \
	do {                                                                                            \
		DW_STAGE(r, T, 16, 8);                                                                      \
		DW_STAGE(r, T, 16, 4);                                                                      \
		DW_STAGE(r, T, 16, 2);                                                                      \
		DW_STAGE(r, T, 16, 1);                                                                      \
	} while (0)

#define DEPTHWISE(S, ATTR, W)                                                                             \
	GO_VEC(dw_##S, ATTR, W)                                                                               \
	typedef int dw_##S##_ikey __attribute__((vector_size(4 * (W)), aligned(4), may_alias));               \
	/* fill copies the input plane x into the insides of the phases at q. */                              \
	ATTR CW_NO_LIBCALL static void dw_##S##_fill(const struct cw_window *g, const float *x, float *q) {   \
		long hs = g->hs, ws = g->ws;                                                                      \
		for (long a = 0; a < g->sh; a++)                                                                  \
			for (long b = 0; b < g->sw; b++) {                                                            \
				float *p = q + (a * g->sw + b) * hs * ws;                                                 \
				/* Phase column j reads input column b + j·sw − pl, row i input row */                    \
				/* a + i·sh − pt: those of [jlo, jhi) and [ilo, ihi) are inside. */                       \
				long jlo = g->pl > b ? (g->pl - b + g->sw - 1) / g->sw : 0;                               \
				long jhi = g->w + g->pl > b ? (g->w + g->pl - b + g->sw - 1) / g->sw : 0;                 \
				long ilo = g->pt > a ? (g->pt - a + g->sh - 1) / g->sh : 0;                               \
				long ihi = g->h + g->pt > a ? (g->h + g->pt - a + g->sh - 1) / g->sh : 0;                 \
				jhi = jhi < ws ? jhi : ws;                                                                \
				ihi = ihi < hs ? ihi : hs;                                                                \
				for (long i = ilo; i < ihi; i++) {                                                        \
					float *restrict row = p + i * ws;                                                     \
					const float *restrict in = x + (a + i * g->sh - g->pt) * g->w + b - g->pl;            \
					if (g->sw == 1)                                                                       \
						for (long j = jlo; j < jhi; j++)                                                  \
							row[j] = in[j];                                                               \
					else if (g->sw == 2) /* a constant stride, which the compiler vectorizes */           \
						for (long j = jlo; j < jhi; j++)                                                  \
							row[j] = in[2 * j];                                                           \
					else                                                                                  \
						for (long j = jlo; j < jhi; j++)                                                  \
							row[j] = in[j * g->sw];                                                       \
				}                                                                                         \
			}                                                                                             \
	}                                                                                                     \
	/* in transposes positions [0, n) of the count planes at src, ps floats apart, into position */       \
	/* vectors at dst (zeros in the lanes past count): the positions are rows of rw, and a row's */       \
	/* vectors start rs vectors after the row before's. */                                                \
	ATTR CW_NO_LIBCALL static void dw_##S##_in(const float *src, long ps, long count, long n, long rw, long rs, \
	                                         float *dst) {                                                \
		typedef dw_##S##_vec vec;                                                                         \
		vec r[W];                                                                                         \
		long k = 0, col = 0;                                                                              \
		for (; k + (W) <= n; k += (W)) {                                                                  \
			for (int l = 0; l < (W); l++)                                                                 \
				r[l] = l < count ? DW_AT(src + l * ps, k) : dw_##S##_splat(0);                            \
			DW_TRANSPOSE_##W(r, dw_##S##_int);                                                            \
			for (int l = 0; l < (W); l++) {                                                               \
				DW_AT(dst, col * (W)) = r[l];                                                             \
				if (++col == rw) {                                                                        \
					col = 0;                                                                              \
					dst += rs * (W);                                                                      \
				}                                                                                         \
			}                                                                                             \
		}                                                                                                 \
		for (; k < n; k++) {                                                                              \
			for (int l = 0; l < (W); l++)                                                                 \
				dst[col * (W) + l] = l < count ? src[l * ps + k] : 0;                                     \
			if (++col == rw) {                                                                            \
				col = 0;                                                                                  \
				dst += rs * (W);                                                                          \
			}                                                                                             \
		}                                                                                                 \
	}                                                                                                     \
	/* out transposes the n position vectors at src into positions [0, n) of the count planes at */       \
	/* dst, ps floats apart. */                                                                           \
	ATTR CW_NO_LIBCALL static void dw_##S##_out(const float *src, long n, long count, float *dst, long ps) { \
		typedef dw_##S##_vec vec;                                                                         \
		vec r[W];                                                                                         \
		long k = 0;                                                                                       \
		for (; k + (W) <= n; k += (W)) {                                                                  \
			for (int l = 0; l < (W); l++)                                                                 \
				r[l] = DW_AT(src, (k + l) * (W));                                                         \
			DW_TRANSPOSE_##W(r, dw_##S##_int);                                                            \
			for (int l = 0; l < (W); l++)                                                                 \
				if (l < count)                                                                            \
					DW_AT(dst + l * ps, k) = r[l];                                                        \
		}                                                                                                 \
		for (; k < n; k++)                                                                                \
			for (long l = 0; l < count; l++)                                                              \
				dst[l * ps + k] = src[k * (W) + l];                                                       \
	}                                                                                                     \
	/* rows_kw is rows for other kernels, four positions at a time (each weight vector loaded once */     \
	/* for four taps), inlined where kw is a constant (5 and 7: EfficientNet's, ConvNeXt's) so */         \
	/* that a kernel row's taps unroll. */                                                                \
	ATTR __attribute__((always_inline)) static inline void dw_##S##_rows_kw(const struct cw_window *g, long tw, \
	        const float *t, const float *wv, dw_##S##_vec bv, int add, float *o, long nr, long kw) {      \
		typedef dw_##S##_vec vec;                                                                         \
		long ow = g->ow, step = g->sw * (W), down = g->sh * tw * (W), di = g->dh * tw * (W), dj = g->dw * (W); \
		for (long r = 0; r < nr; r++) {                                                                   \
			const float *p = t + r * down;                                                                \
			float *q = o + r * ow * (W);                                                                  \
			long c = 0;                                                                                   \
			for (; c + 4 <= ow; c += 4) {                                                                 \
				vec a0 = bv, a1 = bv, a2 = bv, a3 = bv;                                                   \
				if (add) {                                                                                \
					a0 += DW_AT(q, c * (W));                                                              \
					a1 += DW_AT(q, (c + 1) * (W));                                                        \
					a2 += DW_AT(q, (c + 2) * (W));                                                        \
					a3 += DW_AT(q, (c + 3) * (W));                                                        \
				}                                                                                         \
				const float *wt = wv, *pi = p + c * step;                                                 \
				for (long i = 0; i < g->kh; i++, pi += di, wt += kw * (W)) {                              \
					vec s0 = dw_##S##_splat(0), s1 = s0, s2 = s0, s3 = s0;                                \
					for (long j = 0; j < kw; j++) {                                                       \
						vec wj = DW_AT(wt, j * (W));                                                      \
						const float *pj = pi + j * dj;                                                    \
						s0 += wj * DW_AT(pj, 0);                                                          \
						s1 += wj * DW_AT(pj, step);                                                       \
						s2 += wj * DW_AT(pj, 2 * step);                                                   \
						s3 += wj * DW_AT(pj, 3 * step);                                                   \
					}                                                                                     \
					a0 += s0;                                                                             \
					a1 += s1;                                                                             \
					a2 += s2;                                                                             \
					a3 += s3;                                                                             \
				}                                                                                         \
				DW_AT(q, c * (W)) = a0;                                                                   \
				DW_AT(q, (c + 1) * (W)) = a1;                                                             \
				DW_AT(q, (c + 2) * (W)) = a2;                                                             \
				DW_AT(q, (c + 3) * (W)) = a3;                                                             \
			}                                                                                             \
			for (; c < ow; c++) {                                                                         \
				vec a = bv;                                                                               \
				if (add)                                                                                  \
					a += DW_AT(q, c * (W));                                                               \
				const float *wt = wv, *pi = p + c * step;                                                 \
				for (long i = 0; i < g->kh; i++, pi += di, wt += kw * (W)) {                              \
					vec s0 = dw_##S##_splat(0);                                                           \
					for (long j = 0; j < kw; j++)                                                         \
						s0 += DW_AT(wt, j * (W)) * DW_AT(pi, j * dj);                                     \
					a += s0;                                                                              \
				}                                                                                         \
				DW_AT(q, c * (W)) = a;                                                                    \
			}                                                                                             \
		}                                                                                                 \
	}                                                                                                     \
	/* rows writes nr rows of output position vectors at o: the bias vector bv (plus o's vectors, */      \
	/* where add, the residual's), plus the taps of the kernel's weight vectors wv over t, the */         \
	/* padded input they read (tw vectors a row; the first output row's window starts at t's first */     \
	/* row and column). Each kernel row's taps are summed, then added, as conv.go's planeGo adds */       \
	/* them; a 3 × 3 kernel's nine weights stay in registers, its rows read through a pointer each. */    \
	ATTR static void dw_##S##_rows(const struct cw_window *g, long tw, const float *t, const float *wv,   \
	                             dw_##S##_vec bv, int add, float *o, long nr) {                           \
		typedef dw_##S##_vec vec;                                                                         \
		long ow = g->ow, step = g->sw * (W), down = g->sh * tw * (W), di = g->dh * tw * (W), dj = g->dw * (W); \
		if (g->kh == 3 && g->kw == 3) {                                                                   \
			vec w0 = DW_AT(wv, 0), w1 = DW_AT(wv, (W)), w2 = DW_AT(wv, 2 * (W)), w3 = DW_AT(wv, 3 * (W)), \
			    w4 = DW_AT(wv, 4 * (W)), w5 = DW_AT(wv, 5 * (W)), w6 = DW_AT(wv, 6 * (W)), w7 = DW_AT(wv, 7 * (W)), \
			    w8 = DW_AT(wv, 8 * (W));                                                                  \
			for (long r = 0; r < nr; r++) {                                                               \
				const float *p0 = t + r * down, *p1 = p0 + di, *p2 = p1 + di;                             \
				float *q = o + r * ow * (W);                                                              \
				for (long c = 0; c < ow; c++, p0 += step, p1 += step, p2 += step, q += (W)) {             \
					vec a = bv;                                                                           \
					if (add)                                                                              \
						a += DW_AT(q, 0);                                                                 \
					a += w0 * DW_AT(p0, 0) + w1 * DW_AT(p0, dj) + w2 * DW_AT(p0, 2 * dj);                 \
					a += w3 * DW_AT(p1, 0) + w4 * DW_AT(p1, dj) + w5 * DW_AT(p1, 2 * dj);                 \
					a += w6 * DW_AT(p2, 0) + w7 * DW_AT(p2, dj) + w8 * DW_AT(p2, 2 * dj);                 \
					DW_AT(q, 0) = a;                                                                      \
				}                                                                                         \
			}                                                                                             \
			return;                                                                                       \
		}                                                                                                 \
		if (g->kw == 5)                                                                                   \
			dw_##S##_rows_kw(g, tw, t, wv, bv, add, o, nr, 5);                                            \
		else if (g->kw == 7)                                                                              \
			dw_##S##_rows_kw(g, tw, t, wv, bv, add, o, nr, 7);                                            \
		else                                                                                              \
			dw_##S##_rows_kw(g, tw, t, wv, bv, add, o, nr, g->kw);                                        \
	}                                                                                                     \
	/* depthwise writes the output rows [r0, r1) of the planes of units [lo, hi), W channels at a */      \
	/* time, in bands of up to band rows (depthwiseKernel.run). Work holds the band's padded input */     \
	/* (rows of tw position vectors), its output positions and the weight vectors. */                     \
	ATTR static void depthwise_##S(int isa, const struct cw_window *g, long m, long band, long tw, const float *x, \
	                               const float *wt, const float *bias, const float *z, float *y, float *work, \
	                               long lo, long hi, long r0, long r1, int act, float a, float b) {       \
		typedef dw_##S##_vec vec;                                                                         \
		long in = g->h * g->w, out = g->oh * g->ow, kk = g->kh * g->kw, ow = g->ow, row = tw * (W);       \
		long th = (band - 1) * g->sh + (g->kh - 1) * g->dh + 1;                                           \
		float *t = work, *o = t + th * row, *wv = o + band * ow * (W);                                    \
		for (long u = lo; u < hi;) {                                                                      \
			long ch = u % m, count = hi - u < m - ch ? hi - u : m - ch;                                   \
			count = count < (W) ? count : (W);                                                            \
			for (long i = 0; i < kk; i++)                                                                 \
				for (int l = 0; l < (W); l++)                                                             \
					wv[i * (W) + l] = l < count ? wt[(ch + l) * kk + i] : 0;                              \
			vec bv = dw_##S##_splat(0);                                                                   \
			if (bias)                                                                                     \
				for (int l = 0; l < count; l++)                                                           \
					bv[l] = bias[ch + l];                                                                 \
			for (long ra = r0; ra < r1; ra += band) {                                                     \
				long nr = r1 - ra < band ? r1 - ra : band, n = nr * ow;                                   \
				/* The band reads input rows [i0, i0 + rows): those outside [0, h) are padding. */        \
				long i0 = ra * g->sh - g->pt, rows = (nr - 1) * g->sh + (g->kh - 1) * g->dh + 1;          \
				long ia = i0 > 0 ? i0 : 0, ib = i0 + rows < g->h ? i0 + rows : g->h;                      \
				/* The padding: zeros (rows and columns where another band may have left inputs). */      \
				for (long r = 0; r < rows; r++) {                                                         \
					float *tr = t + r * row;                                                              \
					if (i0 + r < ia || i0 + r >= ib)                                                      \
						memset(tr, 0, row * sizeof(float));                                               \
					else {                                                                                \
						for (long c = 0; c < g->pl; c++)                                                  \
							DW_AT(tr, c * (W)) = dw_##S##_splat(0);                                       \
						for (long c = g->pl + g->w; c < tw; c++)                                          \
							DW_AT(tr, c * (W)) = dw_##S##_splat(0);                                       \
					}                                                                                     \
				}                                                                                         \
				if (ib > ia)                                                                              \
					dw_##S##_in(x + u * in + ia * g->w, in, count, (ib - ia) * g->w, g->w, tw,            \
					            t + (ia - i0) * row + g->pl * (W));                                       \
				if (z)                                                                                    \
					dw_##S##_in(z + u * out + ra * ow, out, count, n, ow, ow, o);                         \
				dw_##S##_rows(g, tw, t, wv, bv, z != 0, o, nr);                                           \
				if (act != CW_ACT_NONE)                                                                   \
					cw_activate(isa, act, a, b, o, n * (W));                                              \
				dw_##S##_out(o, n, count, y + u * out + ra * ow, out);                                    \
			}                                                                                             \
			u += count;                                                                                   \
		}                                                                                                 \
	}                                                                                                     \
	/* keys writes the n floats of q as keys, ints that order them as Go's max does (-0 below +0): */     \
	/* a float's bits, those but the sign flipped where it is set (which undoes itself). It returns */    \
	/* 0 where one is NaN, which the keys do not order so. */                                             \
	ATTR CW_NO_LIBCALL static int dw_##S##_keys(const float *restrict q, int *restrict keys, long n) {    \
		int nan = 0;                                                                                      \
		for (long i = 0; i < n; i++) {                                                                    \
			float v = q[i];                                                                               \
			int k;                                                                                        \
			__builtin_memcpy(&k, &v, sizeof k);                                                           \
			keys[i] = k ^ ((k >> 31) & 0x7fffffff);                                                       \
			nan |= v != v;                                                                                \
		}                                                                                                 \
		return !nan;                                                                                      \
	}                                                                                                     \
	/* pool writes the planes of units [lo, hi) of a pool, in vectors of W. With div NULL, each */        \
	/* output is the largest of its window as Go's max finds it (NaN if any is, +0 above -0), the */      \
	/* padding -inf. Otherwise it is the sum of its window's taps in their order, from +0, the */         \
	/* padding +0 (which changes no such sum), over div at its position. */                               \
	ATTR CW_NO_LIBCALL static void pool_##S(const struct cw_window *g, const long *taps, const float *div, \
	                                     const float *x, float *y, float *work, long lo, long hi) {       \
		long in = g->h * g->w, out = g->oh * g->ow, kk = g->kh * g->kw;                                   \
		long phases = g->sh * g->sw * g->hs * g->ws, n = (g->oh - 1) * g->ws + g->ow;                     \
		float *q = work, *acc = work + phases, pad = div ? 0 : -__builtin_inff();                         \
		int *keys = div ? 0 : (int *)(acc + g->oh * g->ws + CW_SLACK); /* a max pool's, past the slack */ \
		for (long i = 0; i < phases; i++)                                                                 \
			q[i] = pad;                                                                                   \
		for (long u = lo; u < hi; u++) {                                                                  \
			dw_##S##_fill(g, x + u * in, q);                                                              \
			long f = 0;                                                                                   \
			if (div) {                                                                                    \
				for (; f < n; f += (W)) { /* the last vector past n: see phases.work */                   \
					dw_##S##_vec v = dw_##S##_splat(0);                                                   \
					for (long t = 0; t < kk; t++)                                                         \
						v += *(const dw_##S##_vec *)(q + taps[t] + f);                                    \
					*(dw_##S##_vec *)(acc + f) = v;                                                       \
				}                                                                                         \
			} else if (dw_##S##_keys(q, keys, phases)) { /* no NaN: the keys' largest */                  \
				for (; f < n; f += (W)) {                                                                 \
					dw_##S##_ikey v = *(const dw_##S##_ikey *)(keys + taps[0] + f);                       \
					for (long t = 1; t < kk; t++) {                                                       \
						dw_##S##_ikey k = *(const dw_##S##_ikey *)(keys + taps[t] + f);                   \
						dw_##S##_ikey m = v < k;                                                          \
						v = (m & k) | (~m & v);                                                           \
					}                                                                                     \
					*(dw_##S##_ikey *)(acc + f) = v ^ ((v >> 31) & 0x7fffffff);                           \
				}                                                                                         \
			} else {                                                                                      \
				for (; f < n; f += (W)) {                                                                 \
					dw_##S##_vec v = *(const dw_##S##_vec *)(q + taps[0] + f);                            \
					for (long t = 1; t < kk; t++)                                                         \
						v = dw_##S##_max(v, *(const dw_##S##_vec *)(q + taps[t] + f));                    \
					*(dw_##S##_vec *)(acc + f) = v;                                                       \
				}                                                                                         \
			}                                                                                             \
			float *yu = y + u * out;                                                                      \
			if (div)                                                                                      \
				for (long r = 0; r < g->oh; r++)                                                          \
					for (long c = 0; c < g->ow; c++)                                                      \
						yu[r * g->ow + c] = acc[r * g->ws + c] / div[r * g->ow + c];                      \
			else                                                                                          \
				for (long r = 0; r < g->oh; r++)                                                          \
					for (long c = 0; c < g->ow; c++)                                                      \
						yu[r * g->ow + c] = acc[r * g->ws + c];                                           \
		}                                                                                                 \
	}

DEPTHWISE(base, , 4)
#if defined(__x86_64__)
DEPTHWISE(avx2, __attribute__((target("avx2,fma"))), 8)
DEPTHWISE(avx512, __attribute__((target("avx512f"))), 16)
#endif

void cw_depthwise(int isa, const struct cw_window *g, long m, long band, long tw, const float *x, const float *wt,
                  const float *bias, const float *z, float *y, float *work, long lo, long hi, long r0, long r1, int act,
                  float a, float b) {
	CW_DISPATCH(isa, depthwise, isa, g, m, band, tw, x, wt, bias, z, y, work, lo, hi, r0, r1, act, a, b);
}

void cw_pool(int isa, const struct cw_window *g, const long *taps, const float *div, const float *x, float *y,
             float *work, long lo, long hi) {
	CW_DISPATCH(isa, pool, g, taps, div, x, y, work, lo, hi);
}
