// Package fakecuda builds a stand-in for the NVIDIA libraries that package
// cuda loads (the driver API, cuDNN, cuBLAS, NVRTC and NVML) which runs on
// the CPU, so that code using package cuda can be tested end to end on
// machines without a GPU.
//
// Device memory is host memory and work runs when it is queued, but the
// fake keeps the rules of the real libraries that code can get wrong: the
// driver must be initialised and a context current on the calling thread;
// allocating or synchronising during a stream capture fails; captured
// graphs replay the recorded work with the parameters of capture time and
// cuGraphExecUpdate accepts only graphs of the same shape; cuBLAS cannot
// be captured without a workspace, and cublasSetStream drops it; cuDNN
// checks descriptors, workspace sizes and the activations that
// cudnnConvolutionBiasActivationForward supports. Each stream has a virtual
// GPU clock that work advances by a modelled duration (50 GB/s for host
// copies, 20 TMAC/s for convolutions and GEMMs), so event timings are
// deterministic.
//
// FAKECUDA_DEVICES=N (1 to 8; default 1) gives the fake N GPUs, each with
// its primary context and NVML device; a stream belongs to the context it
// was made in, and any work queued on it with another context current
// fails (real GPUs refuse only kernel launches so), so that code driving
// several GPUs is tested on machines with none.
//
// FAKECUDA_FAULT=D[@CODE]:PATH breaks GPU D at its first graph launch once
// the file PATH exists (a test writes it when it wants the fault), as a
// kernel that faults does: the next call that synchronises fails with CODE
// (default 700, an illegal address), and so does every later call in D's
// context. Codes 701 and 720 are refused by that launch itself, once, and
// break nothing, as a GPU refuses a launch out of resources.
//
// The fake NVRTC "compiles" any source with a __global__ function; its
// cubins run the kernels the fake has CPU twins of, found by name:
// global_avg_pool(const float *x, float *y, int planes, int hw, float
// scale, int take_max), one warp per plane; scale(float *x, int n, float k), one thread
// per element; and the CUDA runtime's kernels (internal/runtime/cuda/kernels.go),
// whose parameter lists the twins in csrc/fakecuda.c must match.
//
// FAKECUDA_KERNELS=source runs the kernels' CUDA source itself instead
// of the twins: the fake NVRTC compiles it with the host's C++ compiler
// (g++, or FAKECUDA_CXX) and csrc/kernelemu.h, which runs each GPU thread
// as a fiber so that barriers, shared memory and warp shuffles work as
// CUDA defines them, and which reports a deadlock at a barrier or a
// shuffle with ended lanes. Tests then check the very code a GPU compiles,
// not a twin written apart from it. The compiled source is kept in the
// library's directory for later processes.
package fakecuda

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

//go:embed csrc/fakecuda.c
var source []byte

//go:embed csrc/kernelemu.h
var emulator []byte

// Libraries are the sonames the fake stands for.
var Libraries = []string{"libcuda.so.1", "libnvidia-ml.so.1", "libcudnn.so.9", "libcublas.so.13", "libnvrtc.so.13"}

// Build compiles the fake with gcc into dir and links each name of
// Libraries to it; point CLOCKWORK_CUDA_LIB_DIR at dir, in a process that
// has not loaded the libraries yet.
func Build(dir string) error {
	src := filepath.Join(dir, "fakecuda.c")
	if err := os.WriteFile(src, source, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "kernelemu.h"), emulator, 0o644); err != nil {
		return err
	}
	lib := filepath.Join(dir, "libfakecuda.so")
	out, err := exec.Command("gcc", "-shared", "-fPIC", "-O2", "-o", lib, src, "-lm", "-lpthread", "-ldl").CombinedOutput()
	if err != nil {
		return fmt.Errorf("fakecuda: gcc: %v\n%s", err, out)
	}
	for _, name := range Libraries {
		if err := os.Symlink("libfakecuda.so", filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// EnvLibDir is the variable package cuda finds its libraries by
// (cuda.EnvLibDir, which a test of package cuda checks this against:
// fakecuda cannot import cuda, whose tests use fakecuda).
const EnvLibDir = "CLOCKWORK_CUDA_LIB_DIR"

// TB is what RunTests needs of a test (*testing.T).
type TB interface {
	Helper()
	Skip(args ...any)
	Fatal(args ...any)
	TempDir() string
}

// RunTests runs the tests of the running test binary that match pattern
// (-test.run) in a fresh process whose libraries are the fake, built in a
// temporary directory, with env added to its environment, and returns the
// process's output and its error. It skips t where EnvLibDir is set
// already (the tests then run on the libraries it names) and where there
// is no gcc.
func RunTests(t TB, pattern string, env ...string) ([]byte, error) {
	t.Helper()
	return RunTestsSkipping(t, pattern, "", env...)
}

// RunTestsSkipping is RunTests leaving out the tests that match skip
// (-test.skip), where it is not empty.
func RunTestsSkipping(t TB, pattern, skip string, env ...string) ([]byte, error) {
	t.Helper()
	if os.Getenv(EnvLibDir) != "" {
		t.Skip("a library directory is set")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	dir := t.TempDir()
	if err := Build(dir); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run="+pattern, "-test.skip="+skip, "-test.v")
	cmd.Env = append(append(os.Environ(), EnvLibDir+"="+dir), env...)
	return cmd.CombinedOutput()
}
