//go:build linux && cgo

package fakecuda

import (
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/clockwork-go/clockwork/internal/cuda"
)

// emuSource exercises what kernelemu.h emulates: a block-wide barrier
// over a partial warp, a 3-D block and a 2-D grid, shuffles of every kind
// with widths below 32, lanes of one warp shuffling apart, a reduction as
// the runtime's kernels write them, a kernel declared before its
// definition; and, launched alone, kernels that hang or misuse shuffles
// on a GPU.
const emuSource = `
extern "C" __global__ void rotate(const float *x, float *y); // declared before its definition

extern "C" __global__ void rotate(const float *x, float *y) {
	__shared__ float buf[1024];
	const int n = blockDim.x * blockDim.y * blockDim.z;
	const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
	const int base = (blockIdx.x + gridDim.x * blockIdx.y) * n;
	buf[t] = x[base + t];
	__syncthreads();
	y[base + t] = buf[(t + 1) % n];
}

extern "C" __global__ void racy(const float *x, float *y) {
	__shared__ float buf[1024];
	const int n = blockDim.x, t = threadIdx.x, base = blockIdx.x * n;
	buf[t] = x[base + t];
	y[base + t] = buf[(t + n - 1) % n]; // no __syncthreads
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
	if (l < 16) {
		y[128 + l] = __shfl_xor_sync(0x0000ffffu, v, 1);
		y[160 + l] = __shfl_sync(0x0000ffffu, v, 20);
	} else {
		y[128 + l] = __shfl_sync(0xffff0000u, v, 16);
		y[160 + l] = v;
	}
}

extern "C" __global__ void deadlock(float *y) {
	float v = (float)threadIdx.x;
	if (threadIdx.x < 16) __syncthreads();
	else v = __shfl_xor_sync(0xffffffffu, v, 1);
	y[threadIdx.x] = v;
}

extern "C" __global__ void left_waiting(float *y) {
	if (threadIdx.x == 3) return;
	y[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.f, 1);
}

extern "C" __global__ void ended_lane(float *y) {
	if (threadIdx.x == 0) return;
	__syncthreads();
	y[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.f, 1);
}

extern "C" __global__ void own_lane(float *y) {
	y[threadIdx.x] = __shfl_xor_sync(1u << ((threadIdx.x + 1) & 31), 1.f, 1);
}
`

// needCXX skips t where there is no C++ compiler for the kernels' source.
func needCXX(t *testing.T) {
	t.Helper()
	cxx := os.Getenv("FAKECUDA_CXX")
	if cxx == "" {
		cxx = "g++"
	}
	if _, err := exec.LookPath(cxx); err != nil {
		t.Skipf("no %s to compile kernel source with", cxx)
	}
}

// TestKernelSource runs emuSource's kernels from their source
// (FAKECUDA_KERNELS=source) in a fresh process.
func TestKernelSource(t *testing.T) {
	needCXX(t)
	out, err := RunTests(t, "^TestKernelSourceChild$", "FAKECUDA_KERNELS=source", "FAKECUDA_CHILD=1")
	if err != nil || !strings.Contains(string(out), "--- PASS: TestKernelSourceChild") {
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestKernelSourceFailures launches, each in a fresh process, a kernel
// that would hang or read undefined values on a GPU, and checks that the
// fake stops with what went wrong.
func TestKernelSourceFailures(t *testing.T) {
	needCXX(t)
	for _, tc := range []struct{ kernel, want string }{
		{"deadlock", "block (0,0,0) deadlocks: 16 threads wait at __syncthreads, 16 in a warp shuffle, 0 ended"},
		{"left_waiting", "thread (3,0,0) of block (0,0,0) ended while lanes wait for it in a shuffle with mask 0xffffffff"},
		{"ended_lane", "thread (1,0,0) of block (0,0,0) shuffles with a mask naming lanes that have ended: 0x1"},
		{"own_lane", "thread (0,0,0) of block (0,0,0) shuffles with a mask that leaves out its own lane: 0x2"},
	} {
		t.Run(tc.kernel, func(t *testing.T) {
			out, err := RunTests(t, "^TestKernelSourceChild$", "FAKECUDA_KERNELS=source", "FAKECUDA_CHILD=1",
				"FAKECUDA_BAD="+tc.kernel)
			if err == nil || !strings.Contains(string(out), "fakecuda: kernel "+tc.kernel+": "+tc.want) {
				t.Fatalf("want the process stopped with %q; %v\n%s", tc.want, err, out)
			}
		})
	}
}

func TestKernelSourceChild(t *testing.T) {
	if os.Getenv("FAKECUDA_CHILD") == "" {
		t.Skip("run by TestKernelSource")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, load := range []func() (*cuda.Library, error){cuda.LoadDriver, cuda.LoadNVRTC} {
		if _, err := load(); err != nil {
			t.Fatal(err)
		}
	}
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	check(cuda.Init())
	d, err := cuda.GetDevice(0)
	check(err)
	ctx, err := d.PrimaryCtxRetain()
	check(err)
	check(ctx.SetCurrent())
	s, err := cuda.NewStream(0, 0)
	check(err)
	cubin, err := cuda.CompileCUBIN(emuSource, "emu.cu", 8, 0)
	check(err)
	mod, err := cuda.ModuleLoadData(cubin)
	check(err)
	defer mod.Unload()
	const n = 4096
	host, err := cuda.MemHostAlloc(4*n, cuda.HostAllocPortable)
	check(err)
	defer host.Free()
	x, err := cuda.MemAlloc(4 * n)
	check(err)
	y, err := cuda.MemAlloc(4 * n)
	check(err)
	h := host.Float32s()
	run := func(name string, grid, block cuda.Dim3, args *cuda.KernelArgs) []float32 {
		t.Helper()
		fn, err := mod.Function(name)
		check(err)
		check(cuda.MemcpyHtoDAsync(x, host.Ptr(0), 4*n, s))
		check(cuda.MemsetD32Async(y, 0, n, s))
		check(fn.Launch(grid, block, 0, s, args))
		out := make([]float32, n)
		check(cuda.MemcpyDtoHAsync(unsafe.Pointer(&out[0]), y, 4*n, s))
		check(s.Synchronize())
		return out
	}
	if bad := os.Getenv("FAKECUDA_BAD"); bad != "" {
		var args cuda.KernelArgs
		run(bad, cuda.Dim3{X: 1, Y: 1, Z: 1}, cuda.Dim3{X: 32, Y: 1, Z: 1}, args.Ptr(y))
		t.Fatalf("%s ran to its end", bad)
	}
	for i := range h {
		h[i] = float32(i % 7)
	}

	// Blocks of 4×3×4 threads (a warp and a half) in a grid of 2×3: each
	// takes its right neighbour's value through shared memory.
	var args cuda.KernelArgs
	got := run("rotate", cuda.Dim3{X: 2, Y: 3, Z: 1}, cuda.Dim3{X: 4, Y: 3, Z: 4}, args.Ptr(x).Ptr(y))
	for b := range 6 {
		for i := range 48 {
			if want := h[b*48+(i+1)%48]; got[b*48+i] != want {
				t.Fatalf("rotate: y[%d] = %v, want %v", b*48+i, got[b*48+i], want)
			}
		}
	}

	// Without a barrier, a thread's left neighbour has not yet written in
	// a block whose threads run backwards.
	args.Reset()
	got = run("racy", cuda.Dim3{X: 2, Y: 1, Z: 1}, cuda.Dim3{X: 64, Y: 1, Z: 1}, args.Ptr(x).Ptr(y))
	stale := 0
	for i := 64; i < 128; i++ {
		if got[i] != h[64+(i+63)%64] {
			stale++
		}
	}
	if stale < 32 {
		t.Errorf("racy: %d of the second block's 64 threads read their left neighbour's value before it was written, want most", stale)
	}

	// Five blocks of 16×8 threads sum a grid-strided share each.
	const sumN = 3000
	args.Reset()
	got = run("block_sum", cuda.Dim3{X: 5, Y: 1, Z: 1}, cuda.Dim3{X: 16, Y: 8, Z: 1}, args.Ptr(x).Ptr(y).Int32(sumN))
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
	got = run("lanes", cuda.Dim3{X: 1, Y: 1, Z: 1}, cuda.Dim3{X: 32, Y: 1, Z: 1}, args.Ptr(y))
	for l := range 32 {
		down, up := l+3, l-5
		if down >= 32 {
			down = l
		}
		if l%16 < 5 {
			up = l
		}
		apart := l ^ 1
		if l >= 16 {
			apart = 16
		}
		for k, w := range []int{down, up, l&^7 + 7, l ^ 9, apart} {
			if got[32*k+l] != float32(w) {
				t.Errorf("lanes: shuffle %d, lane %d took %v, want lane %d's", k, l, got[32*k+l], w)
			}
		}
		if outside := got[160+l]; l < 16 && math.Float32bits(outside) != math.MaxUint32 || l >= 16 && outside != float32(l) {
			t.Errorf("lanes: lane %d took %v (%#x) from a lane outside the mask, want all bits set", l, outside,
				math.Float32bits(outside))
		}
	}

	// A kernel whose parameters are not its twin's is refused.
	bad, err := cuda.CompileCUBIN(`extern "C" __global__ void scale(float *x, int n) { x[n] = 0.f; }`, "scale.cu", 8, 0)
	check(err)
	m2, err := cuda.ModuleLoadData(bad)
	check(err)
	defer m2.Unload()
	if _, err := m2.Function("scale"); err == nil {
		t.Error("scale(float *, int), whose twin takes (float *, int, float), was found")
	}
}
