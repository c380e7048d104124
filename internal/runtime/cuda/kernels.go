//go:build linux && cgo

package cuda

import (
	"encoding/binary"
	"fmt"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/engine"
)

// kernelSource holds the small kernels cuDNN and cuBLAS lack, compiled
// with NVRTC once per device architecture at start-up. Each has a CPU twin
// in internal/cuda/fakecuda (same name and parameter list), so that tests
// run the runtime end to end without a GPU; TestFakeCUDAKernelSource runs
// this source itself on the fake instead, compiled as C++ with a thread a
// fiber (fakecuda's FAKECUDA_KERNELS=source). Every kernel is a grid-stride
// loop over 32-bit indices (Load rejects larger tensors).
const kernelSource = `
__device__ __forceinline__ float act(float v, int kind, float p0, float p1) {
	switch (kind) {
	case 1: return fmaxf(v, 0.f);
	case 2: return fminf(fmaxf(v, p0), p1);
	case 3: return fmaxf(0.f, fminf(1.f, p0 * v + p1));
	case 4: return v * fmaxf(0.f, fminf(1.f, p0 * v + p1));
	case 5: return 1.f / (1.f + expf(-v));
	case 6: return tanhf(v);
	case 7: return v < 0.f ? p0 * v : v;
	case 8: return erff(v);
	case 9: return 0.5f * v * (1.f + erff(v * 0.70710678118654752f));
	case 10: return sqrtf(v);
	case 11: return p0 == 2.f ? v * v : powf(v, p0);
	case 12: return expf(v);
	case 13: return logf(v);
	case 14: return fabsf(v);
	case 15: return -v;
	case 16: return 1.f / v;
	case 17: return v > 0.f ? p1 * v : p1 * p0 * expm1f(v);
	case 18: return v > 20.f ? v : log1pf(expf(v));
	case 19: return v / (1.f + fabsf(v));
	case 20: return v * tanhf(v > 20.f ? v : log1pf(expf(v)));
	case 21: return 0.5f * v * (1.f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
	case 22: return v > p0 ? v : 0.f;
	case 23: return fmaxf(v, 0.f) + fminf(0.f, p0 * expm1f(v / p0));
	case 24: return floorf(v);
	case 25: return ceilf(v);
	case 26: return rintf(v);
	case 27: return v > 0.f ? 1.f : v < 0.f ? -1.f : v;
	case 28: return sinf(v);
	case 29: return cosf(v);
	case 30: return v / (1.f + expf(-v));
	}
	return v;
}

// y[i] = act(x[i]*scale[c] + shift[c] + z[i]) with c = i / inner % channels;
// scale, shift and z may be null; x may be y.
extern "C" __global__ void channel_act(const float *x, float *y, int n, int inner, int channels,
		const float *__restrict__ scale, const float *__restrict__ shift, const float *z,
		int kind, float p0, float p1) {
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
		int c = i / inner % channels;
		float v = x[i];
		if (scale) v *= scale[c];
		if (shift) v += shift[c];
		if (z) v += z[i];
		y[i] = act(v, kind, p0, p1);
	}
}

// y[r*ldy + j] = act(y[r*ldy + j] + beta*c[r*cRow + j*cCol]) for r < rows, j < cols; c may be null.
extern "C" __global__ void gemm_epilogue(float *y, int rows, int cols, int ldy,
		const float *__restrict__ c, int cRow, int cCol, float beta, int kind, float p0, float p1) {
	int n = rows * cols;
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
		int r = i / cols, j = i - r * cols;
		float *p = y + (long long)r * ldy + j;
		float v = *p;
		if (c) v += beta * c[(long long)r * cRow + (long long)j * cCol];
		*p = act(v, kind, p0, p1);
	}
}

// binop is engine's BinaryOp: 0 adds, 1 multiplies, 2 subtracts, 3
// divides, 4 takes the larger and 5 the smaller (NaN where either is).
__device__ __forceinline__ float binop(float u, float v, int op) {
	switch (op) {
	case 0: return u + v;
	case 1: return u * v;
	case 2: return u - v;
	case 3: return u / v;
	case 4: return u > v || u != u ? u : v;
	default: return u < v || u != u ? u : v;
	}
}

// y[i] = act(a[.] op b[.]) over the rank dims [n/(d1·…·d[rank-1]), d1, …]
// with element strides sa, sb (those past rank unused). Each index below
// the outermost costs a division, so lower ranks run fewer.
#define BINARY_AXIS(k) if (rank > k) { int q = r / d##k; int j = r - q * d##k; ia += j * sa##k; ib += j * sb##k; r = q; }
extern "C" __global__ void binary(const float *__restrict__ a, const float *__restrict__ b, float *__restrict__ y,
		int n, int rank, int d1, int d2, int d3, int d4, int d5,
		int sa0, int sa1, int sa2, int sa3, int sa4, int sa5, int sb0, int sb1, int sb2, int sb3, int sb4, int sb5,
		int op, int kind, float p0, float p1) {
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
		int r = i, ia = 0, ib = 0;
		BINARY_AXIS(5) BINARY_AXIS(4) BINARY_AXIS(3) BINARY_AXIS(2) BINARY_AXIS(1)
		float u = a[ia + r * sa0];
		float v = b[ib + r * sb0];
		y[i] = act(binop(u, v, op), kind, p0, p1);
	}
}

// The inputs of one concat launch: part k's block[k] elements per outer
// index go to y[o*yRow + start[k]...]; cum[k] is the sum of the blocks before it.
struct ConcatParts {
	const float *x[32];
	int block[32], cum[32], start[32];
	int count;
};

extern "C" __global__ void concat(float *__restrict__ y, int outer, int yRow, ConcatParts p) {
	int row = p.cum[p.count - 1] + p.block[p.count - 1];
	int n = outer * row;
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
		int o = i / row, r = i - o * row;
		int k = 0;
		while (k + 1 < p.count && r >= p.cum[k + 1]) k++;
		int j = r - p.cum[k];
		y[o * yRow + p.start[k] + j] = p.x[k][o * p.block[k] + j];
	}
}

// The sum of one depthwise output over its filter, rows outer, columns
// inner; KH and KW > 0 fix the filter size at compile time so that the
// loops unroll (3×3 and 5×5 are nearly all depthwise layers), 0 takes kh
// and kw.
template <int KH, int KW>
__device__ __forceinline__ float depthwise_sum(const float *__restrict__ xp, const float *__restrict__ wp,
		int h, int wd, int kh, int kw, int iy0, int ix0, int dh, int dw) {
	const int nh = KH > 0 ? KH : kh, nw = KW > 0 ? KW : kw;
	float s = 0.f;
#pragma unroll
	for (int ky = 0; ky < nh; ky++) {
		int iy = iy0 + ky * dh;
		if (iy < 0 || iy >= h) continue;
#pragma unroll
		for (int kx = 0; kx < nw; kx++) {
			int ix = ix0 + kx * dw;
			if (ix >= 0 && ix < wd) s += xp[iy * wd + ix] * wp[ky * nw + kx];
		}
	}
	return s;
}

// Depthwise convolution (groups = input channels, m/c filters each) with
// bias, residual and activation: a thread per output.
extern "C" __global__ void depthwise_conv(const float *__restrict__ x, const float *__restrict__ w,
		const float *__restrict__ bias, const float *__restrict__ z, float *__restrict__ y,
		int n, int c, int h, int wd, int m, int oh, int ow, int kh, int kw,
		int sh, int sw, int ph, int pw, int dh, int dw, int kind, float p0, float p1) {
	int total = n * m * oh * ow, mult = m / c;
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
		int ox = i % ow, t = i / ow;
		int oy = t % oh;
		t /= oh;
		int oc = t % m, b = t / m;
		const float *xp = x + ((long long)b * c + oc / mult) * h * wd;
		const float *wp = w + (long long)oc * kh * kw;
		int iy0 = oy * sh - ph, ix0 = ox * sw - pw;
		float s;
		if (kh == 3 && kw == 3) {
			s = depthwise_sum<3, 3>(xp, wp, h, wd, kh, kw, iy0, ix0, dh, dw);
		} else if (kh == 5 && kw == 5) {
			s = depthwise_sum<5, 5>(xp, wp, h, wd, kh, kw, iy0, ix0, dh, dw);
		} else {
			s = depthwise_sum<0, 0>(xp, wp, h, wd, kh, kw, iy0, ix0, dh, dw);
		}
		if (bias) s += bias[oc];
		if (z) s += z[i];
		y[i] = act(s, kind, p0, p1);
	}
}

// The number of window positions start + i*dil (i < k) inside [0, n).
__device__ __forceinline__ int window_count(int start, int k, int dil, int n) {
	if (start >= n) return 0;
	int lo = start < 0 ? (-start + dil - 1) / dil : 0;
	int hi = (n - 1 - start) / dil + 1;
	if (hi > k) hi = k;
	return hi > lo ? hi - lo : 0;
}

// 2-D pooling of planes (image × channel) of h×w into oh×ow, a thread per
// output, for the pools cudnnPoolingForward does not compute: asymmetric
// padding (ONNX ceil_mode among them), dilation, padding as wide as the
// window. mode 0 is the maximum over the window's positions inside the
// input, 1 their average, 2 the sum over the count of positions inside
// the padded input (count_include_pad), as the CPU executor computes them.
extern "C" __global__ void pool2d(const float *__restrict__ x, float *__restrict__ y, int planes, int h, int w,
		int oh, int ow, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr, int dh, int dw, int mode) {
	int total = planes * oh * ow;
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
		int ox = i % ow, t = i / ow;
		int oy = t % oh, p = t / oh;
		const float *xp = x + (long long)p * h * w;
		int y0 = oy * sh - pt, x0 = ox * sw - pl;
		float acc = mode == 0 ? -__int_as_float(0x7f800000) : 0.f; // -inf for the maximum
		int n = 0;
		for (int ky = 0; ky < kh; ky++) {
			int iy = y0 + ky * dh;
			if (iy < 0 || iy >= h) continue;
			for (int kx = 0; kx < kw; kx++) {
				int ix = x0 + kx * dw;
				if (ix < 0 || ix >= w) continue;
				float v = xp[iy * w + ix];
				acc = mode == 0 ? fmaxf(acc, v) : acc + v;
				n++;
			}
		}
		if (mode != 0) {
			int div = mode == 1 ? n
				: window_count(y0 + pt, kh, dh, h + pt + pb) * window_count(x0 + pl, kw, dw, w + pl + pr);
			if (div > 0) acc /= (float)div;
		}
		y[i] = acc;
	}
}

// Planes of h×w copied into larger ones of oh×ow, top rows and left
// columns of zeros before them and zeros after: a convolution's input
// padded where cuDNN's symmetric padding cannot.
extern "C" __global__ void pad2d(const float *__restrict__ x, float *__restrict__ y, int planes, int h, int w,
		int oh, int ow, int top, int left) {
	int total = planes * oh * ow;
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
		int ox = i % ow, t = i / ow;
		int oy = t % oh, p = t / oh;
		int iy = oy - top, ix = ox - left;
		y[i] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[((long long)p * h + iy) * w + ix] : 0.f;
	}
}

// A Gemm of a few rows (a batch of activations) against weights stored a
// row per output column (ONNX Gemm with transB), which cuBLAS runs at a
// fraction of the memory bandwidth the weights need:
// y[r*ldy + j] = act(alpha * sum_q a[r*lda + q]*b[j*ldb + q] + beta*c[r*cRow + j*cCol])
// for r < m (at most 16) and j < n; c may be null. Block x computes COLS
// columns from COLS*x, its threads splitting q and the sums reduced in a
// fixed order, so the result does not vary from run to run. M rounds m up
// (rows past m repeat the last and are not written).
struct alignas(16) f4 {
	float x, y, z, w;
};

__device__ __forceinline__ int imin(int a, int b) { return a < b ? a : b; }

template <int M, int COLS>
__device__ __forceinline__ void gemm_rows_tile(const float *__restrict__ a, const float *__restrict__ b,
		float *__restrict__ y, int m, int n, int k, int lda, int ldb, int ldy, float alpha,
		const float *__restrict__ c, int cRow, int cCol, float beta, int kind, float p0, float p1,
		float *part) {
	float acc[COLS][M];
#pragma unroll
	for (int j = 0; j < COLS; j++)
#pragma unroll
		for (int r = 0; r < M; r++) acc[j][r] = 0.f;
	const int j0 = blockIdx.x * COLS;
	const float *bp[COLS];
#pragma unroll
	for (int j = 0; j < COLS; j++) bp[j] = b + (long long)imin(j0 + j, n - 1) * ldb;
	const float *ap[M];
#pragma unroll
	for (int r = 0; r < M; r++) ap[r] = a + (long long)imin(r, m - 1) * lda;
	bool vec = ((k | lda | ldb) & 3) == 0 && (((unsigned long long)a | (unsigned long long)b) & 15) == 0;
	if (vec) {
		// Four steps' weights are loaded before any is used, so that each
		// thread has that many loads in flight: there are few blocks
		// (a block per column or four) to hide the memory's latency.
		const int k4 = k >> 2, T = blockDim.x;
		int q = threadIdx.x;
		for (; q + 3 * T < k4; q += 4 * T) {
			f4 bv[4][COLS];
#pragma unroll
			for (int u = 0; u < 4; u++)
#pragma unroll
				for (int j = 0; j < COLS; j++) bv[u][j] = ((const f4 *)bp[j])[q + u * T];
#pragma unroll
			for (int u = 0; u < 4; u++)
#pragma unroll
				for (int r = 0; r < M; r++) {
					f4 av = ((const f4 *)ap[r])[q + u * T];
#pragma unroll
					for (int j = 0; j < COLS; j++)
						acc[j][r] += av.x * bv[u][j].x + av.y * bv[u][j].y + av.z * bv[u][j].z + av.w * bv[u][j].w;
				}
		}
		for (; q < k4; q += T) {
			f4 bv[COLS];
#pragma unroll
			for (int j = 0; j < COLS; j++) bv[j] = ((const f4 *)bp[j])[q];
#pragma unroll
			for (int r = 0; r < M; r++) {
				f4 av = ((const f4 *)ap[r])[q];
#pragma unroll
				for (int j = 0; j < COLS; j++)
					acc[j][r] += av.x * bv[j].x + av.y * bv[j].y + av.z * bv[j].z + av.w * bv[j].w;
			}
		}
	} else {
		for (int q = threadIdx.x; q < k; q += blockDim.x) {
			float bv[COLS];
#pragma unroll
			for (int j = 0; j < COLS; j++) bv[j] = bp[j][q];
#pragma unroll
			for (int r = 0; r < M; r++) {
				float av = ap[r][q];
#pragma unroll
				for (int j = 0; j < COLS; j++) acc[j][r] += av * bv[j];
			}
		}
	}
	const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
#pragma unroll
	for (int j = 0; j < COLS; j++)
#pragma unroll
		for (int r = 0; r < M; r++) {
			float v = acc[j][r];
			for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
			if (lane == 0) part[warp * COLS * M + j * M + r] = v;
		}
	__syncthreads();
	const int t = threadIdx.x;
	if (t < COLS * M) {
		const int j = j0 + t / M, r = t % M;
		if (r < m && j < n) {
			float s = 0.f;
			for (int w = 0; w < warps; w++) s += part[w * COLS * M + t];
			float v = alpha * s;
			if (c) v += beta * c[(long long)r * cRow + (long long)j * cCol];
			y[(long long)r * ldy + j] = act(v, kind, p0, p1);
		}
	}
}

#define GEMM_ROWS_THREADS 256

extern "C" __global__ void __launch_bounds__(GEMM_ROWS_THREADS) gemm_rows(const float *__restrict__ a,
		const float *__restrict__ b, float *__restrict__ y, int m, int n, int k, int lda, int ldb, int ldy,
		float alpha, const float *__restrict__ c, int cRow, int cCol, float beta, int cols,
		int kind, float p0, float p1) {
	__shared__ float part[(GEMM_ROWS_THREADS / 32) * 4 * 16];
#define GEMM_ROWS(M)                                                                                       \
	if (cols == 1)                                                                                     \
		gemm_rows_tile<M, 1>(a, b, y, m, n, k, lda, ldb, ldy, alpha, c, cRow, cCol, beta, kind, p0, p1, part); \
	else                                                                                               \
		gemm_rows_tile<M, 4>(a, b, y, m, n, k, lda, ldb, ldy, alpha, c, cRow, cCol, beta, kind, p0, p1, part)
	if (m <= 1) {
		GEMM_ROWS(1);
	} else if (m <= 2) {
		GEMM_ROWS(2);
	} else if (m <= 4) {
		GEMM_ROWS(4);
	} else if (m <= 8) {
		GEMM_ROWS(8);
	} else {
		GEMM_ROWS(16);
	}
#undef GEMM_ROWS
}

// Planes of h×w resized to oh×ow by a table of oh rows then ow columns of
// (i0, i1, w) as floats: the weighted sum of the four elements the output's
// row and column entries read, w = 0 taking i0's alone (nearest), as the
// CPU executor computes it. Indices are clamped to the plane.
__device__ __forceinline__ float lerp(float a, float b, float w) { return w == 0.f ? a : a * (1.f - w) + b * w; }

__device__ __forceinline__ int clamp_index(float v, int n) {
	int i = (int)v;
	return i < 0 ? 0 : i > n - 1 ? n - 1 : i;
}

extern "C" __global__ void resize2d(const float *__restrict__ x, float *__restrict__ y, int planes, int h, int w,
		int oh, int ow, const float *__restrict__ table) {
	int total = planes * oh * ow;
	const float *cols = table + 3 * oh;
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
		int ox = i % ow, t = i / ow;
		int oy = t % oh, p = t / oh;
		const float *xp = x + (long long)p * h * w;
		int r0 = clamp_index(table[3 * oy], h) * w, r1 = clamp_index(table[3 * oy + 1], h) * w;
		int c0 = clamp_index(cols[3 * ox], w), c1 = clamp_index(cols[3 * ox + 1], w);
		float wy = table[3 * oy + 2], wx = cols[3 * ox + 2];
		y[i] = lerp(lerp(xp[r0 + c0], xp[r0 + c1], wx), lerp(xp[r1 + c0], xp[r1 + c1], wx), wy);
	}
}

// Local response normalisation across channels, a thread per element of
// x [n, c, inner]: the squares of channels ch − lo to ch + hi (within the
// image) summed in float, then x / (bias + alpha/size · sum)^beta.
extern "C" __global__ void lrn(const float *__restrict__ x, float *__restrict__ y, int n, int c, int inner,
		int size, float alpha, float beta, float bias) {
	int total = n * c * inner, lo = (size - 1) / 2, hi = size / 2;
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
		int s = i % inner, ch = i / inner % c, img = i / (inner * c);
		int from = ch - lo < 0 ? 0 : ch - lo, to = ch + hi > c - 1 ? c - 1 : ch + hi;
		float sq = 0.f;
		for (int q = from; q <= to; q++) {
			float v = x[((long long)img * c + q) * inner + s];
			sq += v * v;
		}
		y[i] = x[i] / powf(bias + alpha / (float)size * sq, beta);
	}
}

// A 2-D transposed convolution with bias and activation, a thread per
// output gathering the inputs that reach it (as the CPU executor): x [n,
// c, h, w], weights [c, mg, kh, kw] with c/groups input channels a group
// and mg output channels, y [n, mg*groups, oh, ow]; bias may be null.
extern "C" __global__ void conv_transpose(const float *__restrict__ x, const float *__restrict__ wt,
		const float *__restrict__ bias, float *__restrict__ y, int n, int c, int h, int w, int groups, int mg,
		int oh, int ow, int kh, int kw, int sh, int sw, int dh, int dw, int pt, int pl, int kind, float p0, float p1) {
	int m = mg * groups, cg = c / groups, total = n * m * oh * ow;
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
		int ox = i % ow, t = i / ow;
		int oy = t % oh;
		t /= oh;
		int oc = t % m, img = t / m;
		int g = oc / mg, mi = oc % mg;
		float s = bias ? bias[oc] : 0.f;
		for (int ky = 0; ky < kh; ky++) {
			int ty = oy + pt - ky * dh;
			if (ty < 0 || ty % sh != 0 || ty / sh >= h) continue;
			int iy = ty / sh;
			for (int kx = 0; kx < kw; kx++) {
				int tx = ox + pl - kx * dw;
				if (tx < 0 || tx % sw != 0 || tx / sw >= w) continue;
				int ix = tx / sw;
				for (int ci = g * cg; ci < (g + 1) * cg; ci++)
					s += x[(((long long)img * c + ci) * h + iy) * w + ix] * wt[(((long long)ci * mg + mi) * kh + ky) * kw + kx];
			}
		}
		y[i] = act(s, kind, p0, p1);
	}
}

// One warp normalises each row of len elements: the mean, then the mean
// of the squared deviations from it (two passes, as the CPU executor),
// then y = (x - mean) / sqrt(var + eps) * scale + bias; scale and bias may
// be null (1 and 0).
extern "C" __global__ void layer_norm(const float *__restrict__ x, float *__restrict__ y, int rows, int len,
		const float *__restrict__ scale, const float *__restrict__ bias, float eps) {
	const int lane = threadIdx.x & 31, warps = (gridDim.x * blockDim.x) >> 5;
	for (int r = (blockIdx.x * blockDim.x + threadIdx.x) >> 5; r < rows; r += warps) {
		const float *p = x + (long long)r * len;
		float s = 0.f;
		for (int i = lane; i < len; i += 32) s += p[i];
		for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
		const float mean = s / (float)len;
		float v = 0.f;
		for (int i = lane; i < len; i += 32) {
			float d = p[i] - mean;
			v += d * d;
		}
		for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
		const float inv = 1.f / sqrtf(v / (float)len + eps);
		float *q = y + (long long)r * len;
		for (int i = lane; i < len; i += 32) {
			float out = (p[i] - mean) * inv;
			if (scale) out *= scale[i];
			if (bias) out += bias[i];
			q[i] = out;
		}
	}
}

// One warp averages each plane of hw elements (the sum times scale), or
// with take_max takes its maximum.
extern "C" __global__ void global_avg_pool(const float *__restrict__ x, float *__restrict__ y,
		int planes, int hw, float scale, int take_max) {
	int warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
	int lane = threadIdx.x & 31;
	if (warp >= planes) return;
	const float *p = x + (long long)warp * hw;
	float s = take_max ? __int_as_float(0xff800000) : 0.f;
	for (int i = lane; i < hw; i += 32) s = take_max ? fmaxf(s, p[i]) : s + p[i];
	for (int o = 16; o > 0; o >>= 1) {
		float t = __shfl_down_sync(0xffffffffu, s, o);
		s = take_max ? fmaxf(s, t) : s + t;
	}
	if (lane == 0) y[warp] = take_max ? s : s * scale;
}
`

// concatParts is the number of inputs one concat launch copies.
const concatParts = 32

// blockSize is the thread block size of the elementwise kernels.
const blockSize = 256

// kernels are the compiled kernels of one device.
type kernels struct {
	mod                                                          cu.Module
	channelAct, gemmEpilogue, binaryOp, concat, gapFn, depthwise cu.Function
	gemmRows, pool2d, pad2d, layerNorm, resize2d, lrn, deconv    cu.Function
	maxBlocks                                                    int // grid cap: enough blocks to fill the device
}

// compileKernels compiles kernelSource for compute capability major.minor.
func compileKernels(major, minor int) ([]byte, error) {
	cubin, err := cu.CompileCUBIN(kernelSource, "clockwork_kernels.cu", major, minor)
	if err != nil {
		return nil, fmt.Errorf("compiling the runtime's kernels for sm_%d%d: %w", major, minor, err)
	}
	return cubin, nil
}

// loadKernels loads a cubin into the current context.
func loadKernels(cubin []byte, sms int) (*kernels, error) {
	mod, err := cu.ModuleLoadData(cubin)
	if err != nil {
		return nil, err
	}
	k := &kernels{mod: mod, maxBlocks: max(1, sms) * 16}
	for _, f := range k.funcs() {
		if *f.fn, err = mod.Function(f.name); err != nil {
			mod.Unload()
			return nil, err
		}
	}
	return k, nil
}

// kernelFunc is a kernel of kernelSource and where its handle goes.
type kernelFunc struct {
	fn   *cu.Function
	name string
}

// funcs lists the kernels the runtime launches.
func (k *kernels) funcs() []kernelFunc {
	return []kernelFunc{
		{&k.channelAct, "channel_act"}, {&k.gemmEpilogue, "gemm_epilogue"}, {&k.binaryOp, "binary"},
		{&k.concat, "concat"}, {&k.gapFn, "global_avg_pool"}, {&k.depthwise, "depthwise_conv"},
		{&k.gemmRows, "gemm_rows"}, {&k.pool2d, "pool2d"}, {&k.pad2d, "pad2d"}, {&k.layerNorm, "layer_norm"},
		{&k.resize2d, "resize2d"}, {&k.lrn, "lrn"},
		{&k.deconv, "conv_transpose"},
	}
}

// grid covers n elements with blockSize threads each, up to maxBlocks.
func (k *kernels) grid(n int) cu.Dim3 {
	return cu.Dim3{X: uint32(max(1, min((n+blockSize-1)/blockSize, k.maxBlocks))), Y: 1, Z: 1}
}

var threads = cu.Dim3{X: blockSize, Y: 1, Z: 1}

// actArgs encodes an activation as the kernels' (kind, p0, p1): the act
// function's codes are engine's ActKind values (TestKernelCodes).
func actArgs(a engine.Activation) (int32, float32, float32) {
	switch a.Kind {
	case engine.ActClip:
		return int32(a.Kind), a.Min, a.Max
	case engine.ActHardSigmoid, engine.ActHardSwish, engine.ActElu:
		return int32(a.Kind), a.Alpha, a.Beta
	case engine.ActLeakyRelu, engine.ActPow, engine.ActThresholdedRelu, engine.ActCelu:
		return int32(a.Kind), a.Alpha, 0
	}
	return int32(a.Kind), 0, 0
}

// channelActArgs are the arguments of one channel_act launch.
type channelActArgs struct {
	x, y, scale, shift, z cu.DevicePtr
	n, inner, channels    int
	act                   engine.Activation
}

func (k *kernels) launchChannelAct(s cu.Stream, args *cu.KernelArgs, c channelActArgs) error {
	kind, p0, p1 := actArgs(c.act)
	args.Reset()
	args.Ptr(c.x).Ptr(c.y).Int32(int32(c.n)).Int32(int32(c.inner)).Int32(int32(c.channels)).
		Ptr(c.scale).Ptr(c.shift).Ptr(c.z).Int32(kind).Float32(p0).Float32(p1)
	return k.channelAct.Launch(k.grid(c.n), threads, 0, s, args)
}

// gemmEpilogueArgs are the arguments of one gemm_epilogue launch.
type gemmEpilogueArgs struct {
	y, c            cu.DevicePtr
	rows, cols, ldy int
	cRow, cCol      int
	beta            float32
	act             engine.Activation
}

func (k *kernels) launchGemmEpilogue(s cu.Stream, args *cu.KernelArgs, g gemmEpilogueArgs) error {
	kind, p0, p1 := actArgs(g.act)
	args.Reset()
	args.Ptr(g.y).Int32(int32(g.rows)).Int32(int32(g.cols)).Int32(int32(g.ldy)).
		Ptr(g.c).Int32(int32(g.cRow)).Int32(int32(g.cCol)).Float32(g.beta).Int32(kind).Float32(p0).Float32(p1)
	return k.gemmEpilogue.Launch(k.grid(g.rows*g.cols), threads, 0, s, args)
}

// binaryRank is the most dimensions a binary launch takes, once those
// that stay adjacent are merged: six, for a depth-to-space's transpose.
const binaryRank = 6

// binaryArgs are the arguments of one binary launch: its rank, dims and
// strides from the outermost, those past rank unused.
type binaryArgs struct {
	a, b, y cu.DevicePtr
	n, rank int
	dims    [binaryRank]int
	sa, sb  [binaryRank]int
	op      engine.BinaryOp // the kernel's op codes are engine's: add, mul, sub, div, max, min
	act     engine.Activation
}

func (k *kernels) launchBinary(s cu.Stream, args *cu.KernelArgs, b binaryArgs) error {
	kind, p0, p1 := actArgs(b.act)
	args.Reset()
	args.Ptr(b.a).Ptr(b.b).Ptr(b.y).Int32(int32(b.n)).Int32(int32(b.rank))
	for _, d := range b.dims[1:] {
		args.Int32(int32(d))
	}
	for _, v := range b.sa {
		args.Int32(int32(v))
	}
	for _, v := range b.sb {
		args.Int32(int32(v))
	}
	args.Int32(int32(b.op)).Int32(kind).Float32(p0).Float32(p1)
	return k.binaryOp.Launch(k.grid(b.n), threads, 0, s, args)
}

// concatPart is one input of a concat launch.
type concatPart struct {
	x            cu.DevicePtr
	block, start int
}

// concatStructSize is sizeof(ConcatParts): 32 pointers, 4 × 32 ints and
// the count, padded to 8 bytes.
const concatStructSize = 8*concatParts + 4*3*concatParts + 8

// launchConcat copies up to concatParts inputs into y; buf is scratch
// for the struct argument.
func (k *kernels) launchConcat(s cu.Stream, args *cu.KernelArgs, buf []byte, y cu.DevicePtr, outer, yRow int, parts []concatPart) error {
	if len(parts) == 0 || len(parts) > concatParts {
		return fmt.Errorf("concat of %d parts in one launch", len(parts))
	}
	buf = buf[:concatStructSize]
	clear(buf)
	le := binary.LittleEndian
	cum, ints := 0, 8*concatParts
	for i, p := range parts {
		le.PutUint64(buf[8*i:], uint64(p.x))
		le.PutUint32(buf[ints+4*i:], uint32(p.block))
		le.PutUint32(buf[ints+4*concatParts+4*i:], uint32(cum))
		le.PutUint32(buf[ints+8*concatParts+4*i:], uint32(p.start))
		cum += p.block
	}
	le.PutUint32(buf[ints+12*concatParts:], uint32(len(parts)))
	args.Reset()
	args.Ptr(y).Int32(int32(outer)).Int32(int32(yRow)).Bytes(buf, 8)
	return k.concat.Launch(k.grid(outer*cum), threads, 0, s, args)
}

// launchGAP averages planes planes of hw elements of x into y, or sums
// them, or takes their maxima.
func (k *kernels) launchGAP(s cu.Stream, args *cu.KernelArgs, x, y cu.DevicePtr, planes, hw int, mode engine.PoolMode) error {
	scale, takeMax := 1/float32(hw), int32(0)
	switch mode {
	case engine.PoolSum:
		scale = 1
	case engine.PoolMax:
		takeMax = 1
	}
	args.Reset()
	args.Ptr(x).Ptr(y).Int32(int32(planes)).Int32(int32(hw)).Float32(scale).Int32(takeMax)
	grid := (planes*32 + blockSize - 1) / blockSize
	return k.gapFn.Launch(cu.Dim3{X: uint32(grid), Y: 1, Z: 1}, threads, 0, s, args)
}

// launchDepthwise runs convolution o, a depthwise one, with its bias,
// residual and activation; x, w, bias, z, y are its operands' addresses
// (bias and z 0 if absent).
func (k *kernels) launchDepthwise(s cu.Stream, args *cu.KernelArgs, o *engine.Conv, x, w, bias, z, y cu.DevicePtr) error {
	kind, p0, p1 := actArgs(o.Act)
	xs, ys := o.X.Shape, o.Y.Shape
	args.Reset()
	args.Ptr(x).Ptr(w).Ptr(bias).Ptr(z).Ptr(y)
	for _, v := range []int{xs[0], xs[1], xs[2], xs[3], ys[1], ys[2], ys[3], o.KernelH, o.KernelW,
		o.StrideH, o.StrideW, o.PadTop, o.PadLeft, o.DilationH, o.DilationW} {
		args.Int32(int32(v))
	}
	args.Int32(kind).Float32(p0).Float32(p1)
	return k.depthwise.Launch(k.grid(o.Y.Elems()), threads, 0, s, args)
}

// launchPool2d runs pool o with the pool2d kernel; x and y are its
// operands' addresses.
func (k *kernels) launchPool2d(s cu.Stream, args *cu.KernelArgs, o *engine.Pool, x, y cu.DevicePtr) error {
	xs, ys := o.X.Shape, o.Y.Shape
	mode := int32(0)
	if o.Mode == engine.PoolAvg {
		mode = 1
		if o.CountIncludePad {
			mode = 2
		}
	}
	args.Reset()
	args.Ptr(x).Ptr(y)
	for _, v := range []int{xs[0] * xs[1], xs[2], xs[3], ys[2], ys[3], o.KernelH, o.KernelW, o.StrideH, o.StrideW,
		o.PadTop, o.PadLeft, o.PadBottom, o.PadRight, o.DilationH, o.DilationW} {
		args.Int32(int32(v))
	}
	args.Int32(mode)
	return k.pool2d.Launch(k.grid(o.Y.Elems()), threads, 0, s, args)
}

// launchPad2d copies the planes of x, shaped [n, c, h, w], into y, shaped
// [n, c, oh, ow], after top rows and left columns of zeros, zeros after.
func (k *kernels) launchPad2d(s cu.Stream, args *cu.KernelArgs, x, y cu.DevicePtr, xs, ys []int, top, left int) error {
	args.Reset()
	args.Ptr(x).Ptr(y)
	for _, v := range []int{xs[0] * xs[1], xs[2], xs[3], ys[2], ys[3], top, left} {
		args.Int32(int32(v))
	}
	return k.pad2d.Launch(k.grid(ys[0]*ys[1]*ys[2]*ys[3]), threads, 0, s, args)
}

// gemmRowsMax is the most rows gemm_rows computes, and gemmRowsThreads
// its block size (GEMM_ROWS_THREADS).
const (
	gemmRowsMax     = 16
	gemmRowsThreads = 256
)

// gemmRowsArgs are the arguments of one gemm_rows launch: cols output
// columns per block (1 or 4).
type gemmRowsArgs struct {
	a, b, y, c       cu.DevicePtr
	m, n, k          int
	lda, ldb, ldy    int
	alpha, beta      float32
	cRow, cCol, cols int
	act              engine.Activation
}

func (k *kernels) launchGemmRows(s cu.Stream, args *cu.KernelArgs, g gemmRowsArgs) error {
	kind, p0, p1 := actArgs(g.act)
	args.Reset()
	args.Ptr(g.a).Ptr(g.b).Ptr(g.y).Int32(int32(g.m)).Int32(int32(g.n)).Int32(int32(g.k)).
		Int32(int32(g.lda)).Int32(int32(g.ldb)).Int32(int32(g.ldy)).Float32(g.alpha).
		Ptr(g.c).Int32(int32(g.cRow)).Int32(int32(g.cCol)).Float32(g.beta).Int32(int32(g.cols)).
		Int32(kind).Float32(p0).Float32(p1)
	grid := cu.Dim3{X: uint32((g.n + g.cols - 1) / g.cols), Y: 1, Z: 1}
	return k.gemmRows.Launch(grid, cu.Dim3{X: gemmRowsThreads, Y: 1, Z: 1}, 0, s, args)
}

// launchLayerNorm normalises rows×len elements of x into y, a warp per row.
func (k *kernels) launchLayerNorm(s cu.Stream, args *cu.KernelArgs, x, y, scale, bias cu.DevicePtr, rows, length int, eps float32) error {
	args.Reset()
	args.Ptr(x).Ptr(y).Int32(int32(rows)).Int32(int32(length)).Ptr(scale).Ptr(bias).Float32(eps)
	return k.layerNorm.Launch(k.grid(rows*32), threads, 0, s, args)
}

// launchResize2d resizes the planes of x [N, C, H, W] into y [N, C, OH, OW]
// by table.
func (k *kernels) launchResize2d(s cu.Stream, args *cu.KernelArgs, x, y, table cu.DevicePtr, xs, ys []int) error {
	args.Reset()
	args.Ptr(x).Ptr(y)
	for _, v := range []int{xs[0] * xs[1], xs[2], xs[3], ys[2], ys[3]} {
		args.Int32(int32(v))
	}
	args.Ptr(table)
	return k.resize2d.Launch(k.grid(ys[0]*ys[1]*ys[2]*ys[3]), threads, 0, s, args)
}

// launchLRN normalises x [N, C, spatial...] into y across channels.
func (k *kernels) launchLRN(s cu.Stream, args *cu.KernelArgs, x, y cu.DevicePtr, o *engine.LRN) error {
	xs := o.X.Shape
	inner := o.X.Elems() / (xs[0] * xs[1])
	args.Reset()
	args.Ptr(x).Ptr(y).Int32(int32(xs[0])).Int32(int32(xs[1])).Int32(int32(inner)).Int32(int32(o.Size))
	args.Float32(o.Alpha).Float32(o.Beta).Float32(o.Bias)
	return k.lrn.Launch(k.grid(o.X.Elems()), threads, 0, s, args)
}

// launchConvTranspose computes o, a thread per output element.
func (k *kernels) launchConvTranspose(s cu.Stream, args *cu.KernelArgs, x, w, b, y cu.DevicePtr, o *engine.ConvTranspose) error {
	xs, ws, ys := o.X.Shape, o.W.Shape, o.Y.Shape
	kind, p0, p1 := actArgs(o.Act)
	args.Reset()
	args.Ptr(x).Ptr(w).Ptr(b).Ptr(y)
	for _, v := range []int{xs[0], xs[1], xs[2], xs[3], o.Groups, ws[1], ys[2], ys[3], o.KernelH, o.KernelW,
		o.StrideH, o.StrideW, o.DilationH, o.DilationW, o.PadTop, o.PadLeft} {
		args.Int32(int32(v))
	}
	args.Int32(kind).Float32(p0).Float32(p1)
	return k.deconv.Launch(k.grid(o.Y.Elems()), threads, 0, s, args)
}
