//go:build linux && cgo

package cuda

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadMissingLibrary(t *testing.T) {
	dir := t.TempDir()
	_, err := open(libSpec{names: []string{"libclockwork-missing.so.9", "libclockwork-missing.so.8"}},
		env(map[string]string{EnvLibDir: dir}))
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want *LoadError", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"cuda: libclockwork-missing.so.9 not found (also tried libclockwork-missing.so.8) (searched: ",
		"$" + EnvLibDir + "=" + dir + ", dynamic loader, /usr/local/cuda/lib64, ",
		"/usr/local/lib/python3*/dist-packages/nvidia/*/lib",
		"set " + EnvLibDir + " to its directory)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "$HOME") {
		t.Errorf("error %q lists a pattern of an unset variable", msg)
	}
}

func TestLoadBrokenLibrary(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "libclockwork-broken.so.1"), []byte("not an ELF file"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := open(libSpec{names: []string{"libclockwork-broken.so.1"}}, env(map[string]string{EnvLibDir: dir}))
	if err == nil || !strings.Contains(err.Error(), "cuda: libclockwork-broken.so.1 could not be loaded: ") ||
		!strings.Contains(err.Error(), filepath.Join(dir, "libclockwork-broken.so.1")) {
		t.Fatalf("err = %v, want a could-not-be-loaded error naming the file", err)
	}
}

// TestLoadLibraryWithUnboundSymbol opens a library that calls a function
// no library defines, as one built against another version of its
// dependency would: the open fails naming the symbol, where a lazy open
// succeeded and the process would have ended at the first call.
func TestLoadLibraryWithUnboundSymbol(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "unbound.c")
	code := "extern int clockwork_nowhere(void);\nint clockwork_call(void) { return clockwork_nowhere(); }\n"
	if err := os.WriteFile(src, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(dir, "libclockwork-unbound.so.1")
	if out, err := exec.Command("gcc", "-shared", "-fPIC", "-o", lib, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	_, err := open(libSpec{names: []string{"libclockwork-unbound.so.1"}}, env(map[string]string{EnvLibDir: dir}))
	if err == nil || !strings.Contains(err.Error(), "cuda: libclockwork-unbound.so.1 could not be loaded: ") ||
		!strings.Contains(err.Error(), "undefined symbol: clockwork_nowhere") {
		t.Fatalf("err = %v, want a could-not-be-loaded error naming the undefined symbol", err)
	}
}

func TestSearchPath(t *testing.T) {
	home := t.TempDir()
	wheel := filepath.Join(home, ".local/lib/python3.12/site-packages/nvidia/cudnn/lib")
	if err := os.MkdirAll(wheel, 0o755); err != nil {
		t.Fatal(err)
	}
	dirs, places := searchPath(env(map[string]string{EnvLibDir: "/opt/a::/opt/b/", "HOME": home}))
	if want := []string{"/opt/a", "/opt/b", loaderDir, fixedDirs[0]}; !slices.Equal(dirs[:4], want) {
		t.Errorf("dirs start %q, want %q", dirs[:4], want)
	}
	if !slices.Contains(dirs, wheel) {
		t.Errorf("dirs %q lack the wheel directory %s", dirs, wheel)
	}
	if places[0] != "$"+EnvLibDir+"=/opt/a::/opt/b/" || places[1] != "dynamic loader" {
		t.Errorf("places start %q", places[:2])
	}
	if slices.Contains(places, "$VIRTUAL_ENV/lib/python3*/site-packages/nvidia/*/lib") {
		t.Errorf("places %q list a pattern of an unset variable", places)
	}
	if d, _ := searchPath(env(nil)); d[0] != loaderDir {
		t.Errorf("without %s the loader comes first, got %q", EnvLibDir, d[0])
	}
}

// The toolkit's and the distribution's directories follow the
// architecture the binary was built for (a worker on a Grace Hopper looks
// in sbsa-linux and aarch64-linux-gnu).
func TestArchDirs(t *testing.T) {
	dirs := []string{"/usr/local/cuda/targets/$TARGET/lib", "/usr/lib/$MULTIARCH", "$HOME/lib"}
	for goarch, want := range map[string][]string{
		"amd64": {"/usr/local/cuda/targets/x86_64-linux/lib", "/usr/lib/x86_64-linux-gnu", "$HOME/lib"},
		"arm64": {"/usr/local/cuda/targets/sbsa-linux/lib", "/usr/local/cuda/targets/aarch64-linux/lib", "/usr/lib/aarch64-linux-gnu", "$HOME/lib"},
	} {
		if got := archDirs(goarch, dirs); !slices.Equal(got, want) {
			t.Errorf("archDirs(%s) = %q, want %q", goarch, got, want)
		}
	}
	for _, d := range append(slices.Clone(fixedDirs), globDirs...) {
		if strings.Contains(d, "$TARGET") || strings.Contains(d, "$MULTIARCH") {
			t.Errorf("%s: an architecture left unexpanded", d)
		}
	}
}

// Without the libraries (this machine), every call returns an error
// wrapping ErrNoSymbol and nothing calls a null pointer.
func TestCallsWithoutLibraries(t *testing.T) {
	if _, err := LoadDriver(); err == nil {
		t.Skip("libcuda.so.1 is installed")
	} else {
		t.Logf("LoadDriver: %v", err)
	}
	var s Stream
	var e Event
	var g GraphExec
	for name, err := range map[string]error{
		"Init":          Init(),
		"MemAlloc":      func() error { _, err := MemAlloc(1); return err }(),
		"NewStream":     func() error { _, err := NewStream(StreamNonBlocking, 0); return err }(),
		"EventQuery":    func() error { _, err := e.Query(); return err }(),
		"GraphLaunch":   g.Launch(s),
		"MemcpyHtoD":    MemcpyHtoDAsync(0, nil, 0, s),
		"KernelLaunch":  Function{}.Launch(Dim3{1, 1, 1}, Dim3{1, 1, 1}, 0, s, new(KernelArgs).Int32(1)),
		"GraphUpdate":   func() error { _, err := g.Update(Graph{}); return err }(),
		"ElapsedTime":   func() error { _, err := ElapsedTime(e, e); return err }(),
		"SetCtxFlags":   SetCurrentCtxFlags(CtxSchedSpin),
		"DeviceCount":   func() error { _, err := DeviceCount(); return err }(),
		"PrimaryRetain": func() error { _, err := Device(0).PrimaryCtxRetain(); return err }(),
	} {
		if !errors.Is(err, ErrNoSymbol) {
			t.Errorf("%s: err = %v, want ErrNoSymbol", name, err)
		}
	}
	if err := MemFree(0); err == nil || err.Error() != "cuda: cuMemFree: libcuda.so.1 is not loaded" {
		t.Errorf("MemFree: %v", err)
	}
}

func TestOtherLibrariesWithoutThem(t *testing.T) {
	if _, err := LoadCUDNN(); err == nil {
		t.Skip("libcudnn.so.9 is installed")
	} else if !strings.HasPrefix(err.Error(), "cuda: libcudnn.so.9 ") {
		t.Errorf("LoadCUDNN: %v", err)
	}
	if v := CUDNNVersion(); v != 0 {
		t.Errorf("CUDNNVersion = %d without cuDNN", v)
	}
	if _, err := NewDNN(); !errors.Is(err, ErrNoSymbol) {
		t.Errorf("NewDNN: %v", err)
	}
	if _, err := (DNN{}).FindConvolutionForwardAlgorithmEx(TensorDesc{}, 0, FilterDesc{}, 0, ConvDesc{}, TensorDesc{}, 0, 0, 0); !errors.Is(err, ErrNoSymbol) {
		t.Errorf("Find: %v", err)
	}
	if _, err := LoadCUBLAS(); err == nil {
		t.Skip("libcublas is installed")
	}
	if err := (BLAS{}).Sgemm(OpT, OpN, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0, 1); !errors.Is(err, ErrNoSymbol) {
		t.Errorf("Sgemm: %v", err)
	}
	if _, err := LoadNVRTC(); err == nil {
		t.Skip("libnvrtc is installed")
	}
	if _, err := CompileCUBIN("", "x", 9, 0); !errors.Is(err, ErrNoSymbol) {
		t.Errorf("CompileCUBIN: %v", err)
	}
	if _, err := LoadNVML(); err == nil {
		t.Skip("libnvidia-ml.so.1 is installed")
	}
	if err := NVMLInit(); !errors.Is(err, ErrNoSymbol) {
		t.Errorf("NVMLInit: %v", err)
	}
	if _, err := (NVMLDevice{}).Clock(ClockSM); !errors.Is(err, ErrNoSymbol) {
		t.Errorf("Clock: %v", err)
	}
}

func TestKernelArgsLayout(t *testing.T) {
	var a KernelArgs
	a.Ptr(0x1122334455667788).Int32(-1).Float32(1.5).Ptr(1).Uint32(2)
	want := []uint{0, 8, 12, 16, 24}
	for i, o := range a.offsets {
		if uint(o) != want[i] {
			t.Fatalf("offsets = %v, want %v", a.offsets, want)
		}
	}
	if len(a.buf) != 28 || a.buf[0] != 0x88 || a.buf[7] != 0x11 || a.buf[8] != 0xff {
		t.Fatalf("buf = % x", a.buf)
	}
	a.Reset()
	if len(a.buf) != 0 || len(a.offsets) != 0 {
		t.Fatal("Reset left arguments")
	}
}

func TestNames(t *testing.T) {
	for got, want := range map[string]string{
		AlgoWinogradNonfused.String():    "WINOGRAD_NONFUSED",
		ConvFwdAlgo(42).String():         "algo 42",
		UpdateTopologyChanged.String():   "topology changed",
		MathFMA.String():                 "fma",
		ComputeExclusiveProcess.String(): "Exclusive_Process",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	for a := range convFwdAlgoCount {
		if b, ok := ParseConvFwdAlgo(a.String()); !ok || b != a {
			t.Errorf("ParseConvFwdAlgo(%q) = %v, %v", a.String(), b, ok)
		}
	}
	if _, ok := ParseConvFwdAlgo("algo 42"); ok {
		t.Error(`ParseConvFwdAlgo("algo 42") is ok`)
	}
}
