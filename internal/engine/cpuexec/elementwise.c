//go:build cgo

// Elementwise binary operators over the rows of a Binary op, in vectors:
// what binaryGo computes, to the bit (each result one IEEE operation; max
// and min as engine.BinaryOp.Apply: a where a is NaN or the larger, or
// smaller, b otherwise).

#include "kernels.h"

// VEC_OP defines NAME_op, the operators on NAME_vec.
#define VEC_OP(NAME, ATTR)                                                                          \
	static inline ATTR NAME##_vec NAME##_op(int op, NAME##_vec a, NAME##_vec b) {                  \
		switch (op) {                                                                              \
		case CW_ADD:                                                                               \
			return a + b;                                                                          \
		case CW_MUL:                                                                               \
			return a * b;                                                                          \
		case CW_SUB:                                                                               \
			return a - b;                                                                          \
		case CW_DIV:                                                                               \
			return a / b;                                                                          \
		case CW_MAX:                                                                               \
			return NAME##_pick((a > b) | (a != a), a, b);                                          \
		}                                                                                          \
		return NAME##_pick((a < b) | (a != a), a, b);                                              \
	}

// Vectors of eight floats (and ints) for T8 on every instruction set (the
// baseline's in two registers).
typedef float f8 __attribute__((vector_size(32), aligned(4), may_alias));
typedef int i8 __attribute__((vector_size(32)));

// SHUFFLE picks lanes of the vectors of eight x and y (x's lanes 0 to 7,
// y's 8 to 15), and SHUFFLE2 four pairs of them: p0 and p0 + 1, then p1
// and p1 + 1, p2…, p3… (__builtin_shufflevector is clang's, and GCC's
// since 12; GCC's own __builtin_shuffle takes the lanes as a vector).
#if defined(__clang__) || __GNUC__ >= 12
#define SHUFFLE(x, y, ...) __builtin_shufflevector(x, y, __VA_ARGS__)
#else
#define SHUFFLE(x, y, ...) __builtin_shuffle(x, y, (i8){__VA_ARGS__})
#endif
#define SHUFFLE2(x, y, p0, p1, p2, p3) SHUFFLE(x, y, p0, p0 + 1, p1, p1 + 1, p2, p2 + 1, p3, p3 + 1)

// OP8 sets x to x op b on f8s, as NAME_op: a statement, not a function, so
// that no f8 crosses a call (GCC and clang warn where one would on the
// baseline, whose ABI passes it otherwise than AVX's).
#define OP8(op, x, b)                                                                               \
	do {                                                                                           \
		switch (op) {                                                                              \
		case CW_ADD:                                                                               \
			x = x + (b);                                                                           \
			break;                                                                                 \
		case CW_MUL:                                                                               \
			x = x * (b);                                                                           \
			break;                                                                                 \
		case CW_SUB:                                                                               \
			x = x - (b);                                                                           \
			break;                                                                                 \
		case CW_DIV:                                                                               \
			x = x / (b);                                                                           \
			break;                                                                                 \
		default: { /* max, min: x where x is NaN or beyond b, else b */                            \
			i8 m_ = (op) == CW_MAX ? ((x) > (b)) | ((x) != (x)) : ((x) < (b)) | ((x) != (x));      \
			x = (f8)((m_ & (i8)(x)) | (~m_ & (i8)(b)));                                            \
		}                                                                                          \
		}                                                                                          \
	} while (0)

// BINARY defines binary_S (NAME), an operator over n elements of a row
// whose operands step by sa and sb (1 or 0, a broadcast value, in vectors;
// other strides one at a time), and binary_t8_S (T8), the operator over
// eight rows of n elements at once where A is read across them (y[j·n + c]
// is a[c·sa + j] op s: a transpose, as Transpose runs, times one): eight
// vectors of eight read along A's rows, transposed in registers.
#define BINARY(S, ATTR, W) BINARY_(binary_##S, binary_t8_##S, ATTR, W)
#define BINARY_(NAME, T8, ATTR, W)                                                                  \
	GO_VEC(NAME, ATTR, W)                                                                          \
	VEC_OP(NAME, ATTR)                                                                             \
	ATTR static void T8(int op, const float *a, long sa, float s, float *y, long n) {              \
		long c = 0;                                                                                \
		for (f8 sv = s - (f8){0}; c + 8 <= n; c += 8) {                                            \
			f8 r[8], t[8], u[8]; /* r[i][j] = a[(c + i)·sa + j] */                                 \
			for (int i = 0; i < 8; i++)                                                            \
				r[i] = *(const f8 *)(a + (c + i) * sa);                                            \
			/* t[i] (i even): r[i] and r[i+1]'s lanes 0, 2, 4, 6 in turns; t[i+1]: 1, 3, 5, 7 */   \
			for (int i = 0; i < 8; i += 2) {                                                       \
				t[i] = SHUFFLE(r[i], r[i + 1], 0, 8, 2, 10, 4, 12, 6, 14);         \
				t[i + 1] = SHUFFLE(r[i], r[i + 1], 1, 9, 3, 11, 5, 13, 7, 15);     \
			}                                                                                      \
			/* u[k] (k < 4): lane k of r[0..3], then lane k + 4; u[k+4] the same of r[4..7] */    \
			for (int i = 0; i < 8; i += 4)                                                         \
				for (int h = 0; h < 2; h++) {                                                      \
					u[i + h] = SHUFFLE2(t[i + h], t[i + h + 2], 0, 8, 4, 12);                      \
					u[i + h + 2] = SHUFFLE2(t[i + h], t[i + h + 2], 2, 10, 6, 14);                 \
				}                                                                                  \
			for (int k = 0; k < 4; k++) { /* rows k and k + 4 of y: lane k, k + 4 of every r */   \
				f8 lo = SHUFFLE(u[k], u[k + 4], 0, 1, 2, 3, 8, 9, 10, 11);       \
				f8 hi = SHUFFLE(u[k], u[k + 4], 4, 5, 6, 7, 12, 13, 14, 15);     \
				OP8(op, lo, sv);                                                                   \
				OP8(op, hi, sv);                                                                   \
				*(f8 *)(y + k * n + c) = lo;                                                       \
				*(f8 *)(y + (k + 4) * n + c) = hi;                                                 \
			}                                                                                      \
		}                                                                                          \
		for (; c < n; c++)                                                                         \
			for (int j = 0; j < 8; j++)                                                            \
				y[j * n + c] = scalar_op(op, a[c * sa + j], s);                                    \
	}                                                                                              \
	ATTR static void NAME(int op, const float *a, long sa, const float *b, long sb, float *y, long n) { \
		long j = 0;                                                                                \
		if (sa == 1 && sb == 1)                                                                    \
			for (; j + (W) <= n; j += (W))                                                         \
				*(NAME##_vec *)(y + j) = NAME##_op(op, *(const NAME##_vec *)(a + j), *(const NAME##_vec *)(b + j)); \
		else if (sa == 1 && sb == 0)                                                               \
			for (NAME##_vec s = NAME##_splat(*b); j + (W) <= n; j += (W))                          \
				*(NAME##_vec *)(y + j) = NAME##_op(op, *(const NAME##_vec *)(a + j), s);            \
		else if (sa == 0 && sb == 1)                                                               \
			for (NAME##_vec s = NAME##_splat(*a); j + (W) <= n; j += (W))                          \
				*(NAME##_vec *)(y + j) = NAME##_op(op, s, *(const NAME##_vec *)(b + j));            \
		for (; j < n; j++)                                                                         \
			y[j] = scalar_op(op, a[j * sa], b[j * sb]);                                            \
	}

static inline float scalar_op(int op, float a, float b) {
	switch (op) {
	case CW_ADD:
		return a + b;
	case CW_MUL:
		return a * b;
	case CW_SUB:
		return a - b;
	case CW_DIV:
		return a / b;
	case CW_MAX:
		return a > b || a != a ? a : b;
	}
	return a < b || a != a ? a : b;
}

BINARY(base, , 4)
#if defined(__x86_64__)
BINARY(avx2, __attribute__((target("avx2"))), 8)
BINARY(avx512, __attribute__((target("avx512f"))), 16)
#endif

void cw_binary(int isa, int op, long ndims, const long *dims, const long *sa, const long *sb, const float *a,
               const float *b, float *y, long inner, long chunk, long lo, long hi) {
	long nchunks = (inner + chunk - 1) / chunk, last = ndims - 1;
	// A read across the rows, one float apart from a row to the next, and
	// B the same for all of them (a Transpose): eight rows at a time.
	int across = nchunks == 1 && last >= 1 && sa[last] > 1 && sa[last - 1] == 1 && sb[last] == 0 && sb[last - 1] == 0;
	for (long u = lo; u < hi; u++) {
		long row = u / nchunks, j0 = u % nchunks * chunk, ao = 0, bo = 0, r = row, first = 0;
		for (long d = last - 1; d >= 0; d--) {
			long i = r % dims[d];
			r /= dims[d];
			ao += i * sa[d];
			bo += i * sb[d];
			first = d == last - 1 ? i : first;
		}
		if (across && hi - u >= 8 && first + 8 <= dims[last - 1]) {
			CW_DISPATCH(isa, binary_t8, op, a + ao, sa[last], b[bo], y + row * inner, inner);
			u += 7;
			continue;
		}
		long n = inner - j0 < chunk ? inner - j0 : chunk;
		CW_DISPATCH(isa, binary, op, a + ao + j0 * sa[last], sa[last], b + bo + j0 * sb[last], sb[last],
		            y + row * inner + j0, n);
	}
}
