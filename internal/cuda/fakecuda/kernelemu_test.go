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

// emuSource exercises what is the emulator's own (what CUDA defines, it
// checks against a GPU: internal/cuda's TestGPUWarpsAndBarriers): a
// missing barrier shown by the reversed order, a read outside a shuffle's
// mask, a kernel declared before its definition; and, launched alone,
// kernels that hang or misuse shuffles on a GPU.
const emuSource = `
extern "C" __global__ void racy(const float *x, float *y); // declared before its definition

extern "C" __global__ void racy(const float *x, float *y) {
	__shared__ float buf[1024];
	const int n = blockDim.x, t = threadIdx.x, base = blockIdx.x * n;
	buf[t] = x[base + t];
	y[base + t] = buf[(t + n - 1) % n]; // no __syncthreads
}

extern "C" __global__ void outside(float *y) {
	const int l = threadIdx.x;
	y[l] = l < 16 ? __shfl_sync(0x0000ffffu, (float)l, 20) : (float)l;
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

	// Without a barrier, a thread's left neighbour has not yet written in
	// a block whose threads run backwards.
	var args cuda.KernelArgs
	got := run("racy", cuda.Dim3{X: 2, Y: 1, Z: 1}, cuda.Dim3{X: 64, Y: 1, Z: 1}, args.Ptr(x).Ptr(y))
	stale := 0
	for i := 64; i < 128; i++ {
		if got[i] != h[64+(i+63)%64] {
			stale++
		}
	}
	if stale < 32 {
		t.Errorf("racy: %d of the second block's 64 threads read their left neighbour's value before it was written, want most", stale)
	}

	args.Reset()
	got = run("outside", cuda.Dim3{X: 1, Y: 1, Z: 1}, cuda.Dim3{X: 32, Y: 1, Z: 1}, args.Ptr(y))
	for l, v := range got[:32] {
		if l < 16 && math.Float32bits(v) != math.MaxUint32 || l >= 16 && v != float32(l) {
			t.Errorf("outside: lane %d took %v (%#x) from a lane outside the mask, want all bits set", l, v, math.Float32bits(v))
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
