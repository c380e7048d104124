//go:build linux && cgo

package cuda

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// clangPrelude declares what NVRTC predefines and kernelSource uses, for
// clang's CUDA front end without a CUDA installation.
const clangPrelude = `#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __launch_bounds__(...) __attribute__((launch_bounds(__VA_ARGS__)))
#include <__clang_cuda_builtin_vars.h>
__device__ float fminf(float, float);
__device__ float fmaxf(float, float);
__device__ float __shfl_down_sync(unsigned mask, float v, unsigned delta, int width = 32);
__device__ float __shfl_xor_sync(unsigned mask, float v, int lane, int width = 32);
__device__ float __int_as_float(int);
__device__ float expf(float);
__device__ float tanhf(float);
__device__ float erff(float);
__device__ float sqrtf(float);
__device__ float powf(float, float);
__device__ float logf(float);
__device__ float fabsf(float);
__device__ float expm1f(float);
__device__ float log1pf(float);
__device__ float floorf(float);
__device__ float ceilf(float);
__device__ float rintf(float);
__device__ float sinf(float);
__device__ float cosf(float);
`

// TestKernelSourceCompiles compiles kernelSource to PTX with clang's CUDA
// front end, where a clang is installed (.ci/run installs one): NVRTC
// compiles it only on a GPU host, at worker start-up, so an error there
// would otherwise stop every worker before any test saw it. It also checks
// that the kernels the runtime loads are the source's entry points.
func TestKernelSourceCompiles(t *testing.T) {
	var clang string
	for _, name := range []string{"clang", "clang-19", "clang-18", "clang-17", "clang-16", "clang-15", "clang-14"} {
		if p, err := exec.LookPath(name); err == nil {
			clang = p
			break
		}
	}
	if clang == "" {
		t.Skip("no clang to compile CUDA with")
	}
	dir := t.TempDir()
	prelude, src, ptx := filepath.Join(dir, "prelude.h"), filepath.Join(dir, "kernels.cu"), filepath.Join(dir, "kernels.ptx")
	if err := os.WriteFile(prelude, []byte(clangPrelude), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(src, []byte(kernelSource), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(clang, "-x", "cuda", "--cuda-device-only", "--cuda-gpu-arch=sm_80", "-nocudainc", "-nocudalib",
		"-include", prelude, "-Wall", "-Wextra", "-Werror", "-S", "-o", ptx, src).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", clang, err, out)
	}
	b, err := os.ReadFile(ptx)
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for _, m := range regexp.MustCompile(`\.entry (\w+)\(`).FindAllSubmatch(b, -1) {
		entries = append(entries, string(m[1]))
	}
	for _, f := range (&kernels{}).funcs() {
		if !slices.Contains(entries, f.name) {
			t.Errorf("kernel %s is not an entry point of the compiled source (entries: %v)", f.name, entries)
		}
	}
}

// TestKernelCodes checks that the kernels' act function has a case for
// every activation, its ActKind value, and none beyond, and that the
// binary kernel's op codes are engine's.
func TestKernelCodes(t *testing.T) {
	body := kernelSource[strings.Index(kernelSource, "float act("):]
	body = body[:strings.Index(body, "\n}\n")]
	k := engine.ActRelu
	for ; !strings.HasPrefix(k.String(), "ActKind("); k++ {
		if !strings.Contains(body, fmt.Sprintf("case %d:", k)) {
			t.Errorf("activation %s (%d) has no case in the kernels' act function", k, k)
		}
	}
	if strings.Contains(body, fmt.Sprintf("case %d:", k)) {
		t.Errorf("the kernels' act function has a case %d, which no activation has", k)
	}
	if engine.Add != 0 || engine.Mul != 1 || engine.Sub != 2 || engine.Div != 3 || engine.Max != 4 || engine.Min != 5 {
		t.Errorf("binary ops add %d, mul %d, sub %d, div %d, max %d, min %d: the binary kernel's codes are 0 to 5",
			engine.Add, engine.Mul, engine.Sub, engine.Div, engine.Max, engine.Min)
	}
}
