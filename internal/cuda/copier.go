package cuda

// Copier is a kernel that makes an Exec's device copies on the SMs: the
// copy_io kernel of CopierSource, launched with 256 threads a block on at
// most Blocks blocks, in the widest words (16, 4 or 1 bytes) that the
// copy's addresses and length allow. An exec's copies then never wait for
// a copy engine, where cuMemcpyDtoDAsync may queue them behind the host
// copies of other streams.
type Copier struct {
	Fn     Function // copy_io, from a module compiled with CopierSource
	Blocks uint32
}

// CopierSource is the CUDA source of copy_io for NVRTC, alone or ahead of
// a program's other kernels: dst[0:n) = src[0:n) in words of width bytes,
// grid-stride, where src, dst and n are multiples of width (16, 4 or 1).
const CopierSource = `
struct alignas(16) copy_io_word { unsigned x, y, z, w; };

extern "C" __global__ void copy_io(const void *__restrict__ src, void *__restrict__ dst, unsigned long long n, int width) {
	unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
	const unsigned long long step = (unsigned long long)gridDim.x * blockDim.x;
	if (width == 16) {
		for (; i < n / 16; i += step) ((copy_io_word *)dst)[i] = ((const copy_io_word *)src)[i];
	} else if (width == 4) {
		for (; i < n / 4; i += step) ((unsigned *)dst)[i] = ((const unsigned *)src)[i];
	} else {
		for (; i < n; i += step) ((unsigned char *)dst)[i] = ((const unsigned char *)src)[i];
	}
}
`
