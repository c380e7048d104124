//go:build cgo

// LayerNorm's rows as layerNormRowsGo computes them, to the bit:
// the mean and the variance summed in double precision in eight lanes
// (element i in lane i mod 8), the lanes added in one fixed tree, so that
// every instruction set (whose vectors hold 8, 4 or 2 doubles: the
// compiler splits the eight lanes among them) and Go's loop make the same
// sums; then each element (x − mean)·inv·scale + bias in double
// precision, without fused multiply-adds, rounded once to float.
// (TestLayerNormISAs compares the floats; a double's last bits seldom
// reach them, so the test would pass a different order most of the time.)

#include "kernels.h"

CW_CONTRACT_OFF

typedef double lanes __attribute__((vector_size(64)));
typedef float floats8 __attribute__((vector_size(32), aligned(4), may_alias));

// LOAD widens the 8 floats at p; SUM adds lanes v as ((0 + 4) + (2 + 6)) +
// ((1 + 5) + (3 + 7)). (Macros: a function taking or returning a vector
// of 64 bytes is not of one ABI across the instruction sets.)
#define LOAD(p) __builtin_convertvector(*(const floats8 *)(p), lanes)
#define SUM(v) ((((v)[0] + (v)[4]) + ((v)[2] + (v)[6])) + (((v)[1] + (v)[5]) + ((v)[3] + (v)[7])))

#define LAYERNORM(NAME, ATTR)                                                                             \
	ATTR static void NAME(const float *x, float *y, const float *scale, const float *bias, long len,       \
	                      double eps, long lo, long hi) {                                                 \
		for (long r = lo; r < hi; r++) {                                                                  \
			const float *row = x + r * len;                                                               \
			float *out = y + r * len;                                                                     \
			lanes acc = {0};                                                                              \
			long i = 0;                                                                                   \
			for (; i + 8 <= len; i += 8)                                                                  \
				acc += LOAD(row + i);                                                              \
			for (; i < len; i++)                                                                          \
				acc[i % 8] += row[i];                                                                     \
			double mean = SUM(acc) / len;                                                          \
			acc = (lanes){0};                                                                             \
			for (i = 0; i + 8 <= len; i += 8) {                                                           \
				lanes d = LOAD(row + i) - mean;                                                    \
				acc += d * d;                                                                             \
			}                                                                                             \
			for (; i < len; i++) {                                                                        \
				double d = row[i] - mean;                                                                 \
				acc[i % 8] += d * d;                                                                      \
			}                                                                                             \
			double inv = 1 / __builtin_sqrt(SUM(acc) / len + eps);                                 \
			for (i = 0; i + 8 <= len; i += 8) {                                                           \
				lanes n = (LOAD(row + i) - mean) * inv;                                            \
				if (scale)                                                                                \
					n *= LOAD(scale + i);                                                          \
				if (bias)                                                                                 \
					n += LOAD(bias + i);                                                           \
				*(floats8 *)(out + i) = __builtin_convertvector(n, floats8);                              \
			}                                                                                             \
			for (; i < len; i++) {                                                                        \
				double n = (row[i] - mean) * inv;                                                         \
				if (scale)                                                                                \
					n *= scale[i];                                                                        \
				if (bias)                                                                                 \
					n += bias[i];                                                                         \
				out[i] = (float)n;                                                                        \
			}                                                                                             \
		}                                                                                                 \
	}

LAYERNORM(layernorm_base, CW_NO_FMA)
#if defined(__x86_64__)
LAYERNORM(layernorm_avx2, CW_NO_FMA __attribute__((target("avx2,fma"))))
LAYERNORM(layernorm_avx512, CW_NO_FMA __attribute__((target("avx512f"))))
#endif

void cw_layernorm(int isa, const float *x, float *y, const float *scale, const float *bias, long len, double eps,
                  long lo, long hi) {
	CW_DISPATCH(isa, layernorm, x, y, scale, bias, len, eps, lo, hi);
}
