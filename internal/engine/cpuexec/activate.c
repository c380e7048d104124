//go:build cgo

// Activations over a slice of floats, in vectors: what Go's loops in
// activateGo compute, W floats at a time.
//
// Clip, hard sigmoid and hard swish are the same operations in the same
// order as Go's (compiled without contracting a·x + b into a fused
// multiply-add, as Apply rounds the product), so their results are Go's
// to the bit. The smooth ones are compiled apart, their polynomials
// contracted into fused multiply-adds where the instruction set has them
// (half the operations, and a rounding fewer), each in a loop of its own
// rather than behind a switch a vector (SiLU in AVX-512 took 2 to 3 times
// as long before both). Exp, sigmoid and SiLU (x · sigmoid(x), both from
// exp(-|x|)) take exp from a polynomial (Cephes' expf: Cody-Waite
// reduction by ln 2, a degree-6 polynomial, the power of two put in the
// exponent bits), within a few units in the last place of Go's float64
// exp rounded (or within 1e-37 of it, where the result is beyond
// float32's normal range); NaN and the infinities come out as Go's. Erf
// and GELU take erf from a rational approximation, within 4e-7 of Go's
// (6 units in the last place of 1; TestActivateISAs).

#include "kernels.h"

CW_CONTRACT_FAST

// EACH sets every vector x of the n floats at v to EXPR, the tail of the
// slice padded into one, so that every element is computed alike.
#define EACH(NAME, W, v, n, EXPR)                                                                 \
	do {                                                                                          \
		long i_ = 0;                                                                              \
		for (; i_ + (W) <= (n); i_ += (W)) {                                                      \
			NAME##_vec x = *(NAME##_vec *)((v) + i_);                                             \
			*(NAME##_vec *)((v) + i_) = (EXPR);                                                   \
		}                                                                                         \
		if (i_ < (n)) {                                                                           \
			float t_[W] = {0};                                                                    \
			for (long l_ = i_; l_ < (n); l_++)                                                    \
				t_[l_ - i_] = (v)[l_];                                                            \
			NAME##_vec x = *(NAME##_vec *)t_;                                                     \
			*(NAME##_vec *)t_ = (EXPR);                                                           \
			for (long l_ = i_; l_ < (n); l_++)                                                    \
				(v)[l_] = t_[l_ - i_];                                                            \
		}                                                                                         \
	} while (0)

// SMOOTH defines NAME, the activations computed from exp or erf (sigmoid,
// SiLU, erf, GELU, exp) over a slice, for vectors of W floats.
#define SMOOTH(NAME, ATTR, W)                                                                     \
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
	ATTR static void NAME(int act, float *v, long n) {                                           \
		switch (act) {                                                                            \
		case CW_ACT_SIGMOID:                                                                      \
			EACH(NAME, W, v, n, NAME##_sigmoid(x));                                               \
			break;                                                                                \
		case CW_ACT_SILU:                                                                         \
			EACH(NAME, W, v, n, x * NAME##_sigmoid(x));                                           \
			break;                                                                                \
		case CW_ACT_ERF:                                                                          \
			EACH(NAME, W, v, n, NAME##_erf(x));                                                   \
			break;                                                                                \
		case CW_ACT_GELU:                                                                         \
			EACH(NAME, W, v, n, 0.5f * x * (1.0f + NAME##_erf(x * 0.70710678118654752f)));        \
			break;                                                                                \
		case CW_ACT_EXP:                                                                          \
			EACH(NAME, W, v, n, NAME##_exp(x));                                                   \
			break;                                                                                \
		}                                                                                         \
	}

SMOOTH(smooth_base, CW_FMA, 4)
#if defined(__x86_64__)
SMOOTH(smooth_avx2, CW_FMA __attribute__((target("avx2,fma"))), 8)
SMOOTH(smooth_avx512, CW_FMA __attribute__((target("avx512f"))), 16)
#endif

CW_CONTRACT_OFF

// The lanes of a softmax's sum: a double vector's of AVX-512, two of AVX2.
enum { SOFTMAX_LANES = 8 };

// ACTIVATE defines NAME, an activation over a slice (the smooth ones
// SMOOTHED's), AFFINE, a scale and shift, and SOFTMAX, a row's softmax,
// for vectors of W floats.
#define ACTIVATE(NAME, SMOOTHED, AFFINE, SOFTMAX, ATTR, W)                                          \
	GO_VEC(NAME, ATTR, W)                                                                         \
	/* bounds clips x at bound c, from below or above: c where x is beyond */                   \
	/* it, or at it in the lanes of at. */                                                        \
	static inline ATTR NAME##_vec NAME##_bounds(NAME##_vec x, NAME##_vec c, NAME##_int at, int above) { \
		NAME##_int beyond = above ? x > c : x < c;                                                \
		return NAME##_pick(beyond | ((x == c) & at), c, x);                                       \
	}                                                                                             \
	/* hard is the hard sigmoid max(0, min(1, a·x + b)). */                                      \
	static inline ATTR NAME##_vec NAME##_hard(NAME##_vec a, NAME##_vec b, NAME##_vec x) {         \
		return NAME##_max(NAME##_splat(0), NAME##_min(NAME##_splat(1), a * x + b));               \
	}                                                                                             \
	ATTR static void NAME(int act, float a, float b, float *v, long n) {                          \
		if (act != CW_ACT_CLIP && act != CW_ACT_HARD_SIGMOID && act != CW_ACT_HARD_SWISH) {       \
			SMOOTHED(act, v, n);                                                                  \
			return;                                                                               \
		}                                                                                         \
		int lok = cw_lo_bound(a), hik = cw_hi_bound(b);                                           \
		if (act == CW_ACT_CLIP && lok != CW_BOUND_NAN && hik != CW_BOUND_NAN) {                   \
			/* NAME_clip without a branch: a bound at which the comparison includes */           \
			/* equality has its lanes of at set; an infinite one clips nothing. */                \
			NAME##_vec l = NAME##_splat(a), h = NAME##_splat(b);                                  \
			NAME##_int atl = (NAME##_int)NAME##_splat(0) - (lok == CW_BOUND_AT);                  \
			NAME##_int ath = (NAME##_int)NAME##_splat(0) - (hik == CW_BOUND_AT);                  \
			EACH(NAME, W, v, n, NAME##_bounds(NAME##_bounds(x, l, atl, 0), h, ath, 1));           \
		} else if (act == CW_ACT_CLIP) /* a NaN bound: Go's max and min */                        \
			EACH(NAME, W, v, n, NAME##_clip(x, a, lok, b, hik));                                  \
		else if (act == CW_ACT_HARD_SIGMOID)                                                      \
			EACH(NAME, W, v, n, NAME##_hard(NAME##_splat(a), NAME##_splat(b), x));                \
		else                                                                                      \
			EACH(NAME, W, v, n, x * NAME##_hard(NAME##_splat(a), NAME##_splat(b), x));            \
	}                                                                                             \
	/* AFFINE writes x·s + t of the n floats at x to y (x may be y), two */                       \
	/* roundings, as Go's loop. */                                                                \
	ATTR static void AFFINE(const float *x, float *y, long n, float s, float t) {          \
		NAME##_vec sv = NAME##_splat(s), tv = NAME##_splat(t);                                    \
		long i = 0;                                                                               \
		for (; i + (W) <= n; i += (W))                                                            \
			*(NAME##_vec *)(y + i) = *(const NAME##_vec *)(x + i) * sv + tv;                      \
		for (; i < n; i++)                                                                        \
			y[i] = x[i] * s + t;                                                                  \
	}                                                                                             \
	/* softmax writes the softmax of the n floats at x to y as softmaxRowGo */                   \
	/* does, in vectors: the maximum (NAME_max_of), the exponentials, and */                      \
	/* the sum in double in SOFTMAX_LANES lanes, element i in lane i mod */                       \
	/* SOFTMAX_LANES (Go sums in order: the two differ in the last bits, as */                    \
	/* their exponentials do); each element times the sum's reciprocal in */                      \
	/* double, where Go divides (the division took a fifth of ViT-B/16's */                       \
	/* softmax rows' time; the two round to the same float but at a tie */                       \
	/* within a double's last bits). */                                                           \
	ATTR static void SOFTMAX(const float *x, float *y, long n) {                                  \
		float m = NAME##_max_of(x, n);                                                            \
		long i;                                                                                   \
		for (i = 0; i < n; i++)                                                                   \
			y[i] = x[i] - m;                                                                      \
		SMOOTHED(CW_ACT_EXP, y, n);                                                             \
		double lanes[SOFTMAX_LANES] = {0}, sum = 0;                                               \
		for (i = 0; i + SOFTMAX_LANES <= n; i += SOFTMAX_LANES)                                   \
			for (int l = 0; l < SOFTMAX_LANES; l++)                                               \
				lanes[l] += y[i + l];                                                             \
		for (int l = 0; l < SOFTMAX_LANES; l++)                                                   \
			sum += lanes[l];                                                                      \
		for (; i < n; i++)                                                                        \
			sum += y[i];                                                                          \
		double r = 1 / sum;                                                                       \
		for (i = 0; i < n; i++)                                                                   \
			y[i] = (float)(y[i] * r);                                                             \
	}

ACTIVATE(activate_base, smooth_base, affine_base, softmax_base, CW_NO_FMA, 4)
#if defined(__x86_64__)
ACTIVATE(activate_avx2, smooth_avx2, affine_avx2, softmax_avx2, CW_NO_FMA __attribute__((target("avx2,fma"))), 8)
ACTIVATE(activate_avx512, smooth_avx512, affine_avx512, softmax_avx512, CW_NO_FMA __attribute__((target("avx512f"))), 16)
#endif

void cw_affine(int isa, const float *x, float *y, long n, float s, float t) {
	CW_DISPATCH(isa, affine, x, y, n, s, t);
}

void cw_activate(int isa, int act, float a, float b, float *v, long n) {
	CW_DISPATCH(isa, activate, act, a, b, v, n);
}

void cw_softmax(int isa, const float *x, float *y, long n) {
	CW_DISPATCH(isa, softmax, x, y, n);
}
