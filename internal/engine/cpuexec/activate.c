//go:build cgo

// Activations over a slice of floats, in vectors: what Go's loops in
// activateGo compute, W floats at a time.
//
// Clip, hard sigmoid and hard swish are the same operations in the same
// order as Go's (compiled without contracting a·x + b into a fused
// multiply-add, as Apply rounds the product), so their results are Go's
// to the bit. Exp, sigmoid and SiLU (x · sigmoid(x), both from exp(-|x|))
// take exp from a polynomial (Cephes' expf: Cody-Waite reduction by ln 2,
// a degree-6 polynomial, the power of two put in the exponent bits),
// within a few units in the last place of Go's float64 exp rounded (or
// within 1e-37 of it, where the result is beyond float32's normal range);
// NaN and the infinities come out as Go's. Erf and GELU take erf from a
// rational approximation, within 4e-7 of Go's (6 units in the last place
// of 1; TestActivateISAs).

#include "kernels.h"

// ACTIVATE defines NAME, an activation over a slice, and SOFTMAX, a row's
// softmax, for vectors of W floats.
#define ACTIVATE(NAME, SOFTMAX, ATTR, W)                                                          \
	GO_VEC(NAME, ATTR, W)                                                                         \
	/* exp(x): x clamped to [-110, 89], beyond which exp is 0 or +inf in */                     \
	/* float32 anyway; the power of two is put in as two halves, so that */                     \
	/* results overflow to +inf and underflow through the subnormals. */                         \
	static inline ATTR NAME##_vec NAME##_exp(NAME##_vec x) {                                      \
		x = NAME##_pick(x < -110.0f, NAME##_splat(-110.0f), x);                                   \
		x = NAME##_pick(x > 89.0f, NAME##_splat(89.0f), x);                                       \
		const float magic = 12582912.0f; /* 1.5·2^23: adding it rounds to an integer */         \
		NAME##_vec n = (x * 1.44269504088896341f + magic) - magic;                                \
		NAME##_vec r = x - n * 0.693359375f;                                                      \
		r = r - n * -2.12194440e-4f;                                                              \
		NAME##_vec p = NAME##_splat(1.9875691500e-4f);                                            \
		p = p * r + 1.3981999507e-3f;                                                             \
		p = p * r + 8.3334519073e-3f;                                                             \
		p = p * r + 4.1665795894e-2f;                                                             \
		p = p * r + 1.6666665459e-1f;                                                             \
		p = p * r + 5.0000001201e-1f;                                                             \
		NAME##_vec y = p * (r * r) + r + 1.0f;                                                    \
		NAME##_int k = __builtin_convertvector(n, NAME##_int), k1 = k >> 1, k2 = k - k1;          \
		return y * (NAME##_vec)((k1 + 127) << 23) * (NAME##_vec)((k2 + 127) << 23);               \
	}                                                                                             \
	/* sigmoid(x) from e = exp(-|x|), which cannot overflow: 1 / (1 + e) */                    \
	/* for x ≥ 0, e / (1 + e) below. */                                                          \
	static inline ATTR NAME##_vec NAME##_sigmoid(NAME##_vec x) {                                  \
		NAME##_int neg = x < 0;                                                                   \
		NAME##_vec e = NAME##_exp(NAME##_pick(neg, x, -x));                                       \
		return NAME##_pick(neg, e, NAME##_splat(1)) / (1.0f + e);                                 \
	}                                                                                             \
	/* erf(x) as the ratio of an odd polynomial of degree 13 to an even one */                   \
	/* of degree 8, x clamped to [-4, 4] (beyond, erf is ±1 in float32). */                     \
	static inline ATTR NAME##_vec NAME##_erf(NAME##_vec x) {                                      \
		NAME##_vec nan = x;                                                                       \
		x = NAME##_pick(x < -4.0f, NAME##_splat(-4.0f), x);                                       \
		x = NAME##_pick(x > 4.0f, NAME##_splat(4.0f), x);                                         \
		NAME##_vec x2 = x * x;                                                                    \
		NAME##_vec p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;                       \
		p = p * x2 + -2.10102402082508e-06f;                                                      \
		p = p * x2 + -5.69250639462346e-05f;                                                      \
		p = p * x2 + -7.34990630326855e-04f;                                                      \
		p = p * x2 + -2.95459980854025e-03f;                                                      \
		p = p * x2 + -1.60960333262415e-02f;                                                      \
		NAME##_vec q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;                      \
		q = q * x2 + -1.68282697438203e-03f;                                                      \
		q = q * x2 + -7.37332916720468e-03f;                                                      \
		q = q * x2 + -1.42647390514189e-02f;                                                      \
		return NAME##_pick(nan != nan, nan, x * p / q);                                           \
	}                                                                                             \
	static inline ATTR NAME##_vec NAME##_one(int act, NAME##_vec a, NAME##_vec b, NAME##_vec x) { \
		switch (act) {                                                                            \
		case CW_ACT_SIGMOID:                                                                      \
			return NAME##_sigmoid(x);                                                             \
		case CW_ACT_SILU:                                                                         \
			return x * NAME##_sigmoid(x);                                                         \
		case CW_ACT_HARD_SIGMOID:                                                                 \
			return NAME##_max(NAME##_splat(0), NAME##_min(NAME##_splat(1), a * x + b));           \
		case CW_ACT_HARD_SWISH:                                                                   \
			return x * NAME##_max(NAME##_splat(0), NAME##_min(NAME##_splat(1), a * x + b));       \
		case CW_ACT_ERF:                                                                          \
			return NAME##_erf(x);                                                                 \
		case CW_ACT_GELU:                                                                         \
			return 0.5f * x * (1.0f + NAME##_erf(x * 0.70710678118654752f));                      \
		case CW_ACT_EXP:                                                                          \
			return NAME##_exp(x);                                                                 \
		}                                                                                         \
		return x;                                                                                 \
	}                                                                                             \
	/* apply does one vector at v; the tail of a slice is padded into one, so */                \
	/* that every element is computed alike. A clip's bounds are classified */                   \
	/* once a slice (lok, hik), not once a vector. */                                             \
	static inline ATTR void NAME##_apply(int act, float a, float b, int lok, int hik, float *v) { \
		NAME##_vec x = *(NAME##_vec *)v;                                                          \
		if (act == CW_ACT_CLIP)                                                                   \
			x = NAME##_clip(x, a, lok, b, hik);                                                   \
		else                                                                                      \
			x = NAME##_one(act, NAME##_splat(a), NAME##_splat(b), x);                             \
		*(NAME##_vec *)v = x;                                                                     \
	}                                                                                             \
	ATTR static void NAME(int act, float a, float b, float *v, long n) {                          \
		int lok = cw_lo_bound(a), hik = cw_hi_bound(b);                                           \
		long i = 0;                                                                               \
		if (act == CW_ACT_CLIP && lok != CW_BOUND_NAN && hik != CW_BOUND_NAN) {                   \
			/* NAME_clip without a branch: a bound at which the comparison includes */           \
			/* equality has its lanes of at set; an infinite one clips nothing. */                \
			NAME##_vec l = NAME##_splat(a), h = NAME##_splat(b);                                  \
			NAME##_int atl = (NAME##_int)NAME##_splat(0) - (lok == CW_BOUND_AT);                  \
			NAME##_int ath = (NAME##_int)NAME##_splat(0) - (hik == CW_BOUND_AT);                  \
			for (; i + (W) <= n; i += (W)) {                                                      \
				NAME##_vec x = *(NAME##_vec *)(v + i);                                            \
				x = NAME##_pick((x < l) | ((x == l) & atl), l, x);                                \
				x = NAME##_pick((x > h) | ((x == h) & ath), h, x);                                \
				*(NAME##_vec *)(v + i) = x;                                                       \
			}                                                                                     \
		}                                                                                         \
		for (; i + (W) <= n; i += (W))                                                            \
			NAME##_apply(act, a, b, lok, hik, v + i);                                             \
		if (i < n) {                                                                              \
			float t[W] = {0};                                                                     \
			for (long l = i; l < n; l++)                                                          \
				t[l - i] = v[l];                                                                  \
			NAME##_apply(act, a, b, lok, hik, t);                                                 \
			for (long l = i; l < n; l++)                                                          \
				v[l] = t[l - i];                                                                  \
		}                                                                                         \
	}                                                                                             \
	/* softmax writes the softmax of the n floats at x to y as softmaxRowGo */                   \
	/* does, its exponentials in vectors. */                                                      \
	ATTR static void SOFTMAX(const float *x, float *y, long n) {                                  \
		float m = -__builtin_inff();                                                              \
		for (long i = 0; i < n; i++)                                                              \
			m = go_max(m, x[i]);                                                                  \
		for (long i = 0; i < n; i++)                                                              \
			y[i] = x[i] - m;                                                                      \
		NAME(CW_ACT_EXP, 0, 0, y, n);                                                             \
		double sum = 0;                                                                           \
		for (long i = 0; i < n; i++)                                                              \
			sum += y[i];                                                                          \
		for (long i = 0; i < n; i++)                                                              \
			y[i] = (float)(y[i] / sum);                                                           \
	}

// NO_FMA keeps a·x + b two roundings, as Go's Apply computes it: GCC
// takes that per function; clang ignores the optimize attribute (it
// contracts within an expression by default) and takes a pragma for what
// follows in the file.
#if defined(__clang__)
#pragma clang fp contract(off)
#define NO_FMA
#else
#define NO_FMA __attribute__((optimize("fp-contract=off")))
#endif

ACTIVATE(activate_base, softmax_base, NO_FMA, 4)
#if defined(__x86_64__)
ACTIVATE(activate_avx2, softmax_avx2, NO_FMA __attribute__((target("avx2,fma"))), 8)
ACTIVATE(activate_avx512, softmax_avx512, NO_FMA __attribute__((target("avx512f"))), 16)
#endif

void cw_activate(int isa, int act, float a, float b, float *v, long n) {
	CW_DISPATCH(isa, activate, act, a, b, v, n);
}

void cw_softmax(int isa, const float *x, float *y, long n) {
	CW_DISPATCH(isa, softmax, x, y, n);
}
