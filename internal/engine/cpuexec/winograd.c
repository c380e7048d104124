//go:build cgo

// The transforms of winograd.go's convolutions, F(2×2, 3×3), as its Go
// loops compute them (the same sums in the same order), compiled for each
// instruction set: the filters' W at a time, each lane a filter; the
// patches' and the outputs' W tiles of a row at a time, each lane a tile
// (its input columns the even and odd floats of a row's vectors, its
// output columns interleaved back).

#include <stddef.h>

#include "kernels.h"

// WG_EVEN_W and WG_ODD_W pick the even and the odd floats of two vectors of
// W floats (a's, then b's); WG_ZLO_W and WG_ZHI_W interleave the first
// halves of a and b, and the second.
#define WG_EVEN_4 0, 2, 4, 6
#define WG_ODD_4 1, 3, 5, 7
#define WG_ZLO_4 0, 4, 1, 5
#define WG_ZHI_4 2, 6, 3, 7
#define WG_EVEN_8 0, 2, 4, 6, 8, 10, 12, 14
#define WG_ODD_8 1, 3, 5, 7, 9, 11, 13, 15
#define WG_ZLO_8 0, 8, 1, 9, 2, 10, 3, 11
#define WG_ZHI_8 4, 12, 5, 13, 6, 14, 7, 15
#define WG_EVEN_16 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define WG_ODD_16 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31
#define WG_ZLO_16 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define WG_ZHI_16 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31

#define WINOGRAD(S, ATTR, W)                                                                                            \
	GO_VEC(S, ATTR, W)                                                                                              \
	/* filters_S writes the transforms of filters [f0, f1): U = G g Gᵀ, W */                                        \
	/* filters at a time, each lane a filter; their taps are transposed into */                                     \
	/* lanes 4·W filters at a time, so that a vector is loaded long after */                                        \
	/* the floats that make it were stored (a load of floats stored one by */                                       \
	/* one just before waits for them all: a fifth of the time). */                                                 \
	ATTR static void filters_##S(long mc, const float *restrict w, float *restrict u, long f0, long f1) {           \
		S##_vec half = S##_splat(0.5f);                                                                         \
		long f = f0;                                                                                            \
		for (; f + 4 * (W) <= f1; f += 4 * (W)) {                                                               \
			float gt[4][9][W];                                                                              \
			for (int b = 0; b < 4; b++)                                                                     \
				for (int i = 0; i < (W); i++)                                                           \
					for (int j = 0; j < 9; j++)                                                     \
						gt[b][j][i] = w[(f + b * (W) + i) * 9 + j];                             \
			for (int b = 0; b < 4; b++) {                                                                   \
				S##_vec g[9], t[4][3];                                                                  \
				for (int j = 0; j < 9; j++)                                                             \
					g[j] = *(S##_vec *)gt[b][j];                                                    \
				for (int j = 0; j < 3; j++) {                                                           \
					t[0][j] = g[j];                                                                 \
					t[1][j] = (g[j] + g[3 + j] + g[6 + j]) * half;                                  \
					t[2][j] = (g[j] - g[3 + j] + g[6 + j]) * half;                                  \
					t[3][j] = g[6 + j];                                                             \
				}                                                                                       \
				float *ub = u + f + b * (W);                                                            \
				for (int i = 0; i < 4; i++) {                                                           \
					*(S##_vec *)(ub + (4 * i) * mc) = t[i][0];                                      \
					*(S##_vec *)(ub + (4 * i + 1) * mc) = (t[i][0] + t[i][1] + t[i][2]) * half;     \
					*(S##_vec *)(ub + (4 * i + 2) * mc) = (t[i][0] - t[i][1] + t[i][2]) * half;     \
					*(S##_vec *)(ub + (4 * i + 3) * mc) = t[i][2];                                  \
				}                                                                                       \
			}                                                                                               \
		}                                                                                                       \
		for (; f < f1; f++) {                                                                                   \
			const float *g = w + f * 9;                                                                     \
			float t[4][3];                                                                                  \
			for (int j = 0; j < 3; j++) {                                                                   \
				t[0][j] = g[j];                                                                         \
				t[1][j] = (g[j] + g[3 + j] + g[6 + j]) * 0.5f;                                          \
				t[2][j] = (g[j] - g[3 + j] + g[6 + j]) * 0.5f;                                          \
				t[3][j] = g[6 + j];                                                                     \
			}                                                                                               \
			for (int i = 0; i < 4; i++) {                                                                   \
				u[(4 * i) * mc + f] = t[i][0];                                                          \
				u[(4 * i + 1) * mc + f] = (t[i][0] + t[i][1] + t[i][2]) * 0.5f;                         \
				u[(4 * i + 2) * mc + f] = (t[i][0] - t[i][1] + t[i][2]) * 0.5f;                         \
				u[(4 * i + 3) * mc + f] = t[i][2];                                                      \
			}                                                                                               \
		}                                                                                                       \
	}                                                                                                               \
	/* row_S writes p[q] = the padded input row r's column q − pl for q in */                                       \
	/* [0, q1), zero outside the plane. */                                                                          \
	ATTR CW_NO_LIBCALL static inline void row_##S(const struct cw_window *g, const float *restrict plane, long r, long q1, \
	                                              float *restrict p) {                                              \
		if (r < 0 || r >= g->h) {                                                                               \
			for (long q = 0; q < q1; q++)                                                                   \
				p[q] = 0;                                                                               \
			return;                                                                                         \
		}                                                                                                       \
		const float *src = plane + r * g->w; /* p[q] is src[q − pl] inside, q in [lo, hi) */                    \
		long lo = g->pl < q1 ? g->pl : q1, hi = g->w + g->pl < q1 ? g->w + g->pl : q1;                          \
		for (long q = 0; q < lo; q++)                                                                           \
			p[q] = 0;                                                                                       \
		for (long q = lo; q < hi; q++)                                                                          \
			p[q] = src[q - g->pl];                                                                          \
		for (long q = hi; q < q1; q++)                                                                          \
			p[q] = 0;                                                                                       \
	}                                                                                                               \
	/* input_S writes V = Bᵀ d B of tiles [t0, t0 + nt) of c channels, W */                                         \
	/* tiles of a row at a time (d's columns the even and odd floats of */                                          \
	/* two vectors of its rows), each row of V ld floats apart: a row's */                                          \
	/* vectors may write W − 1 floats past its tiles. Each channel's input */                                       \
	/* rows that the tiles read are first copied, padded, into a band in */                                         \
	/* work (so that the vectors that read them do not wait for the stores */                                       \
	/* that wrote them: they did, for two thirds of the time). */                                                   \
	ATTR CW_NO_LIBCALL static void input_##S(const struct cw_window *g, long c, long tw, const float *restrict x,   \
	                                          float *restrict v, long ld, long t0, long nt, float *restrict work) { \
		long pw = 2 * tw + 34, ew = tw + 16;                                                                    \
		long r0 = 2 * (t0 / tw) - g->pt, r1 = 2 * ((t0 + nt - 1) / tw) - g->pt + 4; /* the band's rows */       \
		float *band = work, *e = work + (r1 - r0) * pw; /* e[(4i + k)·ew + j] */                                \
		for (long ch = 0; ch < c; ch++) {                                                                       \
			const float *plane = x + ch * g->h * g->w;                                                      \
			for (long r = r0; r < r1; r++)                                                                  \
				row_##S(g, plane, r, 2 * tw + 2, band + (r - r0) * pw);                                 \
			for (long t = t0; t < t0 + nt;) {                                                               \
				long ty = t / tw, a = t % tw, n = tw - a < t0 + nt - t ? tw - a : t0 + nt - t;          \
				for (int i = 0; i < 4; i++) {                                                           \
					const float *pi = band + (2 * ty - g->pt + i - r0) * pw + 2 * a;                \
					float *ei = e + 4 * i * ew;                                                     \
					for (long j = 0; j < n; j += (W)) {                                             \
						S##_vec a0 = *(const S##_vec *)(pi + 2 * j), a1 = *(const S##_vec *)(pi + 2 * j + (W)); \
						S##_vec b0 = *(const S##_vec *)(pi + 2 * j + 2);                        \
						S##_vec b1 = *(const S##_vec *)(pi + 2 * j + 2 + (W));                  \
						S##_vec d0 = CW_SHUFFLE(S##_int, a0, a1, WG_EVEN_##W);                  \
						S##_vec d1 = CW_SHUFFLE(S##_int, a0, a1, WG_ODD_##W);                   \
						S##_vec d2 = CW_SHUFFLE(S##_int, b0, b1, WG_EVEN_##W);                  \
						S##_vec d3 = CW_SHUFFLE(S##_int, b0, b1, WG_ODD_##W);                   \
						*(S##_vec *)(ei + j) = d0 - d2;                                         \
						*(S##_vec *)(ei + ew + j) = d1 + d2;                                    \
						*(S##_vec *)(ei + 2 * ew + j) = d2 - d1;                                \
						*(S##_vec *)(ei + 3 * ew + j) = d1 - d3;                                \
					}                                                                               \
				}                                                                                       \
				for (int k = 0; k < 4; k++) {                                                           \
					const float *q0 = e + k * ew, *q1 = q0 + 4 * ew, *q2 = q1 + 4 * ew, *q3 = q2 + 4 * ew; \
					float *v0 = v + (ch * 16 + k) * ld + t - t0, *v1 = v0 + 4 * ld, *v2 = v1 + 4 * ld, \
					      *v3 = v2 + 4 * ld;                                                        \
					for (long j = 0; j < n; j += (W)) {                                             \
						S##_vec e0 = *(const S##_vec *)(q0 + j), e1 = *(const S##_vec *)(q1 + j); \
						S##_vec e2 = *(const S##_vec *)(q2 + j), e3 = *(const S##_vec *)(q3 + j); \
						*(S##_vec *)(v0 + j) = e0 - e2;                                         \
						*(S##_vec *)(v1 + j) = e1 + e2;                                         \
						*(S##_vec *)(v2 + j) = e2 - e1;                                         \
						*(S##_vec *)(v3 + j) = e1 - e3;                                         \
					}                                                                               \
				}                                                                                       \
				t += n;                                                                                 \
			}                                                                                               \
		}                                                                                                       \
	}                                                                                                               \
	/* output_S writes Y = Aᵀ M A + bias + Z of tiles [t0, t0 + nt) of m */                                         \
	/* channels (M's rows ld floats apart, read W tiles at a time: up to */                                         \
	/* W − 1 floats past a row's tiles), clipped to [lo, hi] and activated */                                       \
	/* as act says (CW_ACT_NONE for none). An output row's last floats, */                                          \
	/* fewer than a vector, are computed as a vector too (of Z's floats */                                          \
	/* copied, zero past them) and copied out. */                                                                   \
	ATTR static void output_##S(int isa, const struct cw_window *g, long m, long tw, const float *restrict mo,      \
	                            long ld, const float *bias, const float *z, float *y, long t0, long nt, float lo,   \
	                            float hi, int act, float aa, float ab, float *restrict work) {                      \
		int lok = cw_lo_bound(lo), hik = cw_hi_bound(hi);                                                       \
		long rw = 2 * tw + 32;                                                                                  \
		float *ra = work, *rb = work + rw; /* the two output rows of a row of tiles */                          \
		for (long t = t0; t < t0 + nt;) {                                                                       \
			long ty = t / tw, a = t % tw, n = tw - a < t0 + nt - t ? tw - a : t0 + nt - t;                  \
			long x0 = 2 * a, x1 = 2 * (a + n) < g->ow ? 2 * (a + n) : g->ow;                                \
			for (long ch = 0; ch < m; ch++) {                                                               \
				const float *q = mo + ch * 16 * ld + t - t0;                                            \
				for (long j = 0; j < n; j += (W)) {                                                     \
					S##_vec r[16];                                                                  \
					for (int k = 0; k < 16; k++)                                                    \
						r[k] = *(const S##_vec *)(q + k * ld + j);                              \
					S##_vec s0 = r[0] + r[4] + r[8], s1 = r[1] + r[5] + r[9];                       \
					S##_vec s2 = r[2] + r[6] + r[10], s3 = r[3] + r[7] + r[11];                     \
					S##_vec d0 = r[4] - r[8] - r[12], d1 = r[5] - r[9] - r[13];                     \
					S##_vec d2 = r[6] - r[10] - r[14], d3 = r[7] - r[11] - r[15];                   \
					S##_vec y0 = s0 + s1 + s2, y1 = s1 - s2 - s3, y2 = d0 + d1 + d2, y3 = d1 - d2 - d3; \
					*(S##_vec *)(ra + 2 * j) = CW_SHUFFLE(S##_int, y0, y1, WG_ZLO_##W);             \
					*(S##_vec *)(ra + 2 * j + (W)) = CW_SHUFFLE(S##_int, y0, y1, WG_ZHI_##W);       \
					*(S##_vec *)(rb + 2 * j) = CW_SHUFFLE(S##_int, y2, y3, WG_ZLO_##W);             \
					*(S##_vec *)(rb + 2 * j + (W)) = CW_SHUFFLE(S##_int, y2, y3, WG_ZHI_##W);       \
				}                                                                                       \
				float b = bias ? bias[ch] : 0;                                                          \
				S##_vec bv = S##_splat(b);                                                              \
				for (int i = 0; i < 2 && 2 * ty + i < g->oh; i++) {                                     \
					long at = (ch * g->oh + 2 * ty + i) * g->ow;                                    \
					const float *ri = (i ? rb : ra) - x0;                                           \
					float *yi = y + at;                                                             \
					const float *zi = z ? z + at : NULL;                                            \
					long o = x0;                                                                    \
					for (; o + (W) <= x1; o += (W)) {                                               \
						S##_vec s = *(const S##_vec *)(ri + o) + bv;                            \
						if (zi)                                                                 \
							s += *(const S##_vec *)(zi + o);                                \
						*(S##_vec *)(yi + o) = S##_clip(s, lo, lok, hi, hik);                   \
					}                                                                               \
					if (o < x1) {                                                                   \
						S##_vec s = *(const S##_vec *)(ri + o) + bv;                            \
						if (zi) {                                                               \
							S##_vec zt = {0};                                               \
							for (long q = o; q < x1; q++)                                   \
								zt[q - o] = zi[q];                                      \
							s += zt;                                                        \
						}                                                                       \
						S##_vec out = S##_clip(s, lo, lok, hi, hik);                            \
						for (long q = o; q < x1; q++)                                           \
							yi[q] = out[q - o];                                             \
					}                                                                               \
					if (act != CW_ACT_NONE)                                                         \
						cw_activate(isa, act, aa, ab, yi + x0, x1 - x0);                        \
				}                                                                                       \
			}                                                                                               \
			t += n;                                                                                         \
		}                                                                                                       \
	}
WINOGRAD(base, , 4)
#if defined(__x86_64__)
WINOGRAD(avx2, __attribute__((target("avx2,fma"))), 8)
WINOGRAD(avx512, __attribute__((target("avx512f"))), 16)
#endif

// The input's padded rows (those of the rows of tiles up to tb tiles
// touch, one more than tb fills) and 16 rows of column sums; the output's
// two rows are fewer.
long cw_winograd_work(long tw, long tb) {
	return (2 * ((tb + tw - 1) / tw + 1) + 2) * (2 * tw + 34) + 16 * (tw + 16);
}

void cw_winograd_filters(int isa, long mc, const float *w, float *u, long f0, long f1) {
	CW_DISPATCH(isa, filters, mc, w, u, f0, f1);
}

void cw_winograd_input(int isa, const struct cw_window *g, long c, long tw, const float *x, float *v, long ld, long t0,
                       long nt, float *work) {
	CW_DISPATCH(isa, input, g, c, tw, x, v, ld, t0, nt, work);
}

void cw_winograd_output(int isa, const struct cw_window *g, long m, long tw, const float *mo, long ld,
                        const float *bias, const float *z, float *y, long t0, long nt, float lo, float hi, int act,
                        float a, float b, float *work) {
	CW_DISPATCH(isa, output, isa, g, m, tw, mo, ld, bias, z, y, t0, nt, lo, hi, act, a, b, work);
}
