//go:build cgo

// Single-precision GEMM for the CPU executor: C += alpha·op(A)·op(B), or
// C = clip(op(A)·op(B) + bias + Z) with an epilogue (a convolution's).
//
// The product runs as in BLIS and GotoBLAS: KC-deep slices of op(B) are
// packed into panels NR columns wide (zero-padded at the edge), and a
// micro-kernel holds an MR × NR tile of C in vector registers while it
// walks MR rows of A against a panel, one fused multiply-add per element
// of A and vector of B; A is read in place where it is not transposed
// (only a last panel of fewer than MR rows is packed). The micro-kernel is
// written once with GCC's vector extensions and compiled for three
// instruction sets; the Go side picks the widest the CPU has. Each block
// of KC is summed in registers before it is added to C, which keeps the
// rounding error of long sums down.
//
// A convolution packs a tile of its patches once (cw_pack_b) for the
// products of all its output channels by it (cw_sgemm_packed).
//
// A few rows of A by a transposed B (a fully connected layer at a small
// batch size) are dot products instead, B unpacked. Otherwise each element
// of C is the same sum in the same order whatever its place in a tile.

#include <stddef.h>
#include <stdint.h>

#include "kernels.h"

enum { KC = CW_SGEMM_KC, MC = 96, NC = 512 };
_Static_assert(CW_SGEMM_WORK >= (MC + CW_SGEMM_MAX_MR) * KC + (NC + CW_SGEMM_MAX_NR) * KC + 16, "work");

// pack_a writes rows [0, mc) and columns [0, kc) of op(A) (starting at a)
// as panels of mr rows, each panel kc steps of mr floats; rows past mc are
// zero.
static void pack_a(int tA, long mc, long kc, const float *a, long lda, float *dst, int mr) {
	for (long i0 = 0; i0 < mc; i0 += mr) {
		long rows = mc - i0 < mr ? mc - i0 : mr;
		for (long p = 0; p < kc; p++) {
			float *d = dst + p * mr;
			for (long i = 0; i < rows; i++)
				d[i] = tA ? a[p * lda + i0 + i] : a[(i0 + i) * lda + p];
			for (long i = rows; i < mr; i++)
				d[i] = 0;
		}
		dst += kc * mr;
	}
}

// pack_bt writes rows [0, kc) and columns [0, nc) of op(B) = Bᵀ (B's rows
// are op(B)'s columns) as panels of nr columns, each panel kc steps of nr
// floats; columns past nc are zero. (Each instruction set's NAME_pack
// packs an untransposed B.)
static void pack_bt(long kc, long nc, const float *b, long ldb, float *dst, int nr) {
	for (long j0 = 0; j0 < nc; j0 += nr) {
		long cols = nc - j0 < nr ? nc - j0 : nr;
		for (long j = 0; j < cols; j++) {
			const float *s = b + (j0 + j) * ldb;
			for (long p = 0; p < kc; p++)
				dst[p * nr + j] = s[p];
		}
		for (long j = cols; j < nr; j++)
			for (long p = 0; p < kc; p++)
				dst[p * nr + j] = 0;
		dst += kc * nr;
	}
}

// What a micro-kernel does with its sum at a tile of C: with no epilogue,
// adds alpha times it to C; with one, the first block of a product's depth
// starts C from the row's bias and the matching element of Z instead (C's
// previous content unread), and the last clips the result to [lo, hi] as
// Go's min(max(v, lo), hi).
struct tile_end {
	const float *bias; // one per row of the tile, or NULL
	const float *z;    // the tile of Z, or NULL
	long ldz;
	float lo, hi;
	int lok, hik; // cw_lo_bound(lo), cw_hi_bound(hi)
	int epilogue, first, last;
};

// A micro-kernel adds alpha × (an mr × kc block of A times a kc × nr panel
// of B) to the mr × nr corner of an MR × NR tile of C, as e says. Element
// (i, p) of the block of A is a[i·rs + p·cs]: a packed panel (rs 1, cs MR)
// or the rows of an untransposed A in place (rs lda, cs 1), which needs no
// packing: each step broadcasts MR floats of A either way.
typedef void micro_kernel(long kc, const float *a, long rs, long cs, const float *b, float *c, long ldc, float alpha,
                          int mr, int nr, const struct tile_end *e);

// A panel packer writes an untransposed B's rows [0, kc) and columns [0, nc)
// as pack_bt does a transposed one's: panels of nr columns, the last
// zero-padded.
typedef void panel_packer(long kc, long nc, const float *b, long ldb, float *dst);

// TILE_END_VEC writes vector v of row i of a tile of C from sum, a vector
// of the product, as the tile_end e says (in TILE's FN).
#define TILE_END_VEC(NAME, W, i, v, sum)                                                     \
	do {                                                                                    \
		NAME##_vec cv;                                                                      \
		if (start) {                                                                        \
			cv = NAME##_splat(e->bias ? e->bias[i] : 0);                                    \
			if (e->z)                                                                       \
				cv += *(const NAME##_vec *)(e->z + (i) * e->ldz + (v) * (W));               \
		} else                                                                              \
			cv = *(NAME##_vec *)(c + (i) * ldc + (v) * (W));                                \
		cv += alpha * (sum);                                                                \
		if (end)                                                                            \
			cv = NAME##_clip(cv, e->lo, e->lok, e->hi, e->hik);                             \
		*(NAME##_vec *)(c + (i) * ldc + (v) * (W)) = cv;                                    \
	} while (0)

// TILE defines FN, a micro-kernel of MR rows and V vectors of W floats
// (NAME_vec) a row, over panels 2W wide: 2·MR or MR accumulators, V loads
// of B and MR broadcasts of A a step.
#define TILE(NAME, FN, ATTR, W, MR, V)                                                       \
	ATTR static void FN(long kc, const float *a, long rs, long cs, const float *b, float *c, \
	                    long ldc, float alpha, int mr, int nr, const struct tile_end *e) {  \
		NAME##_vec acc[MR][V];                                                              \
		_Pragma("GCC unroll 16") for (int i = 0; i < (MR); i++)                             \
		    _Pragma("GCC unroll 2") for (int v = 0; v < (V); v++) acc[i][v] = (NAME##_vec){0}; \
		for (long p = 0; p < kc; p++, a += cs, b += 2 * (W)) {                             \
			NAME##_vec bv[V];                                                               \
			_Pragma("GCC unroll 2") for (int v = 0; v < (V); v++) bv[v] =                  \
			    *(const NAME##_vec *)(b + v * (W));                                         \
			_Pragma("GCC unroll 16") for (int i = 0; i < (MR); i++)                         \
			    _Pragma("GCC unroll 2") for (int v = 0; v < (V); v++) acc[i][v] +=         \
			    a[i * rs] * bv[v];                                                          \
		}                                                                                   \
		int start = e->epilogue && e->first, end = e->epilogue && e->last;                  \
		if (mr == (MR) && nr == (V) * (W)) {                                                \
			for (int i = 0; i < (MR); i++)                                                  \
				_Pragma("GCC unroll 2") for (int v = 0; v < (V); v++)                      \
				    TILE_END_VEC(NAME, W, i, v, acc[i][v]);                                 \
			return;                                                                         \
		}                                                                                   \
		/* An edge tile: each of its rows' whole vectors as above, the rest a float at a */ \
		/* time (a convolution of 4 channels a group had every tile's 4 × 32 so). */        \
		float t[(MR) * (V) * (W)];                                                          \
		_Pragma("GCC unroll 16") for (int i = 0; i < (MR); i++)                             \
		    _Pragma("GCC unroll 2") for (int v = 0; v < (V); v++)                          \
		    *(NAME##_vec *)(t + (i * (V) + v) * (W)) = acc[i][v];                           \
		int full = nr / (W);                                                                \
		for (int i = 0; i < mr; i++)                                                        \
			for (int v = 0; v < full; v++)                                                  \
				TILE_END_VEC(NAME, W, i, v, *(NAME##_vec *)(t + (i * (V) + v) * (W)));      \
		for (int i = 0; i < mr; i++)                                                        \
			for (int j = full * (W); j < nr; j++) {                                         \
				float x = c[i * ldc + j];                                                   \
				if (start)                                                                  \
					x = (e->bias ? e->bias[i] : 0) + (e->z ? e->z[i * e->ldz + j] : 0);     \
				x += alpha * t[i * (V) * (W) + j];                                          \
				c[i * ldc + j] = end ? go_min(go_max(x, e->lo), e->hi) : x;                 \
			}                                                                               \
	}

// MICRO_KERNEL defines NAME for vectors of W floats, MR rows and NR = 2W
// columns; NAME_half, the same for a last panel of W columns or fewer
// (half the multiply-adds of NAME there: ResNet's 196 positions are six
// panels and 4 columns); and NAME_pack, their panel packer.
#define MICRO_KERNEL(NAME, ATTR, W, MR)                                                      \
	GO_VEC(NAME, ATTR, W)                                                                   \
	TILE(NAME, NAME, ATTR, W, MR, 2)                                                        \
	TILE(NAME, NAME##_half, ATTR, W, MR, 1)                                                 \
	ATTR CW_NO_LIBCALL static void NAME##_pack(long kc, long nc, const float *b, long ldb, float *dst) { \
		long j0 = 0;                                                                        \
		for (; j0 + 2 * (W) <= nc; j0 += 2 * (W), dst += kc * 2 * (W))                     \
			for (long p = 0; p < kc; p++) {                                                 \
				const float *s = b + p * ldb + j0;                                          \
				*(NAME##_vec *)(dst + p * 2 * (W)) = *(const NAME##_vec *)s;                \
				*(NAME##_vec *)(dst + p * 2 * (W) + (W)) = *(const NAME##_vec *)(s + (W));  \
			}                                                                               \
		/* The last panel's columns a float at a time, its rest zeros: a row's */          \
		/* memcpy and memset of a few floats (ResNet's 196 positions end in 4, */          \
		/* 49 in 17) were rep movs, whose start-up was most of their time. */               \
		if (j0 < nc)                                                                        \
			for (long p = 0, cols = nc - j0; p < kc; p++) {                                 \
				const float *s = b + p * ldb + j0;                                          \
				float *d = dst + p * 2 * (W);                                               \
				*(NAME##_vec *)d = (NAME##_vec){0};                                         \
				*(NAME##_vec *)(d + (W)) = (NAME##_vec){0};                                 \
				for (long j = 0; j < cols; j++)                                             \
					d[j] = s[j];                                                            \
			}                                                                               \
	}

// A few rows of A by a B given as rows of k (a fully connected layer's
// weights at a small batch size) are dot products: packing B would cost
// more than the product, which reads each of B's floats once.
enum { DOT_M = CW_SGEMM_DOT_M };

// A dot kernel adds alpha·A·Bᵀ to C for m ≤ DOT_M rows of A.
typedef void dot_kernel(long m, long n, long k, float alpha, const float *a, long lda, const float *b, long ldb,
                        float *c, long ldc);

// DOT_KERNEL defines NAME for vectors of W floats: one accumulator a row of
// A, one load of B a step for all rows; a single row (batch size 1) takes
// four columns at a time, four sums in flight (one was a chain of
// dependent multiply-adds: 1000 × 2048 on one core 8.8–10.8 → 10.9–12.5
// GFLOP/s with AVX-512, 4.1–7.3 → 9.4–11.8 with SSE, where reading B
// bounds it). Each element is the same sum either way.
#define DOT_KERNEL(NAME, ATTR, W)                                                                   \
	typedef float NAME##_vec __attribute__((vector_size(4 * (W)), aligned(4), may_alias));          \
	/* NAME_sum is a dot product of k floats at a and b from acc, its sum of */                     \
	/* the first p in lanes: the lanes in turn, then the rest. */                                   \
	ATTR static inline float NAME##_sum(NAME##_vec acc, const float *a, const float *b, long p,    \
	                                    long k) {                                                  \
		float sum = 0;                                                                             \
		for (int l = 0; l < (W); l++)                                                              \
			sum += acc[l];                                                                         \
		for (; p < k; p++)                                                                         \
			sum += a[p] * b[p];                                                                    \
		return sum;                                                                                \
	}                                                                                              \
	ATTR static void NAME(long m, long n, long k, float alpha, const float *a, long lda,           \
	                      const float *b, long ldb, float *c, long ldc) {                          \
		long j = 0;                                                                                \
		if (m == 1)                                                                                \
			for (; j + 4 <= n; j += 4) {                                                           \
				const float *bj = b + j * ldb;                                                     \
				NAME##_vec acc[4] = {{0}, {0}, {0}, {0}};                                          \
				long p = 0;                                                                        \
				for (; p + (W) <= k; p += (W)) {                                                   \
					NAME##_vec av = *(const NAME##_vec *)(a + p);                                  \
					_Pragma("GCC unroll 4") for (int q = 0; q < 4; q++) acc[q] +=                  \
					    av * *(const NAME##_vec *)(bj + q * ldb + p);                              \
				}                                                                                  \
				for (int q = 0; q < 4; q++)                                                        \
					c[j + q] += alpha * NAME##_sum(acc[q], a, bj + q * ldb, p, k);                 \
			}                                                                                      \
		for (; j < n; j++) {                                                                       \
			const float *bj = b + j * ldb;                                                         \
			NAME##_vec acc[DOT_M];                                                                 \
			_Pragma("GCC unroll 8") for (int i = 0; i < DOT_M; i++) acc[i] = (NAME##_vec){0};      \
			long p = 0;                                                                            \
			for (; p + (W) <= k; p += (W)) {                                                       \
				NAME##_vec bv = *(const NAME##_vec *)(bj + p);                                     \
				_Pragma("GCC unroll 8") for (int i = 0; i < DOT_M; i++) if (i < m) acc[i] +=       \
				    *(const NAME##_vec *)(a + i * lda + p) * bv;                                   \
			}                                                                                      \
			for (int i = 0; i < m; i++)                                                            \
				c[i * ldc + j] += alpha * NAME##_sum(acc[i], a + i * lda, bj, p, k);               \
		}                                                                                          \
	}

MICRO_KERNEL(kernel_base, , 4, 6)
DOT_KERNEL(dot_base, , 4)
#if defined(__x86_64__)
MICRO_KERNEL(kernel_avx2, __attribute__((target("avx2,fma"))), 8, 6)
DOT_KERNEL(dot_avx2, __attribute__((target("avx2,fma"))), 8)
MICRO_KERNEL(kernel_avx512, __attribute__((target("avx512f"))), 16, 8)
DOT_KERNEL(dot_avx512, __attribute__((target("avx512f"))), 16)
#endif

struct isa {
	micro_kernel *micro, *half;
	panel_packer *pack;
	dot_kernel *dot;
	int mr, nr;
};

static const struct isa isas[] = {
	[CW_ISA_BASE] = {kernel_base, kernel_base_half, kernel_base_pack, dot_base, 6, 8},
#if defined(__x86_64__)
	[CW_ISA_AVX2] = {kernel_avx2, kernel_avx2_half, kernel_avx2_pack, dot_avx2, 6, 16},
	[CW_ISA_AVX512] = {kernel_avx512, kernel_avx512_half, kernel_avx512_pack, dot_avx512, 8, 32},
#endif
};

// run_block adds a kc-deep slice of the product to C: rows [0, m) of op(A)
// (a at the slice's first column, or row where tA) times the slice of B
// packed at pb (columns [0, n), panels of nr), into C's m × n corner at c;
// bias and z (at C's first column), with e, as the epilogue says. pa holds
// A's packed panels.
static void run_block(const struct isa *s, int tA, long m, long n, long kc, const float *a, long lda,
                      const float *pb, float *c, long ldc, float alpha, const float *bias, const float *z, long ldz,
                      struct tile_end *e, float *pa) {
	int mr = s->mr, nr = s->nr;
	for (long ic = 0; ic < m; ic += MC) {
		long mc = m - ic < MC ? m - ic : MC;
		// An untransposed A is read in place but for a last panel of fewer
		// than mr rows, which is packed with zeros below (the micro-kernel
		// reads mr rows); a transposed A, whose rows are columns, is packed
		// whole.
		long full = tA ? 0 : mc / mr * mr;
		if (full < mc)
			pack_a(tA, mc - full, kc, tA ? a + ic + full : a + (ic + full) * lda, lda, pa, mr);
		for (long jr = 0; jr < n; jr += nr) {
			int cols = n - jr < nr ? n - jr : nr;
			micro_kernel *micro = cols <= nr / 2 ? s->half : s->micro;
			for (long ir = 0; ir < mc; ir += mr) {
				const float *ap = a + (ic + ir) * lda;
				long rs = lda, cs = 1;
				if (ir >= full)
					ap = pa + (ir - full) * kc, rs = 1, cs = mr;
				e->bias = bias ? bias + ic + ir : NULL;
				e->z = z ? z + (ic + ir) * ldz + jr : NULL;
				micro(kc, ap, rs, cs, pb + jr * kc, c + (ic + ir) * ldc + jr, ldc, alpha, mc - ir < mr ? mc - ir : mr, cols,
				      e);
			}
		}
	}
}

// panels is where in work a product packs its panels: A's first, from the
// first 64-byte boundary.
static float *panels(float *work) { return (float *)(((uintptr_t)work + 63) & ~(uintptr_t)63); }

// activate_rows activates the m × n block of C at c (row stride ldc) as
// epilogue ep says (if it says so), a row at a time: each row as long as
// the block, however its product was tiled, so that every element is
// computed alike.
static void activate_rows(int isa, const struct cw_epilogue *ep, float *c, long ldc, long m, long n) {
	if (ep && ep->act != CW_ACT_NONE)
		for (long i = 0; i < m; i++)
			cw_activate(isa, ep->act, ep->a, ep->b, c + i * ldc, n);
}

// first_tile_end is the tile_end of a product with epilogue ep (or none).
static struct tile_end first_tile_end(const struct cw_epilogue *ep) {
	struct tile_end e = {.epilogue = ep != NULL};
	if (ep)
		e.lo = ep->lo, e.hi = ep->hi, e.ldz = ep->ldz, e.lok = cw_lo_bound(ep->lo), e.hik = cw_hi_bound(ep->hi);
	return e;
}

void cw_sgemm(int isa, int tA, int tB, long m, long n, long k, float alpha, const float *a, long lda,
              const float *b, long ldb, float *c, long ldc, const struct cw_epilogue *ep, float *work) {
	const struct isa *s = &isas[isa];
	if (!ep && tB && !tA && m <= DOT_M) {
		s->dot(m, n, k, alpha, a, lda, b, ldb, c, ldc);
		return;
	}
	float *pa = panels(work);
	float *pb = pa + (MC + CW_SGEMM_MAX_MR) * KC;
	struct tile_end e = first_tile_end(ep);
	for (long jc = 0; jc < n; jc += NC) {
		long nc = n - jc < NC ? n - jc : NC;
		for (long pc = 0; pc < k; pc += KC) {
			long kc = k - pc < KC ? k - pc : KC;
			e.first = pc == 0, e.last = pc + kc == k;
			if (tB)
				pack_bt(kc, nc, b + jc * ldb + pc, ldb, pb, s->nr);
			else
				s->pack(kc, nc, b + pc * ldb + jc, ldb, pb);
			run_block(s, tA, m, nc, kc, tA ? a + pc * lda : a + pc, lda, pb, c + jc, ldc, alpha,
			          ep ? ep->bias : NULL, ep && ep->z ? ep->z + jc : NULL, e.ldz, &e, pa);
		}
		activate_rows(isa, ep, c + jc, ldc, m, nc);
	}
}

// A packed B holds, for each KC-deep block of its rows, the block's
// panels of nr columns: kc · round_up(n, nr) floats.
static long round_up(long n, long to) { return (n + to - 1) / to * to; }

void cw_pack_b(int isa, long k, long n, const float *b, long ldb, float *dst) {
	const struct isa *s = &isas[isa];
	for (long pc = 0; pc < k; pc += KC) {
		long kc = k - pc < KC ? k - pc : KC;
		s->pack(kc, n, b + pc * ldb, ldb, dst + pc * round_up(n, s->nr));
	}
}

long cw_sgemm_nr(int isa) { return isas[isa].nr; }

void cw_sgemm_packed(int isa, long m, long n, long k, const float *a, long lda, const float *pb, float *c, long ldc,
                     const struct cw_epilogue *ep, float *work) {
	const struct isa *s = &isas[isa];
	float *pa = panels(work);
	struct tile_end e = first_tile_end(ep);
	for (long pc = 0; pc < k; pc += KC) {
		long kc = k - pc < KC ? k - pc : KC;
		e.first = pc == 0, e.last = pc + kc == k;
		run_block(s, 0, m, n, kc, a + pc, lda, pb + pc * round_up(n, s->nr), c, ldc, 1, ep ? ep->bias : NULL,
		          ep ? ep->z : NULL, e.ldz, &e, pa);
	}
	activate_rows(isa, ep, c, ldc, m, n);
}
