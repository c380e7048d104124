//go:build cgo

// Elementwise binary operators over the rows of a Binary op, in vectors:
// what binaryGo computes, to the bit (each result one IEEE operation; max
// and min as engine.BinaryOp.Apply: a where a is NaN or the larger, or
// smaller, b otherwise).

#include "kernels.h"

// BINARY defines NAME, an operator over n elements of a row whose
// operands step by sa and sb (1 or 0, a broadcast value, in vectors;
// other strides one at a time).
#define BINARY(NAME, ATTR, W)                                                                       \
	GO_VEC(NAME, ATTR, W)                                                                          \
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

BINARY(binary_base, , 4)
#if defined(__x86_64__)
BINARY(binary_avx2, __attribute__((target("avx2"))), 8)
BINARY(binary_avx512, __attribute__((target("avx512f"))), 16)
#endif

void cw_binary(int isa, int op, long ndims, const long *dims, const long *sa, const long *sb, const float *a,
               const float *b, float *y, long inner, long chunk, long lo, long hi) {
	long nchunks = (inner + chunk - 1) / chunk, last = ndims - 1;
	for (long u = lo; u < hi; u++) {
		long row = u / nchunks, j0 = u % nchunks * chunk, ao = 0, bo = 0, r = row;
		for (long d = last - 1; d >= 0; d--) {
			long i = r % dims[d];
			r /= dims[d];
			ao += i * sa[d];
			bo += i * sb[d];
		}
		long n = inner - j0 < chunk ? inner - j0 : chunk;
		CW_DISPATCH(isa, binary, op, a + ao + j0 * sa[last], sa[last], b + bo + j0 * sb[last], sb[last],
		            y + row * inner + j0, n);
	}
}
