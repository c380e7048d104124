//go:build linux && cgo

package cuda

import (
	"os"
	"strings"
	"testing"
)

// warpSource uses what kernels share within a block: a barrier over a
// warp and a half of a 3-D block in a 2-D grid, a block reduction through
// shuffles and shared memory, and shuffles of every kind with widths
// below 32 (a butterfly reading an earlier segment, as PTX defines it)
// and with two halves of a warp shuffling apart.
const warpSource = `
extern "C" __global__ void rotate(const float *x, float *y) {
	__shared__ float buf[1024];
	const int n = blockDim.x * blockDim.y * blockDim.z;
	const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
	const int base = (blockIdx.x + gridDim.x * blockIdx.y) * n;
	buf[t] = x[base + t];
	__syncthreads();
	y[base + t] = buf[(t + 1) % n];
}

extern "C" __global__ void block_sum(const float *x, float *y, int n) {
	__shared__ float part[32];
	const int t = threadIdx.x + threadIdx.y * blockDim.x, threads = blockDim.x * blockDim.y;
	float s = 0.f;
	for (int i = blockIdx.x * threads + t; i < n; i += gridDim.x * threads) s += x[i];
	for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
	if ((t & 31) == 0) part[t >> 5] = s;
	__syncthreads();
	if (t == 0) {
		float total = 0.f;
		for (int w = 0; w < threads / 32; w++) total += part[w];
		y[blockIdx.x] = total;
	}
}

extern "C" __global__ void lanes(float *y) {
	const int l = threadIdx.x;
	const float v = (float)l;
	y[l] = __shfl_down_sync(0xffffffffu, v, 3);
	y[32 + l] = __shfl_up_sync(0xffffffffu, v, 5, 16);
	y[64 + l] = __shfl_sync(0xffffffffu, v, 7, 8);
	y[96 + l] = __shfl_xor_sync(0xffffffffu, v, 9, 16);
	if (l < 16) y[128 + l] = __shfl_xor_sync(0x0000ffffu, v, 1);
	else y[128 + l] = __shfl_sync(0xffff0000u, v, 16);
	y[160 + l] = __shfl_xor_sync(0xffffffffu, v, 16, 16); // an earlier segment's lane, or a later one's: its own
}
`

// TestGPUWarpsAndBarriers runs warpSource on the GPU and checks what CUDA
// defines its kernels to compute. On fakecuda it needs
// FAKECUDA_KERNELS=source (TestFakeCUDARunsGPUTestsOnSource): the fake's
// kernel twins are the runtime's only; on a GPU it checks that the fake's
// emulation of threads (kernelemu.h) assumes what the hardware does.
func TestGPUWarpsAndBarriers(t *testing.T) {
	dev := gpu(t)
	if name, _ := dev.Name(); strings.Contains(name, "fakecuda") && os.Getenv("FAKECUDA_KERNELS") != "source" {
		t.Skip("fakecuda runs this source only with FAKECUDA_KERNELS=source")
	}
	if _, err := LoadNVRTC(); err != nil {
		t.Skipf("no NVRTC: %v", err)
	}
	major, minor, err := dev.ComputeCapability()
	check(t, err)
	cubin, err := CompileCUBIN(warpSource, "warps.cu", major, minor)
	check(t, err)
	mod, err := ModuleLoadData(cubin)
	check(t, err)
	defer mod.Unload()
	const n = 4096
	host := hostAlloc(t, 4*n)
	x, y := alloc(t, 4*n), alloc(t, 4*n)
	h := host.Float32s()
	for i := range h {
		h[i] = float32(i % 7)
	}
	var s Stream
	run := func(name string, grid, block Dim3, args *KernelArgs) []float32 {
		t.Helper()
		fn, err := mod.Function(name)
		check(t, err)
		check(t, MemcpyHtoDAsync(x, host.Ptr(0), 4*n, s))
		check(t, MemsetD32Async(y, 0, n, s))
		check(t, fn.Launch(grid, block, 0, s, args))
		out := hostAlloc(t, 4*n)
		check(t, MemcpyDtoHAsync(out.Ptr(0), y, 4*n, s))
		check(t, s.Synchronize())
		return out.Float32s()
	}

	// Blocks of 4×3×4 threads (a warp and a half) in a grid of 2×3: each
	// takes its right neighbour's value through shared memory.
	var args KernelArgs
	got := run("rotate", Dim3{X: 2, Y: 3, Z: 1}, Dim3{X: 4, Y: 3, Z: 4}, args.Ptr(x).Ptr(y))
	for b := range 6 {
		for i := range 48 {
			if want := h[b*48+(i+1)%48]; got[b*48+i] != want {
				t.Fatalf("rotate: y[%d] = %v, want %v", b*48+i, got[b*48+i], want)
			}
		}
	}

	// Five blocks of 16×8 threads sum a grid-strided share each (small
	// integers: exact in any order).
	const sumN = 3000
	args.Reset()
	got = run("block_sum", Dim3{X: 5, Y: 1, Z: 1}, Dim3{X: 16, Y: 8, Z: 1}, args.Ptr(x).Ptr(y).Int32(sumN))
	want := make([]float32, 5)
	for i := range sumN {
		want[i%(5*128)/128] += h[i]
	}
	for b, w := range want {
		if got[b] != w {
			t.Errorf("block_sum: block %d = %v, want %v", b, got[b], w)
		}
	}

	args.Reset()
	got = run("lanes", Dim3{X: 1, Y: 1, Z: 1}, Dim3{X: 32, Y: 1, Z: 1}, args.Ptr(y))
	for l := range 32 {
		down, up := l+3, l-5
		if down >= 32 {
			down = l
		}
		if l%16 < 5 {
			up = l
		}
		apart, back := l^1, l
		if l >= 16 {
			apart, back = 16, l-16
		}
		for k, w := range []int{down, up, l&^7 + 7, l ^ 9, apart, back} {
			if got[32*k+l] != float32(w) {
				t.Errorf("lanes: shuffle %d, lane %d took %v, want lane %d's", k, l, got[32*k+l], w)
			}
		}
	}
}
