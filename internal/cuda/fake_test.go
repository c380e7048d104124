//go:build linux && cgo

package cuda

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/cuda/fakecuda"
)

// TestFakeLibraries builds stand-ins for libcuda.so.1 and libcudnn.so.9
// with gcc and runs TestFakeLibrariesChild against them in a fresh
// process, so that this process's libraries stay untouched.
func TestFakeLibraries(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	if _, err := os.Stat("testdata/fakecuda.c"); err != nil {
		t.Skipf("sources of the fakes not found: %v", err)
	}
	dir := t.TempDir()
	for _, c := range [][]string{
		{"-o", filepath.Join(dir, "libcuda.so.1"), "testdata/fakecuda.c"},
		{"-o", filepath.Join(dir, "libcudnn_graph.so.9"), "-Wl,-soname,libcudnn_graph.so.9", "testdata/fakecudnn_graph.c"},
		{"-o", filepath.Join(dir, "libcudnn.so.9"), "testdata/fakecudnn.c", filepath.Join(dir, "libcudnn_graph.so.9")},
	} {
		if out, err := exec.Command("gcc", append([]string{"-shared", "-fPIC"}, c...)...).CombinedOutput(); err != nil {
			t.Fatalf("gcc %v: %v\n%s", c, err, out)
		}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFakeLibrariesChild$", "-test.v")
	cmd.Env = append(os.Environ(), "CW_FAKE_LIB_DIR="+dir, EnvLibDir+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestFakeLibrariesChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
}

func TestFakeLibrariesChild(t *testing.T) {
	dir := os.Getenv("CW_FAKE_LIB_DIR")
	if dir == "" {
		t.Skip("run by TestFakeLibraries")
	}
	lib, err := LoadDriver()
	if err != nil {
		t.Fatal(err)
	}
	if lib.Path != filepath.Join(dir, "libcuda.so.1") || lib.Name != "libcuda.so.1" {
		t.Errorf("library = %+v", lib)
	}
	if len(lib.Missing) == 0 || !strings.Contains(strings.Join(lib.Missing, " "), "cuCtxSetFlags") {
		t.Errorf("Missing = %v, want cuCtxSetFlags among them", lib.Missing)
	}
	if err := Init(); err != nil {
		t.Error(err)
	}
	if v, err := DriverVersion(); v != 13000 || err != nil {
		t.Errorf("DriverVersion = %d, %v", v, err)
	}

	_, err = MemAlloc(1 << 40)
	var ce *Error
	if !errors.As(err, &ce) || ce.Code != 2 ||
		err.Error() != "cuda: cuMemAlloc: CUDA_ERROR_OUT_OF_MEMORY: out of memory" {
		t.Errorf("MemAlloc(1 TiB) err = %v", err)
	}
	err = SetCurrentCtxFlags(CtxSchedSpin)
	if !errors.Is(err, ErrNoSymbol) || err.Error() != "cuda: cuCtxSetFlags: not in "+lib.Path {
		t.Errorf("SetCurrentCtxFlags err = %v", err)
	}

	var polls int
	for done := false; !done; polls++ {
		if done, err = (Event{}).Query(); err != nil {
			t.Fatal(err)
		}
	}
	if polls != 3 {
		t.Errorf("event completed after %d polls, want 3", polls)
	}

	var args KernelArgs
	launch := func() error {
		args.Reset()
		args.Ptr(0xdeadbeef).Int32(7).Float32(1.5).Ptr(0x2000)
		return Function{}.Launch(Dim3{2, 1, 1}, Dim3{128, 1, 1}, 0, Stream{}, &args)
	}
	if err := launch(); err != nil {
		t.Errorf("Launch: %v", err)
	}
	// The serving path allocates nothing.
	for name, f := range map[string]func() error{
		"MemAlloc":     func() error { _, err := MemAlloc(64); return err },
		"Event.Query":  func() error { _, err := (Event{}).Query(); return err },
		"Graph.Launch": func() error { return (GraphExec{}).Launch(Stream{}) },
		"Kernel":       launch,
	} {
		allocs := testing.AllocsPerRun(100, func() {
			if err := f(); err != nil {
				t.Fatal(name, err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, allocs)
		}
	}

	r := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
			(Event{}).Query()
		}
	})
	t.Logf("Event.Query through the shim: %d ns/call", r.NsPerOp())

	dnn, err := LoadCUDNN()
	if err != nil {
		t.Fatalf("LoadCUDNN: %v", err)
	}
	if len(dnn.Preloaded) != 1 || dnn.Preloaded[0] != "libcudnn_graph.so.9" {
		t.Errorf("Preloaded = %v, want [libcudnn_graph.so.9]", dnn.Preloaded)
	}
	if v := CUDNNVersion(); v != 91400 {
		t.Errorf("CUDNNVersion = %d", v)
	}
	if _, err := NewDNN(); err == nil ||
		err.Error() != "cuda: cudnnCreate: CUDNN_STATUS_NOT_INITIALIZED: fake detail" {
		t.Errorf("NewDNN err = %v", err)
	}
	if err := (DNN{}).SetStream(Stream{}); !errors.Is(err, ErrNoSymbol) {
		t.Errorf("SetStream err = %v", err)
	}
}

// TestFakeCUDARunsGPUTests runs the tests that need a GPU against fakecuda, a
// CPU stand-in for the NVIDIA libraries, in a fresh process.
func TestFakeCUDARunsGPUTests(t *testing.T) {
	if fakecuda.EnvLibDir != EnvLibDir {
		t.Fatalf("fakecuda.EnvLibDir %q, want %q", fakecuda.EnvLibDir, EnvLibDir)
	}
	out, err := fakecuda.RunTestsSkipping(t, "^TestGPU", "^TestGPUWarpsAndBarriers$")
	if err != nil || strings.Contains(string(out), "--- SKIP") {
		t.Fatalf("GPU tests on fakecuda: %v\n%s", err, out)
	}
	t.Logf("\n%s", out)
}

// TestFakeCUDARunsGPUTestsOnSource runs them again with the fake running
// kernels from their source (FAKECUDA_KERNELS=source), as a GPU does,
// TestGPUWarpsAndBarriers among them.
func TestFakeCUDARunsGPUTestsOnSource(t *testing.T) {
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("no g++ to compile kernel source with")
	}
	out, err := fakecuda.RunTests(t, "^TestGPU", "FAKECUDA_KERNELS=source")
	if err != nil || strings.Contains(string(out), "--- SKIP") || !strings.Contains(string(out), "--- PASS: TestGPUWarpsAndBarriers") {
		t.Fatalf("GPU tests on fakecuda, kernels from their source: %v\n%s", err, out)
	}
	t.Logf("\n%s", out)
}
