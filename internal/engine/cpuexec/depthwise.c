//go:build cgo

// Depthwise convolution and pooling, a range of (image, channel)
// planes a call, as depthwiseKernel.planesGo and poolKernel.planesGo do
// them in Go. Each input plane is copied, padded, into sh × sw phases
// (phases.go; phase a, b holds the padded rows a, a+sh, … and columns b,
// b+sw, …; a stride of 1 has one phase, the padded plane). In a phase's
// row-major order every tap of the window then reads at a fixed offset
// from the output position r·ws + c (taps[i·kw+j], computed by
// newPhases), so a plane is one run of positions (the columns past ow of
// each row computed and dropped): no bounds tests, no gathers for strides,
// and vectors as long as the plane rather than its rows (a 7 × 7 plane
// has rows of 7 floats, 61 positions). A convolution's positions are
// summed a block at a time, each kernel row's taps added over the block
// while it is in L1, all three rows of a 3 × 3 kernel in one pass.
//
// The padding (zeros, which change no convolution's or average's sum;
// -inf for a max pool, which changes no maximum) is
// the same for every plane of a call: it is written once and each plane
// writes the phases' insides alone, in loops of its own rather than
// memcpy's calls (a 7 × 7 plane's rows are 28 bytes; the library's calls
// took 30 % of the planes' time in MobileNetV2).

#include <string.h>

#include "kernels.h"

// The positions summed at a time (16 KiB of floats).
enum { DW_BLOCK = 4096 };

// DW_AT is the vector of floats at p + t (any alignment), in a function
// whose vectors are named vec.
#define DW_AT(p, t) (*(vec *)((p) + (t)))

#define DEPTHWISE(S, ATTR, W)                                                                             \
	GO_VEC(dw_##S, ATTR, W)                                                                               \
	typedef int dw_##S##_ikey __attribute__((vector_size(4 * (W)), aligned(4), may_alias));               \
	/* fill copies the input plane x into the insides of the phases at q. */                              \
	ATTR CW_NO_LIBCALL static void dw_##S##_fill(const struct cw_window *g, const float *x, float *q) {      \
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
	/* taps adds kernel row i's taps (weights wr, offsets off) to acc[0, n): positions from q, in */       \
	/* whole vectors (past n, into the slack phases.work leaves: positions no output keeps). */           \
	ATTR static void dw_##S##_taps(long kw, const float *wr, const long *off, const float *q,             \
	                             float *restrict acc, long n) {                                           \
		typedef dw_##S##_vec vec;                                                                         \
		if (kw == 3) {                                                                                    \
			const float *p0 = q + off[0], *p1 = q + off[1], *p2 = q + off[2];                             \
			float w0 = wr[0], w1 = wr[1], w2 = wr[2];                                                     \
			for (long t = 0; t < n; t += (W))                                                             \
				DW_AT(acc, t) += w0 * DW_AT(p0, t) + w1 * DW_AT(p1, t) + w2 * DW_AT(p2, t);               \
		} else if (kw == 5) {                                                                             \
			const float *p0 = q + off[0], *p1 = q + off[1], *p2 = q + off[2], *p3 = q + off[3],           \
			            *p4 = q + off[4];                                                                 \
			float w0 = wr[0], w1 = wr[1], w2 = wr[2], w3 = wr[3], w4 = wr[4];                             \
			for (long t = 0; t < n; t += (W))                                                             \
				DW_AT(acc, t) += w0 * DW_AT(p0, t) + w1 * DW_AT(p1, t) + w2 * DW_AT(p2, t) +              \
				                 w3 * DW_AT(p3, t) + w4 * DW_AT(p4, t);                                   \
		} else if (kw == 7) {                                                                             \
			const float *p0 = q + off[0], *p1 = q + off[1], *p2 = q + off[2], *p3 = q + off[3],           \
			            *p4 = q + off[4], *p5 = q + off[5], *p6 = q + off[6];                             \
			float w0 = wr[0], w1 = wr[1], w2 = wr[2], w3 = wr[3], w4 = wr[4], w5 = wr[5], w6 = wr[6];     \
			for (long t = 0; t < n; t += (W))                                                             \
				DW_AT(acc, t) += w0 * DW_AT(p0, t) + w1 * DW_AT(p1, t) + w2 * DW_AT(p2, t) +              \
				                 w3 * DW_AT(p3, t) + w4 * DW_AT(p4, t) + w5 * DW_AT(p5, t) +              \
				                 w6 * DW_AT(p6, t);                                                       \
		} else                                                                                            \
			for (long j = 0; j < kw; j++) {                                                               \
				const float *pj = q + off[j];                                                             \
				float wj = wr[j];                                                                         \
				for (long t = 0; t < n; t += (W))                                                         \
					DW_AT(acc, t) += wj * DW_AT(pj, t);                                                   \
			}                                                                                             \
	}                                                                                                     \
	/* taps3x3 adds a 3 × 3 kernel's three rows to acc[0, n) in one pass, as three of taps. */            \
	ATTR static void dw_##S##_taps3x3(const float *w, const long *off, const float *q, float *restrict acc, \
	                                long n) {                                                             \
		typedef dw_##S##_vec vec;                                                                         \
		const float *p0 = q + off[0], *p1 = q + off[1], *p2 = q + off[2], *p3 = q + off[3],               \
		            *p4 = q + off[4], *p5 = q + off[5], *p6 = q + off[6], *p7 = q + off[7],               \
		            *p8 = q + off[8];                                                                     \
		float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5], w6 = w[6], w7 = w[7],     \
		      w8 = w[8];                                                                                  \
		for (long t = 0; t < n; t += (W)) {                                                               \
			vec v = DW_AT(acc, t);                                                                        \
			v += w0 * DW_AT(p0, t) + w1 * DW_AT(p1, t) + w2 * DW_AT(p2, t);                               \
			v += w3 * DW_AT(p3, t) + w4 * DW_AT(p4, t) + w5 * DW_AT(p5, t);                               \
			v += w6 * DW_AT(p6, t) + w7 * DW_AT(p7, t) + w8 * DW_AT(p8, t);                               \
			DW_AT(acc, t) = v;                                                                            \
		}                                                                                                 \
	}                                                                                                     \
	/* plane writes one output plane y from the input plane x, its channel's kernel wt. */                \
	ATTR CW_NO_LIBCALL static void dw_##S##_plane(const struct cw_window *g, const long *taps, const float *x, \
	                                         const float *wt, float bias, const float *z, float *y, float *q, \
	                                         float *acc) {                                                \
		long ws = g->ws, ow = g->ow;                                                                      \
		long n = (g->oh - 1) * ws + ow; /* positions: the last row's dropped columns left out */          \
		dw_##S##_fill(g, x, q);                                                                           \
		for (long r = 0; r < g->oh; r++) {                                                                \
			float *a = acc + r * ws;                                                                      \
			if (z)                                                                                        \
				for (long c = 0; c < ow; c++)                                                             \
					a[c] = z[r * ow + c] + bias;                                                          \
			else                                                                                          \
				for (long c = 0; c < ow; c++)                                                             \
					a[c] = bias;                                                                          \
			if (r < g->oh - 1) /* dropped, but kept from growing to infinities plane after plane */       \
				for (long c = ow; c < ws; c++)                                                            \
					a[c] = 0;                                                                             \
		}                                                                                                 \
		for (long t = n; t < n + (W) - 1; t++) /* the last vector's lanes past n, the same */             \
			acc[t] = 0;                                                                                   \
		for (long f = 0; f < n; f += DW_BLOCK) {                                                          \
			long m = n - f < DW_BLOCK ? n - f : DW_BLOCK;                                                 \
			if (g->kh == 3 && g->kw == 3)                                                                 \
				dw_##S##_taps3x3(wt, taps, q + f, acc + f, m);                                            \
			else                                                                                          \
				for (long i = 0; i < g->kh; i++)                                                          \
					dw_##S##_taps(g->kw, wt + i * g->kw, taps + i * g->kw, q + f, acc + f, m);            \
		}                                                                                                 \
		for (long r = 0; r < g->oh; r++)                                                                  \
			for (long c = 0; c < ow; c++)                                                                 \
				y[r * ow + c] = acc[r * ws + c];                                                          \
	}                                                                                                     \
	ATTR static void depthwise_##S(int isa, const struct cw_window *g, long m, const long *taps, const float *x, \
	                      const float *wt, const float *bias, const float *z, float *y, float *work,      \
	                      long lo, long hi, int act, float a, float b) {                                  \
		long in = g->h * g->w, out = g->oh * g->ow, kk = g->kh * g->kw;                                   \
		long phases = g->sh * g->sw * g->hs * g->ws;                                                      \
		memset(work, 0, phases * sizeof(float)); /* the padding, for every plane */                       \
		for (long u = lo; u < hi; u++) {                                                                  \
			long ch = u % m;                                                                              \
			float *yu = y + u * out;                                                                      \
			dw_##S##_plane(g, taps, x + u * in, wt + ch * kk, bias ? bias[ch] : 0, z ? z + u * out : 0, yu, \
			             work, work + phases);                                                            \
			if (act != CW_ACT_NONE)                                                                       \
				cw_activate(isa, act, a, b, yu, out);                                                     \
		}                                                                                                 \
	}                                                                                                     \
	/* keys writes the n floats of q as keys, ints that order them as Go's max does (-0 below +0): */     \
	/* a float's bits, those but the sign flipped where it is set (which undoes itself). It returns */   \
	/* 0 where one is NaN, which the keys do not order so. */                                              \
	ATTR CW_NO_LIBCALL static int dw_##S##_keys(const float *restrict q, int *restrict keys, long n) {       \
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
	/* output is the largest of its window as Go's max finds it (NaN if any is, +0 above -0), the */       \
	/* padding -inf. Otherwise it is the sum of its window's taps in their order, from +0, the */          \
	/* padding +0 (which changes no such sum), over div at its position. */                              \
	ATTR CW_NO_LIBCALL static void pool_##S(const struct cw_window *g, const long *taps, const float *div,     \
	                                     const float *x, float *y, float *work, long lo, long hi) {        \
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
			} else if (dw_##S##_keys(q, keys, phases)) { /* no NaN: the keys' largest */                 \
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

void cw_depthwise(int isa, const struct cw_window *g, long m, const long *taps, const float *x, const float *wt,
                  const float *bias, const float *z, float *y, float *work, long lo, long hi, int act, float a,
                  float b) {
	CW_DISPATCH(isa, depthwise, isa, g, m, taps, x, wt, bias, z, y, work, lo, hi, act, a, b);
}

void cw_pool(int isa, const struct cw_window *g, const long *taps, const float *div, const float *x, float *y,
             float *work, long lo, long hi) {
	CW_DISPATCH(isa, pool, g, taps, div, x, y, work, lo, hi);
}
