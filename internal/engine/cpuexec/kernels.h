// The CPU executor's C kernels: sgemm.c (GEMM), activate.c (activations),
// depthwise.c (and pools), im2col.c, elementwise.c (binary operators),
// layernorm.c, globalpool.c and isa.c (which instruction sets the CPU
// has).

// The instruction sets each kernel is compiled for.
enum {
	CW_ISA_BASE,   // the compiler's baseline vectors (SSE2 on x86-64)
	CW_ISA_AVX2,   // AVX2 and FMA
	CW_ISA_AVX512, // AVX-512F
	CW_ISAS,
};

// CW_DISPATCH calls NAME_avx512, NAME_avx2 or NAME_base, as isa says, with
// the arguments that follow (kernels defined once in a macro and compiled
// for each instruction set).
#if defined(__x86_64__)
#define CW_DISPATCH(isa, NAME, ...)                                                                 \
	((isa) == CW_ISA_AVX512 ? NAME##_avx512(__VA_ARGS__)                                            \
	 : (isa) == CW_ISA_AVX2 ? NAME##_avx2(__VA_ARGS__)                                              \
	                        : NAME##_base(__VA_ARGS__))
#else
#define CW_DISPATCH(isa, NAME, ...) NAME##_base(__VA_ARGS__)
#endif

int cw_isa_supported(int isa);
const char *cw_isa_name(int isa);
int cw_isa_best(void);

// go_max and go_min are Go's max and min of two floats: NaN if either is,
// +0 the larger of the zeros (so max(-0, 0) is 0 and min(-0, 0) is -0).
static inline float go_max(float x, float y) {
	if (x != x || y != y)
		return x + y;
	if (x == y) { // equal zeros differ in sign alone: the larger has it clear
		union {
			float f;
			unsigned u;
		} a = {x}, b = {y};
		a.u &= b.u;
		return a.f;
	}
	return x < y ? y : x;
}

static inline float go_min(float x, float y) {
	if (x != x || y != y)
		return x + y;
	if (x == y) {
		union {
			float f;
			unsigned u;
		} a = {x}, b = {y};
		a.u |= b.u;
		return a.f;
	}
	return x < y ? x : y;
}

// How a clip to [lo, hi], Go's min(max(v, lo), hi), applies each bound:
// where the bound is a number, with one comparison: max(v, lo) takes lo
// for the lanes below it (or at it, where lo is +0, so that -0 becomes
// +0), min(v, hi) takes hi for the lanes above it (or at it, where hi is
// -0); a NaN lane fails every comparison and stays NaN, as in Go. An
// infinite bound that clips nothing is skipped, and a NaN bound, which
// makes every lane NaN, takes go_max and go_min. (The general go_max and
// go_min took 10 % of ResNet-50's GEMM time in its epilogue.)
enum { CW_BOUND_NONE, CW_BOUND_BEYOND, CW_BOUND_AT, CW_BOUND_NAN };

static inline int cw_lo_bound(float lo) {
	if (lo != lo)
		return CW_BOUND_NAN;
	if (lo == -__builtin_inff())
		return CW_BOUND_NONE;
	return lo == 0 && !__builtin_signbit(lo) ? CW_BOUND_AT : CW_BOUND_BEYOND;
}

static inline int cw_hi_bound(float hi) {
	if (hi != hi)
		return CW_BOUND_NAN;
	if (hi == __builtin_inff())
		return CW_BOUND_NONE;
	return hi == 0 && __builtin_signbit(hi) ? CW_BOUND_AT : CW_BOUND_BEYOND;
}

// CW_NO_LIBCALL keeps the compiler from making a loop that copies or clears
// a call of memcpy or memset (for the rows of a few floats a kernel
// copies, the call is most of the time).
#if defined(__clang__)
#define CW_NO_LIBCALL __attribute__((no_builtin("memcpy", "memset")))
#else
#define CW_NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif

// CW_FMA lets the compiler contract a·x + b into a fused multiply-add in a
// function; CW_NO_FMA keeps it two roundings, as Go computes it on amd64.
// GCC takes them per function (and inlines no function into one of the
// other kind); clang ignores the optimize attribute and takes
// CW_CONTRACT_FAST or CW_CONTRACT_OFF, pragmas for what follows in the
// file (a file that uses CW_FMA or CW_NO_FMA writes the matching one
// before it).
#if defined(__clang__)
#define CW_FMA
#define CW_NO_FMA
#define CW_CONTRACT_FAST _Pragma("clang fp contract(fast)")
#define CW_CONTRACT_OFF _Pragma("clang fp contract(off)")
#else
#define CW_FMA __attribute__((optimize("fp-contract=fast")))
#define CW_NO_FMA __attribute__((optimize("fp-contract=off")))
#define CW_CONTRACT_FAST
#define CW_CONTRACT_OFF
#endif

// CW_UNUSED marks a helper a file may not call (-Wunused-function).
#define CW_UNUSED __attribute__((unused))

// CW_SHUFFLE is the vector of lanes idx… of a's lanes then b's (a's lane i
// is i, b's W + i); T is the vectors' int vector type (GCC's
// __builtin_shuffle takes the indices as one, and GCC 11 has no
// __builtin_shufflevector).
#if defined(__clang__)
#define CW_SHUFFLE(T, a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define CW_SHUFFLE(T, a, b, ...) __builtin_shuffle(a, b, (T){__VA_ARGS__})
#endif

// GO_VEC defines, for vectors of W floats, NAME_vec (loads and stores at
// any float's alignment), NAME_int, NAME_splat (every lane f: f − (+0) is
// f, -0 included, and compiles to a broadcast; a loop of lane stores let
// GCC build the clip's two bounds in the stack, 8 bytes at a time, and read
// them back whole, a load that waited for every store before it: half the
// GEMM's time at small depths),
// NAME_pick (lanes of a where m is set, of b elsewhere), NAME_max and
// NAME_min, lane by lane go_max and go_min, and NAME_clip, lane by lane
// go_min(go_max(v, lo), hi) with the bounds' kinds from cw_lo_bound and
// cw_hi_bound, and NAME_max_of, the largest of the n floats at p as Go's
// max finds it (-inf for none; go_max gives one result in any order).
// (A kernel need not use them all: they are marked unused.)
#define GO_VEC(NAME, ATTR, W)                                                                    \
	typedef float NAME##_vec __attribute__((vector_size(4 * (W)), aligned(4), may_alias));       \
	typedef int NAME##_int __attribute__((vector_size(4 * (W))));                                \
	ATTR CW_UNUSED static inline NAME##_vec NAME##_splat(float f) {                             \
		return f - (NAME##_vec){0};                                                              \
	}                                                                                            \
	ATTR CW_UNUSED static inline NAME##_vec NAME##_pick(NAME##_int m, NAME##_vec a, NAME##_vec b) { \
		return (NAME##_vec)((m & (NAME##_int)a) | (~m & (NAME##_int)b));                         \
	}                                                                                            \
	ATTR CW_UNUSED static inline NAME##_vec NAME##_max(NAME##_vec x, NAME##_vec y) {            \
		NAME##_vec r = NAME##_pick(x < y, y, x);                                                 \
		r = NAME##_pick(x == y, (NAME##_vec)((NAME##_int)x & (NAME##_int)y), r);                 \
		return NAME##_pick((x != x) | (y != y), x + y, r);                                       \
	}                                                                                            \
	ATTR CW_UNUSED static inline NAME##_vec NAME##_min(NAME##_vec x, NAME##_vec y) {            \
		NAME##_vec r = NAME##_pick(x < y, x, y);                                                 \
		r = NAME##_pick(x == y, (NAME##_vec)((NAME##_int)x | (NAME##_int)y), r);                 \
		return NAME##_pick((x != x) | (y != y), x + y, r);                                       \
	}                                                                                            \
	ATTR CW_UNUSED static inline NAME##_vec NAME##_clip(NAME##_vec v, float lo, int lok, float hi, int hik) { \
		NAME##_vec l = NAME##_splat(lo), h = NAME##_splat(hi);                                   \
		if (lok == CW_BOUND_BEYOND)                                                              \
			v = NAME##_pick(v < l, l, v);                                                        \
		else if (lok == CW_BOUND_AT)                                                             \
			v = NAME##_pick(v <= l, l, v);                                                       \
		else if (lok == CW_BOUND_NAN)                                                            \
			v = NAME##_max(v, l);                                                                \
		if (hik == CW_BOUND_BEYOND)                                                              \
			v = NAME##_pick(v > h, h, v);                                                        \
		else if (hik == CW_BOUND_AT)                                                             \
			v = NAME##_pick(v >= h, h, v);                                                       \
		else if (hik == CW_BOUND_NAN)                                                            \
			v = NAME##_min(v, h);                                                                \
		return v;                                                                                \
	}                                                                                            \
	ATTR CW_UNUSED static inline float NAME##_max_of(const float *p, long n) {                  \
		float m = -__builtin_inff();                                                             \
		long i = 0;                                                                              \
		if (n >= (W)) {                                                                          \
			NAME##_vec v = *(const NAME##_vec *)p;                                               \
			for (i = (W); i + (W) <= n; i += (W))                                                \
				v = NAME##_max(v, *(const NAME##_vec *)(p + i));                                 \
			for (int l = 0; l < (W); l++)                                                        \
				m = go_max(m, v[l]);                                                             \
		}                                                                                        \
		for (; i < n; i++)                                                                       \
			m = go_max(m, p[i]);                                                                 \
		return m;                                                                                \
	}

// CW_SLACK is the floats a kernel that computes in whole vectors may read
// or write past the end of a buffer it was given room for: the widest
// vector's (phases.go's slack).
enum { CW_SLACK = 16 };

// The GEMM's widest micro-kernel tile, the depth of B's blocks (KC), and
// the most rows of A that cw_sgemm multiplies by a transposed B, without an
// epilogue, as dot products.
enum { CW_SGEMM_MAX_MR = 8, CW_SGEMM_MAX_NR = 32, CW_SGEMM_KC = 128, CW_SGEMM_DOT_M = 8 };

// CW_SGEMM_WORK is the floats of work memory cw_sgemm needs: the packed
// panels of A and B and 64 bytes to align them.
#define CW_SGEMM_WORK ((96 + CW_SGEMM_MAX_MR) * CW_SGEMM_KC + (512 + CW_SGEMM_MAX_NR) * CW_SGEMM_KC + 16)

// A cw_epilogue makes cw_sgemm write C = clip(alpha·op(A)·op(B) + bias + Z)
// rather than add to C: bias one float a row of C, Z a matrix of C's shape
// (row stride ldz), either NULL for none, clipped to [lo, hi] (±inf for
// none) as Go's min(max(v, lo), hi), then activated with cw_activate's act
// (parameters a and b; CW_ACT_NONE for none), a row of each block of
// columns at a time once it is written.
struct cw_epilogue {
	const float *bias;
	const float *z;
	long ldz;
	float lo, hi;
	int act;
	float a, b;
};

// cw_sgemm adds alpha·op(A)·op(B) to the m×n matrix c (row stride ldc), or
// with an epilogue ep writes what it says. op(A) is m×k: a (row stride lda)
// or, with tA, the transpose of a k×m a; op(B) is k×n likewise. k > 0.
// work holds CW_SGEMM_WORK floats.
void cw_sgemm(int isa, int tA, int tB, long m, long n, long k, float alpha, const float *a, long lda,
              const float *b, long ldb, float *c, long ldc, const struct cw_epilogue *ep, float *work);

// cw_pack_b packs the k×n matrix b (row stride ldb) for cw_sgemm_packed
// into dst (best 64-byte aligned): for each KC-deep block of rows, its
// panels of the instruction set's NR columns, the last zero-padded, k ·
// n rounded up to NR floats in all.
void cw_pack_b(int isa, long k, long n, const float *b, long ldb, float *dst);

// cw_sgemm_nr is the width of the instruction set's panels of B.
long cw_sgemm_nr(int isa);

// cw_sgemm_packed is cw_sgemm of an untransposed A by a B that cw_pack_b
// packed with the same isa, alpha 1: a product by one B for several blocks
// of rows packs it once.
void cw_sgemm_packed(int isa, long m, long n, long k, const float *a, long lda, const float *pb, float *c, long ldc,
                     const struct cw_epilogue *ep, float *work);

// The activations cw_activate computes.
enum {
	CW_ACT_NONE = -1,    // none (for cw_depthwise)
	CW_ACT_CLIP,         // min(max(x, a), b); ReLU is a = 0, b = +inf
	CW_ACT_SIGMOID,      // 1 / (1 + exp(-x))
	CW_ACT_SILU,         // x / (1 + exp(-x))
	CW_ACT_HARD_SIGMOID, // max(0, min(1, a·x + b))
	CW_ACT_HARD_SWISH,   // x · max(0, min(1, a·x + b))
	CW_ACT_ERF,          // erf(x)
	CW_ACT_GELU,         // x · (1 + erf(x/√2)) / 2
	CW_ACT_EXP,          // exp(x)
};

// cw_activate applies activation act (with parameters a and b) to the n
// floats of v in place.
void cw_activate(int isa, int act, float a, float b, float *v, long n);

// The operators cw_binary computes: engine.BinaryOp's.
enum { CW_ADD, CW_MUL, CW_SUB, CW_DIV, CW_MAX, CW_MIN };

// cw_binary writes y = a op b for units [lo, hi) of a Binary op: rows of
// inner elements over dims (ndims of them, the last the row's) cut into
// chunks of chunk elements, a unit a chunk; element (i0, i1, …) of y is
// a[Σ i·sa] op b[Σ i·sb], y's rows one after another.
void cw_binary(int isa, int op, long ndims, const long *dims, const long *sa, const long *sb, const float *a,
               const float *b, float *y, long inner, long chunk, long lo, long hi);

// A cw_window is the geometry of a convolution's window over a plane: input
// h × w, output oh × ow, kernel kh × kw with strides, dilations and the top
// and left padding; hs and ws are the rows and columns of each of the
// padded input's sh × sw phases (for cw_pool).
struct cw_window {
	long h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl, hs, ws;
};

// cw_depthwise writes output rows [r0, r1) of the planes of units [lo,
// hi) of a depthwise convolution, unit u the plane of channel u mod m of an
// image: y's plane u is bias[u mod m] (bias NULL for none) plus z's plane u
// (z NULL for none) plus the taps of the channel's kernel (kh × kw floats
// at wt) over x's plane u, the padding's zeros included (depthwise.c),
// then activation act with parameters a and b (CW_ACT_NONE for none). It
// computes up to band rows at a time, over the input's rows laid out
// padded, tw ≥ pl + w positions a row (at least the columns the windows
// read); work holds 16·(th·tw + band·ow + kh·kw) floats, th the rows of a
// band's windows, (band − 1)·sh + (kh − 1)·dh + 1 (depthwiseKernel.work).
void cw_depthwise(int isa, const struct cw_window *g, long m, long band, long tw, const float *x, const float *wt,
                  const float *bias, const float *z, float *y, float *work, long lo, long hi, long r0, long r1, int act,
                  float a, float b);

// cw_pool writes the output planes of units [lo, hi) of a pool over x's
// planes (depthwise.c): with div NULL, the maxima, as Go's max, of the
// windows, the padding -inf; otherwise each window's sum, its taps added in
// their order to +0 with the padding's zeros, over div at the output's
// position (oh × ow floats). Tap (i, j) reads the phases at taps[i·kw +
// j] from an output position; work holds sh·sw·hs·ws + oh·ws + 16 floats
// (the positions are computed in whole vectors, the last past them), and
// a max pool's sh·sw·hs·ws + 16 more.
void cw_pool(int isa, const struct cw_window *g, const long *taps, const float *div, const float *x, float *y,
             float *work, long lo, long hi);

// cw_affine writes x·s + t, rounded after the product and after the sum
// as Go's loop, of the n floats at x to y (which may be x).
void cw_affine(int isa, const float *x, float *y, long n, float s, float t);

// cw_layernorm normalises rows [lo, hi) of len floats of x into y (which
// may be x): (x − mean)·inv·scale + bias (scale and bias NULL for none),
// inv = 1/√(variance + eps), in double precision, the sums in eight lanes
// (layernorm.c).
void cw_layernorm(int isa, const float *x, float *y, const float *scale, const float *bias, long len, double eps,
                  long lo, long hi);

// What cw_global_pool computes of each plane.
enum { CW_GLOBAL_AVG, CW_GLOBAL_SUM, CW_GLOBAL_MAX };

// cw_global_pool writes the mean, sum or maximum (as Go's max) of each of
// x's planes [lo, hi) of size floats (size > 0) to y[lo, hi): a sum in
// sixteen lanes, folded in halves (globalpool.c).
void cw_global_pool(int isa, int mode, const float *x, float *y, long size, long lo, long hi);

// cw_softmax writes the softmax of the n floats at x to y: exp(x - max)
// over its sum, the sum in double precision in eight lanes.
void cw_softmax(int isa, const float *x, float *y, long n);

// cw_im2col_panels writes the patches of output positions [p0, p0+np) of
// the cg input planes at x (each h × w), the columns of a [cg·kh·kw, np]
// matrix (row c·kh·kw + i·kw + j holds tap (i, j) of channel c, zero where
// it falls in the padding), to panel as cw_pack_b packs such a matrix,
// using the nwork floats at work for a channel's padded rows. It returns 0,
// or -1 (writing nothing) where nwork is less than cw_im2col_work(g, np).
int cw_im2col_panels(int isa, const struct cw_window *g, long cg, const float *x, float *panel, long p0, long np,
                     float *work, long nwork);

// cw_im2col_work is the floats of work cw_im2col_panels needs for up to np
// positions.
long cw_im2col_work(const struct cw_window *g, long np);

// A convolution by Winograd's F(2×2, 3×3) (winograd.c, for winograd.go's
// kernel), its outputs in tiles of 2 × 2, tw tiles a row, tile t at
// output row 2·(t / tw) and column 2·(t mod tw). cw_winograd_filters writes
// the transforms G g Gᵀ of 3 × 3 filters [f0, f1) of w (9 floats each, mc
// in all) to u, element ξ of filter f at u[ξ·mc + f].
void cw_winograd_filters(int isa, long mc, const float *w, float *u, long f0, long f1);

// cw_winograd_input writes the transforms Bᵀ d B of the 4 × 4 input
// patches d (the padding zero) of tiles [t0, t0+nt) of the c planes at x to
// v, element ξ of channel ch's tile t at v[(ch·16 + ξ)·ld + t − t0], ld at
// least nt + 16 (a row's last vector may write past its tiles). work holds
// cw_winograd_work(tw, nt) floats.
void cw_winograd_input(int isa, const struct cw_window *g, long c, long tw, const float *x, float *v, long ld, long t0,
                       long nt, float *work);

// cw_winograd_output writes the outputs Aᵀ M A + bias + Z of tiles [t0,
// t0+nt) of the m output planes at y (bias NULL for none, z the planes of
// Z or NULL), M of channel ch at mo as cw_winograd_input writes an input
// channel's (reading up to 15 floats past a row's tiles), clipped to [lo,
// hi] as Go's min(max(v, lo), hi), then activation act with parameters a
// and b (CW_ACT_NONE for none). work holds cw_winograd_work(tw, nt) floats.
void cw_winograd_output(int isa, const struct cw_window *g, long m, long tw, const float *mo, long ld,
                        const float *bias, const float *z, float *y, long t0, long nt, float lo, float hi, int act,
                        float a, float b, float *work);

// cw_winograd_work is the floats of work the Winograd transforms take for
// tw tiles a row, up to tb a call.
long cw_winograd_work(long tw, long tb);
