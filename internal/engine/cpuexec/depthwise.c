//go:build cgo

// Depthwise convolution, one plane at a time, as depthwiseKernel does it in
// Go: each output row adds the taps of one kernel row at a time over the
// whole row, the columns whose taps are all inside the input without
// bounds tests, in loops of their own for 3-, 5- and 7-wide kernels that
// the compiler vectorizes along the row (each compiled for every
// instruction set, as the other kernels).

#include "kernels.h"

// edge adds the taps of kernel row wr at output column c, those inside the
// input row in (of w floats) alone.
static inline float edge(const struct cw_window *g, const float *in, const float *wr, long c, float v) {
	for (long t = 0; t < g->kw; t++) {
		long ix = c * g->sw + t * g->dw - g->pl;
		if (ix >= 0 && ix < g->w)
			v += wr[t] * in[ix];
	}
	return v;
}

#define DEPTHWISE(NAME, ATTR)                                                                         \
	ATTR static void NAME##_row(const struct cw_window *g, float *restrict out,                      \
	                            const float *restrict in, const float *restrict wr) {                   \
		long s = g->sw, n = g->hi - g->lo;                                                              \
		for (long c = 0; c < g->lo; c++)                                                                \
			out[c] = edge(g, in, wr, c, out[c]);                                                        \
		if (n > 0) {                                                                                    \
			const float *seg = in + g->lo * s - g->pl;                                                  \
			float *o = out + g->lo;                                                                     \
			if (g->dw == 1 && s == 1 && g->kw == 3) {                                                   \
				float w0 = wr[0], w1 = wr[1], w2 = wr[2];                                               \
				for (long t = 0; t < n; t++)                                                            \
					o[t] += w0 * seg[t] + w1 * seg[t + 1] + w2 * seg[t + 2];                            \
			} else if (g->dw == 1 && s == 1 && g->kw == 5) {                                            \
				float w0 = wr[0], w1 = wr[1], w2 = wr[2], w3 = wr[3], w4 = wr[4];                       \
				for (long t = 0; t < n; t++)                                                            \
					o[t] += w0 * seg[t] + w1 * seg[t + 1] + w2 * seg[t + 2] + w3 * seg[t + 3] +         \
					        w4 * seg[t + 4];                                                            \
			} else if (g->dw == 1 && s == 1 && g->kw == 7) {                                            \
				float w0 = wr[0], w1 = wr[1], w2 = wr[2], w3 = wr[3], w4 = wr[4], w5 = wr[5],           \
				      w6 = wr[6];                                                                       \
				for (long t = 0; t < n; t++)                                                            \
					o[t] += w0 * seg[t] + w1 * seg[t + 1] + w2 * seg[t + 2] + w3 * seg[t + 3] +         \
					        w4 * seg[t + 4] + w5 * seg[t + 5] + w6 * seg[t + 6];                        \
			} else if (g->dw == 1 && s == 2 && g->kw == 3) {                                            \
				float w0 = wr[0], w1 = wr[1], w2 = wr[2];                                               \
				for (long t = 0; t < n; t++)                                                            \
					o[t] += w0 * seg[2 * t] + w1 * seg[2 * t + 1] + w2 * seg[2 * t + 2];                \
			} else if (g->dw == 1 && s == 2 && g->kw == 5) {                                            \
				float w0 = wr[0], w1 = wr[1], w2 = wr[2], w3 = wr[3], w4 = wr[4];                       \
				for (long t = 0; t < n; t++)                                                            \
					o[t] += w0 * seg[2 * t] + w1 * seg[2 * t + 1] + w2 * seg[2 * t + 2] +               \
					        w3 * seg[2 * t + 3] + w4 * seg[2 * t + 4];                                  \
			} else {                                                                                    \
				for (long t = 0; t < n; t++) {                                                          \
					float v = o[t];                                                                     \
					for (long k = 0; k < g->kw; k++)                                                    \
						v += wr[k] * seg[t * s + k * g->dw];                                            \
					o[t] = v;                                                                           \
				}                                                                                       \
			}                                                                                           \
		}                                                                                               \
		for (long c = g->hi > g->lo ? g->hi : g->lo; c < g->ow; c++)                                    \
			out[c] = edge(g, in, wr, c, out[c]);                                                        \
	}                                                                                                   \
	ATTR static void NAME(const struct cw_window *g, const float *x, const float *wt, float bias,    \
	                      const float *z, float *y) {                                                   \
		long p = g->oh * g->ow;                                                                         \
		if (z)                                                                                          \
			for (long j = 0; j < p; j++)                                                                \
				y[j] = z[j] + bias;                                                                     \
		else                                                                                            \
			for (long j = 0; j < p; j++)                                                                \
				y[j] = bias;                                                                            \
		for (long r = 0; r < g->oh; r++)                                                                \
			for (long k = 0; k < g->kh; k++) {                                                          \
				long ih = r * g->sh - g->pt + k * g->dh;                                                \
				if (ih >= 0 && ih < g->h)                                                               \
					NAME##_row(g, y + r * g->ow, x + ih * g->w, wt + k * g->kw);                        \
			}                                                                                           \
	}

DEPTHWISE(depthwise_base, )
#if defined(__x86_64__)
DEPTHWISE(depthwise_avx2, __attribute__((target("avx2,fma"))))
DEPTHWISE(depthwise_avx512, __attribute__((target("avx512f"))))
#endif

void cw_depthwise_plane(int isa, const struct cw_window *g, const float *x, const float *wt, float bias,
                        const float *z, float *y) {
	CW_DISPATCH(isa, depthwise, g, x, wt, bias, z, y);
}
