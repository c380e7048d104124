//go:build linux && cgo

package cuda

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/clockwork-go/clockwork/internal/clock"
	cu "github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/cuda/fakecuda"
	"github.com/clockwork-go/clockwork/internal/engine"
	onnxref "github.com/clockwork-go/clockwork/internal/engine/reference"
	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/onnx"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/cpu"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// testPage is the page size of the tests: the smallest a GPU maps (the
// allocation granularity, 2 MiB on Hopper), so that the MLP's weights span
// two pages.
const testPage = 2 << 20

// smallConfig is a runtime configuration small enough for every test: a
// cache of 4 test pages, IO, workspace and host IO pools of 16 MiB, one
// profiling page, measuring at Load. Tests change what they are about.
func smallConfig(log io.Writer) Config {
	return Config{PageSize: testPage, WeightsCacheSize: 4 * testPage, IOPoolSize: 16 << 20, WorkspacePoolSize: 16 << 20,
		HostIOPoolSize: 16 << 20, Measure: true, ProfilePages: 1, Log: log}
}

// openRuntime opens the CUDA runtime with cfg, closed when the test ends,
// or skips the test where there is no GPU (or fake).
func openRuntime(t *testing.T, cfg Config) *Runtime {
	t.Helper()
	rt, err := New(cfg)
	if err != nil {
		t.Skipf("no CUDA runtime: %v", err)
	}
	t.Cleanup(func() {
		if err := rt.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return rt
}

// span is the n pages from first on.
func span(first, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = first + i
	}
	return out
}

// TestFakeCUDA runs the TestGPU tests in a fresh process against
// fakecuda, the CPU stand-in for the NVIDIA libraries, with two fake GPUs
// (on a GPU host they also run directly, on the GPUs there).
//
// It, TestFakeCUDAKernelSource and TestFakeCUDAFault run side by side:
// each child leaves much of a core idle (its fake GPUs' waits), and the
// package alone took 224 s under -race one after another (-parallel 1),
// 98 s so.
func TestFakeCUDA(t *testing.T) {
	t.Parallel()
	out, err := fakecuda.RunTests(t, "^TestGPU", "FAKECUDA_DEVICES=2")
	if err != nil || strings.Contains(string(out), "--- SKIP") || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("GPU tests on fakecuda: %v\n%s", err, out)
	}
	t.Logf("\n%s", out)
}

// sourceSkipped are the TestGPU tests TestFakeCUDAKernelSource leaves out:
// they test the runtime's copies, gates, waits, pools and choices rather
// than operators, and run long there (TestGPUModels 76 s, TestGPUGates
// 61 s on the 2-core machine), or, for TestGPUGemmModes, launch gemm_rows
// over 4,112 columns, whose 80 shuffles a thread take minutes as fibers
// (TestGPUGemmRowsPaths, 24 s there, runs its paths with few columns).
// The operator tests it runs launch every kernel of kernelSource.
const sourceSkipped = `^TestGPU(Models|Gates|HostInput|Copies|ServingPathAllocations|EvictedSetReused|RemapWaitsForExec|` +
	`SpinningWaits|TF32|ChoicesFile|GemmModes|EveryDevice|Errors|WorkspaceShort)$`

// TestFakeCUDAKernelSource runs the operator tests of TestFakeCUDA with
// fakecuda running kernelSource itself (FAKECUDA_KERNELS=source: compiled
// with g++ and run a fiber per GPU thread) instead of its CPU twins, so
// that what they check is the code NVRTC compiles on a GPU host.
func TestFakeCUDAKernelSource(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("no g++ to compile the kernels' source with")
	}
	out, err := fakecuda.RunTestsSkipping(t, "^TestGPU", sourceSkipped, "FAKECUDA_DEVICES=2", "FAKECUDA_KERNELS=source")
	if err != nil || strings.Contains(string(out), "--- SKIP") || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("GPU tests on fakecuda, kernels from their source: %v\n%s", err, out)
	}
	t.Logf("\n%s", out)
}

// newTestRuntime opens the CUDA runtime, or skips the test where there is
// no GPU (or fake).
func newTestRuntime(t *testing.T, tf32 bool) *Runtime {
	t.Helper()
	return newRuntimeWith(t, func(cfg *Config) { cfg.TF32 = tf32 })
}

// newRuntimeWith opens the CUDA runtime of newTestRuntime, with tf32 off,
// as set changes its configuration.
func newRuntimeWith(t *testing.T, set func(*Config)) *Runtime {
	t.Helper()
	var log bytes.Buffer
	cfg := smallConfig(&log)
	cfg.WeightsCacheSize, cfg.WorkspacePoolSize, cfg.ProfilePages = 16*testPage, 64<<20, 2
	cfg.Verbose = true
	set(&cfg)
	rt := openRuntime(t, cfg)
	t.Cleanup(func() {
		t.Logf("log:\n%s", log.String())
	})
	if !strings.HasPrefix(log.String(), "Using CUDA Driver ") {
		t.Errorf("start-up line %q", log.String())
	}
	return rt
}

// load loads model name of the zoo with batch sizes up to maxBatch, closed
// when the test ends (before the runtime of newTestRuntime).
func load(t *testing.T, rt *Runtime, name string, maxBatch int) runtime.Model {
	t.Helper()
	return loadPath(t, rt, zoo(t, name), maxBatch)
}

// loadPath loads the model at path likewise.
func loadPath(t *testing.T, rt *Runtime, path string, maxBatch int) runtime.Model {
	t.Helper()
	return loadPaged(t, rt, path, maxBatch, testPage)
}

// loadPaged loads the model at path with weights pages of page bytes.
func loadPaged(t *testing.T, rt *Runtime, path string, maxBatch int, page uint64) runtime.Model {
	t.Helper()
	m, err := rt.Load(path, runtime.LoadOptions{MaxBatch: maxBatch, MaxExec: math.MaxUint64, PageSize: page})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// resident loads m's weights on GPU 0 into the first pages and returns
// them.
func resident(t *testing.T, m runtime.Model) []int {
	t.Helper()
	pages := span(0, m.Info().NumPages)
	if _, err := m.LoadWeights(0, pages, 0); err != nil {
		t.Fatal(err)
	}
	return pages
}

// zoo generates models into a directory shared by the tests.
func zoo(t *testing.T, name string) string {
	t.Helper()
	path, err := modelgen.Write(t.TempDir(), name)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// writeModel writes b's model to dir/model.onnx and returns the model
// path prefix.
func writeModel(t *testing.T, dir string, b *modelgen.Builder) string {
	t.Helper()
	data, err := proto.Marshal(b.Model())
	if err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(dir, "model")
	if err := os.WriteFile(prefix+".onnx", data, 0o644); err != nil {
		t.Fatal(err)
	}
	return prefix
}

// convNode adds a convolution of x with a bias and weights of He's scale.
func convNode(b *modelgen.Builder, x string, cin, cout, kh, kw, groups int, attrs ...*onnx.AttributeProto) string {
	name := b.Fresh("conv")
	w := b.Normal(name+".weight", 0, math.Sqrt(2/float64(cin/groups*kh*kw)), cout, cin/groups, kh, kw)
	bias := b.Normal(name+".bias", 0, 0.1, cout)
	attrs = append(attrs, modelgen.Ints("kernel_shape", kh, kw), modelgen.Int("group", groups))
	return b.Node("Conv", []string{x, w, bias}, attrs...)
}

// flatNode adds x reshaped to [N, -1].
func flatNode(b *modelgen.Builder, x string) string {
	return b.Node("Reshape", []string{x, b.Int64s(b.Fresh("flat"), []int64{0, -1}, 2)})
}

// matchesCPUUpTo4 loads the model at path with batch sizes up to 4 on a
// test runtime and checks it against the CPU runtime at each (1e-4).
func matchesCPUUpTo4(t *testing.T, path string) {
	t.Helper()
	m := loadPath(t, newTestRuntime(t, false), path, 4)
	matchesCPU(t, m, newReference(t, path), resident(t, m), 1e-4, upTo4)
}

// batchCase is a batch size and the one it is padded to.
type batchCase struct{ batch, padded int }

// upTo4 are the cases of a model loaded with batch sizes up to 4.
var upTo4 = []batchCase{{1, 1}, {2, 2}, {3, 4}, {4, 4}}

// matchesCPU runs m with its weights in pages on GPU 0 at each case and
// checks its outputs against ref's within relative error tol.
func matchesCPU(t *testing.T, m runtime.Model, ref *reference, pages []int, tol float64, cases []batchCase) {
	t.Helper()
	for _, c := range cases {
		input := randomInput(uint64(c.batch), uint64(c.batch)*m.Info().InputSize)
		got, err := infer(m, 0, c.batch, c.padded, input, pages)
		if err != nil {
			t.Fatalf("batch %d: %v", c.batch, err)
		}
		want := ref.infer(t, c.batch, c.padded, input)
		if e := onnxref.RelErr(got, want); e > tol {
			t.Errorf("batch %d (padded %d): relative error %.3g against the CPU", c.batch, c.padded, e)
		}
	}
}

// reference runs the model on the CPU runtime.
type reference struct {
	m runtime.Model
}

func newReference(t *testing.T, path string) *reference {
	t.Helper()
	return newPagedReference(t, path, testPage, 64)
}

// newPagedReference is newReference with pages of page bytes, a cache of
// cached of them.
func newPagedReference(t *testing.T, path string, page uint64, cached int) *reference {
	t.Helper()
	rt, err := cpu.New(cpu.Config{PageSize: page, CacheBytes: uint64(cached) * page, SkipMeasure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	m, err := rt.Load(path, runtime.LoadOptions{MaxBatch: 16, MaxExec: math.MaxUint64, PageSize: page})
	if err != nil {
		t.Fatal(err)
	}
	pages := make([]int, m.Info().NumPages)
	for i := range pages {
		pages[i] = i
	}
	if _, err := m.LoadWeights(0, pages, 0); err != nil {
		t.Fatal(err)
	}
	return &reference{m: m}
}

func (r *reference) infer(t *testing.T, batch, padded int, input []byte) []byte {
	t.Helper()
	pages := make([]int, r.m.Info().NumPages)
	for i := range pages {
		pages[i] = i
	}
	out, err := infer(r.m, 0, batch, padded, input, pages)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// infer runs one Infer through the three stages.
func infer(m runtime.Model, gpu, batch, padded int, input []byte, pages []int) ([]byte, error) {
	io, _, err := m.CopyInput(gpu, batch, padded, input, clock.Now())
	if err != nil {
		return nil, err
	}
	defer m.Release(gpu, io)
	if _, err := m.Exec(gpu, io, pages, clock.Now()); err != nil {
		return nil, err
	}
	out := make([]byte, uint64(batch)*m.Info().OutputSize)
	_, err = m.CopyOutput(gpu, io, out, clock.Now())
	return out, err
}

func randomInput(seed uint64, n uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := uint64(0); i+4 <= n; i += 4 {
		binary.LittleEndian.PutUint32(b[i:], math.Float32bits(float32(r.Float64()*2-1)))
	}
	return b
}

// TestGPUModels loads the test models, runs every batch size (and a
// padded one) against the CPU runtime, moves the weights to other pages
// and checks the outputs again, bit for bit.
func TestGPUModels(t *testing.T) {
	rt := newTestRuntime(t, false)
	for _, name := range []string{"tinycnn", "mlp"} {
		t.Run(name, func(t *testing.T) {
			path := zoo(t, name)
			ref := newReference(t, path)
			m, err := rt.Load(path, runtime.LoadOptions{MaxBatch: 4, MaxExec: math.MaxUint64, PageSize: testPage})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			info := m.Info()
			if !slices.Equal(info.BatchSizes, []int{1, 2, 4}) || len(info.ExecTimes) != 3 || info.WeightsLoadTime == 0 {
				t.Errorf("info = %+v", info)
			}
			for _, ns := range info.ExecTimes {
				if ns == 0 {
					t.Errorf("exec times %v", info.ExecTimes)
				}
			}
			if want := ref.m.Info(); info.InputSize != want.InputSize || info.OutputSize != want.OutputSize ||
				info.NumPages != want.NumPages || info.WeightsSize != want.WeightsSize {
				t.Errorf("info %+v, CPU runtime %+v", info, want)
			}
			pagesA := make([]int, info.NumPages)
			pagesB := make([]int, info.NumPages)
			for i := range pagesA {
				pagesA[i] = 2 * i
				pagesB[i] = 15 - i
			}
			if _, err := m.Exec(0, nil, pagesA, 0); runtime.Code(err, 0) != workerapi.ErrRuntimeError {
				t.Errorf("Exec before LoadWeights: %v", err)
			}
			tm, err := m.LoadWeights(0, pagesA, clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if tm.Duration == 0 || tm.End < tm.Begin {
				t.Errorf("LoadWeights timing %+v", tm)
			}
			cases := []struct{ batch, padded int }{{1, 1}, {2, 2}, {3, 4}, {4, 4}}
			first := map[int][]byte{}
			for _, c := range cases {
				input := randomInput(uint64(c.batch), uint64(c.batch)*info.InputSize)
				got, err := infer(m, 0, c.batch, c.padded, input, pagesA)
				if err != nil {
					t.Fatalf("batch %d: %v", c.batch, err)
				}
				want := ref.infer(t, c.batch, c.padded, input)
				if onnxref.RelErr(want, make([]byte, len(want))) == 0 {
					t.Fatalf("batch %d: the CPU's output is all zeros", c.batch)
				}
				if e := onnxref.RelErr(got, want); e > 1e-4 {
					t.Errorf("batch %d (padded %d): relative error %.3g against the CPU", c.batch, c.padded, e)
				}
				first[c.batch] = got
			}

			// Evict and reload elsewhere, then fill the old pages with
			// NaNs: a graph still reading them would show.
			if _, err := m.LoadWeights(0, pagesB, clock.Now()); err != nil {
				t.Fatal(err)
			}
			poison(t, rt, pagesA)
			for _, c := range cases {
				input := randomInput(uint64(c.batch), uint64(c.batch)*info.InputSize)
				got, err := infer(m, 0, c.batch, c.padded, input, pagesB)
				if err != nil {
					t.Fatalf("batch %d after the reload: %v", c.batch, err)
				}
				if !bytes.Equal(got, first[c.batch]) {
					t.Errorf("batch %d: output changed after moving the weights (relative %.3g)", c.batch, onnxref.RelErr(got, first[c.batch]))
				}
			}
		})
	}
}

// TestGPUCopies loads a model's weights into many page sets, as the
// copies of a model do, and runs each copy: every one must give the same
// output. It then loads a model into pages overlapping a set's, which
// reuses that set.
func TestGPUCopies(t *testing.T) {
	rt := newTestRuntime(t, false)
	m := load(t, rt, "tinycnn", 2)
	const copies = 16 // the whole cache
	for p := range copies {
		if _, err := m.LoadWeights(0, []int{p}, 0); err != nil {
			t.Fatal(err)
		}
	}
	input := randomInput(5, 2*m.Info().InputSize)
	want, err := infer(m, 0, 2, 2, input, []int{copies - 1})
	if err != nil {
		t.Fatal(err)
	}
	for p := range copies {
		got, err := infer(m, 0, 2, 2, input, []int{p})
		if err != nil {
			t.Fatalf("copy in page %d: %v", p, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("copy in page %d: output differs (relative %.3g)", p, onnxref.RelErr(got, want))
		}
	}
	if n := len(m.(*Model).inst[0].sets); n != copies {
		t.Errorf("%d graph sets for %d copies", n, copies)
	}

	mlp := load(t, rt, "mlp", 1)
	input = randomInput(6, mlp.Info().InputSize)
	var first []byte
	n := mlp.Info().NumPages
	if n < 2 {
		t.Fatalf("the MLP spans %d pages, want several", n)
	}
	for _, pages := range [][]int{span(0, n), span(n, n), span(2*n-1, n)} {
		if _, err := mlp.LoadWeights(0, pages, 0); err != nil {
			t.Fatal(err)
		}
		got, err := infer(mlp, 0, 1, 1, input, pages)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = got
		} else if !bytes.Equal(got, first) {
			t.Errorf("pages %v: output differs", pages)
		}
	}
	in := mlp.(*Model).inst[0]
	if sets := len(in.sets); sets != loadSets {
		t.Errorf("%d graph sets, want %d (the second set remapped)", sets, loadSets)
	}
	if got, err := infer(mlp, 0, 1, 1, input, span(0, n)); err != nil || !bytes.Equal(got, first) {
		t.Errorf("the first pages after the other loads: %v", err)
	}
}

// poison fills cache pages of GPU 0 with NaNs.
func poison(t *testing.T, rt *Runtime, pages []int) {
	t.Helper()
	d := rt.devices[0]
	if err := d.enter(); err != nil {
		t.Fatal(err)
	}
	defer d.leave()
	for _, p := range pages {
		if err := cu.MemsetD32Async(d.pageAddr(p), math.Float32bits(float32(math.NaN())), d.pageSize/4, d.load.s); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.load.s.Synchronize(); err != nil {
		t.Fatal(err)
	}
}

// TestGPUServingPathAllocations checks that an Infer allocates nothing in
// the runtime once warm.
func TestGPUServingPathAllocations(t *testing.T) {
	rt := newTestRuntime(t, false)
	m := load(t, rt, "mlp", 1)
	pages := resident(t, m)
	input := randomInput(1, m.Info().InputSize)
	out := make([]byte, m.Info().OutputSize)
	allocs := testing.AllocsPerRun(50, func() {
		io, _, err := m.CopyInput(0, 1, 1, input, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Exec(0, io, pages, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := m.CopyOutput(0, io, out, 0); err != nil {
			t.Fatal(err)
		}
		m.Release(0, io)
	})
	if allocs > 0 {
		t.Errorf("%v allocations per Infer, want 0", allocs)
	}
}

// TestGPUErrors checks the status codes of bad models and bad calls.
func TestGPUErrors(t *testing.T) {
	rt := newTestRuntime(t, false)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage", "model")
	if err := os.MkdirAll(filepath.Dir(garbage), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(engine.File(garbage), []byte("not an ONNX file"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := runtime.LoadOptions{MaxBatch: 1, MaxExec: math.MaxUint64, PageSize: testPage}
	for _, path := range []string{garbage, filepath.Join(dir, "missing", "model")} {
		if _, err := rt.Load(path, opts); runtime.Code(err, 0) != workerapi.ErrInvalidModelPath {
			t.Errorf("Load(%s) = %v, want status 41", path, err)
		}
	}
	if _, err := rt.Load(garbage, runtime.LoadOptions{MaxBatch: 1, PageSize: 2 * testPage}); runtime.Code(err, 0) != workerapi.ErrInvalidModelPath {
		t.Errorf("Load with another page size = %v, want status 41", err)
	}
	m, err := rt.Load(zoo(t, "tinycnn"), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, c := range []struct {
		name string
		err  error
		code int32
	}{
		{"LoadWeights beyond the cache", second(m.LoadWeights(0, []int{16}, 0)), workerapi.LoadWeightsInsufficientCache},
		{"LoadWeights with too many pages", second(m.LoadWeights(0, []int{0, 1}, 0)), workerapi.ErrRuntimeError},
		{"LoadWeights on GPU 7", second(m.LoadWeights(7, []int{0}, 0)), workerapi.ErrInvalidGPU},
		{"CopyInput batch 2", third(m.CopyInput(0, 2, 2, nil, 0)), workerapi.CopyInputInvalidBatchSize},
		{"CopyInput short input", third(m.CopyInput(0, 1, 1, []byte{1, 2, 3}, 0)), workerapi.CopyInputInvalidInput},
		{"Exec of a foreign IO", second(m.Exec(0, struct{}{}, []int{0}, 0)), workerapi.ErrRuntimeError},
	} {
		if got := runtime.Code(c.err, -1); got != c.code {
			t.Errorf("%s: %v (status %d), want status %d", c.name, c.err, got, c.code)
		}
	}
	// Exec with other pages than the model's is refused, and leaves no
	// graph set mapped in part (one was never mapped again).
	io, _, err := m.CopyInput(0, 1, 1, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, pages := range [][]int{{}, {0, 1}, {-1}, {16}} {
		if _, err := m.Exec(0, io, pages, 0); runtime.Code(err, -1) != workerapi.ExecWeightsMissing {
			t.Errorf("Exec with pages %v: %v, want status %d", pages, err, workerapi.ExecWeightsMissing)
		}
	}
	m.Release(0, io)
	for _, first := range []int{0, 3} {
		if _, err := infer(m, 0, 1, 1, nil, resident(t, m)); err != nil {
			t.Errorf("Infer after the refused Execs: %v", err)
		}
		if _, err := m.LoadWeights(0, []int{first + 1}, 0); err != nil {
			t.Errorf("LoadWeights into page %d: %v", first+1, err)
		}
	}
	// The IO pool (16 MiB) holds a limited number of Infers in flight.
	var ios []runtime.IO
	var err76 error
	for range 10000 {
		io, _, err := m.CopyInput(0, 1, 1, nil, 0)
		if err != nil {
			err76 = err
			break
		}
		ios = append(ios, io)
	}
	if runtime.Code(err76, 0) != workerapi.CopyInputIOPoolExhausted {
		t.Errorf("after %d Infers in flight: %v, want status 76", len(ios), err76)
	}
	for _, io := range ios {
		m.Release(0, io)
	}
	if _, _, err := m.CopyInput(0, 1, 1, nil, 0); err != nil {
		t.Errorf("CopyInput after releasing: %v", err)
	}
}

func second[T any](_ T, err error) error        { return err }
func third[T, U any](_ T, _ U, err error) error { return err }

// TestGPUTF32 runs the MLP and the small CNN with TF32 allowed.
func TestGPUTF32(t *testing.T) {
	rt := newTestRuntime(t, true)
	path := zoo(t, "tinycnn")
	ref := newReference(t, path)
	m, err := rt.Load(path, runtime.LoadOptions{MaxBatch: 2, MaxExec: math.MaxUint64, PageSize: testPage})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.LoadWeights(0, []int{3}, 0); err != nil {
		t.Fatal(err)
	}
	input := randomInput(9, 2*m.Info().InputSize)
	got, err := infer(m, 0, 2, 2, input, []int{3})
	if err != nil {
		t.Fatal(err)
	}
	if e := onnxref.RelErr(got, ref.infer(t, 2, 2, input)); e > 1e-2 {
		t.Errorf("relative error %.3g with TF32", e)
	}
	if !strings.Contains(rt.Name(), "TF32 on") {
		t.Errorf("Name() = %q", rt.Name())
	}
}

// TestGPUEvictedSetReused checks that a graph set whose weights the
// worker evicted takes the model's next pages, even where they do not
// overlap, instead of a new set being captured.
func TestGPUEvictedSetReused(t *testing.T) {
	rt := newTestRuntime(t, false)
	m := load(t, rt, "mlp", 1)
	n := m.Info().NumPages
	input := randomInput(4, m.Info().InputSize)
	var want []byte
	for _, pages := range [][]int{span(0, n), span(n, n)} { // both sets of Load mapped
		if _, err := m.LoadWeights(0, pages, 0); err != nil {
			t.Fatal(err)
		}
		var err error
		if want, err = infer(m, 0, 1, 1, input, pages); err != nil {
			t.Fatal(err)
		}
	}
	in := m.(*Model).inst[0]
	in.mu.Lock()
	first := in.find(span(0, n))
	in.mu.Unlock()
	m.(runtime.Evicter).Evicted(0, span(0, n))
	next := span(2*n, n)
	if _, err := m.LoadWeights(0, next, 0); err != nil {
		t.Fatal(err)
	}
	in.mu.Lock()
	got, sets := in.find(next), len(in.sets)
	in.mu.Unlock()
	if got != first || sets != loadSets {
		t.Errorf("pages %v: served by a new set (%d sets), want the evicted one of %d", next, sets, loadSets)
	}
	if out, err := infer(m, 0, 1, 1, input, next); err != nil || !bytes.Equal(out, want) {
		t.Errorf("after the remap: %v, same output %v", err, bytes.Equal(out, want))
	}
}

// TestGPURemapWaitsForExec checks that LoadWeights does not unmap a graph
// set's pages while an Exec launched with the set is in flight (a GPU
// reading an unmapped address faults), and remaps it once it completes.
func TestGPURemapWaitsForExec(t *testing.T) {
	rt := newTestRuntime(t, false)
	m := load(t, rt, "mlp", 1)
	n := m.Info().NumPages
	first, next := span(0, n), span(n-1, n)
	if _, err := m.LoadWeights(0, first, 0); err != nil {
		t.Fatal(err)
	}
	in := m.(*Model).inst[0]
	in.mu.Lock()
	s := in.find(first)
	s.inflight++ // as launch does
	in.mu.Unlock()
	done := make(chan error, 1)
	go func() {
		_, err := m.LoadWeights(0, next, 0) // overlaps first: takes s
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("LoadWeights returned (%v) while an Exec with the set it remaps was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	in.done(s)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	in.mu.Lock()
	got := in.find(next)
	in.mu.Unlock()
	if got != s {
		t.Errorf("pages %v are served by another set than the one remapped", next)
	}
	input := randomInput(3, m.Info().InputSize)
	if _, err := infer(m, 0, 1, 1, input, next); err != nil {
		t.Fatal(err)
	}
}

// TestGPUProfileOps checks the per-op profile of Config.ProfileOps: a
// header per batch size, the time by op kind, the slowest ops.
func TestGPUProfileOps(t *testing.T) {
	var log bytes.Buffer
	cfg := smallConfig(&log)
	cfg.WorkspacePoolSize, cfg.ProfilePages, cfg.ProfileOps = 64<<20, 2, true
	rt := openRuntime(t, cfg)
	m, err := rt.Load(zoo(t, "tinycnn"), runtime.LoadOptions{MaxBatch: 2, MaxExec: math.MaxUint64, PageSize: testPage})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	out := log.String()
	for _, want := range []string{"cuda: ops gpu=0 model=", " b=1 ops=", " b=2 ops=", "Conv 3x3 depthwise", "   #"} {
		if !strings.Contains(out, want) {
			t.Errorf("profile lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "profile failed") {
		t.Errorf("profile failed:\n%s", out)
	}
	t.Logf("\n%s", out)
}

// TestGPUSpinningWaits runs Infers as the worker's stages do, a goroutine
// per stage, with spinning waits on (Config.Spin), and checks every
// output against a run with parked waits.
func TestGPUSpinningWaits(t *testing.T) {
	outputs := func(spin SpinMode) [][]byte {
		cfg := smallConfig(nil)
		cfg.WorkspacePoolSize, cfg.ProfilePages, cfg.Spin = 64<<20, 2, spin
		rt := openRuntime(t, cfg)
		if want := map[SpinMode]string{SpinOn: "waits spinning", SpinOff: "waits parked"}[spin]; !strings.Contains(rt.Name(), want) {
			t.Errorf("Name() = %q, want %q in it", rt.Name(), want)
		}
		m, err := rt.Load(zoo(t, "tinycnn"), runtime.LoadOptions{MaxBatch: 2, MaxExec: math.MaxUint64, PageSize: testPage})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close() // before rt's
		if _, err := m.LoadWeights(0, []int{1}, 0); err != nil {
			t.Fatal(err)
		}
		const n = 60
		ios, execd := make(chan runtime.IO, 4), make(chan runtime.IO, 4)
		errs := make(chan error, 3)
		go func() {
			defer close(ios)
			for i := range n {
				b := 1 + i%2
				io, _, err := m.CopyInput(0, b, b, randomInput(uint64(i), uint64(b)*m.Info().InputSize), clock.Now())
				if err != nil {
					errs <- err
					return
				}
				ios <- io
			}
		}()
		go func() {
			defer close(execd)
			for io := range ios {
				if _, err := m.Exec(0, io, []int{1}, clock.Now()); err != nil {
					errs <- err
					return
				}
				execd <- io
			}
		}()
		var outs [][]byte
		i := 0
		for io := range execd {
			out := make([]byte, uint64(1+i%2)*m.Info().OutputSize)
			if _, err := m.CopyOutput(0, io, out, clock.Now()); err != nil {
				t.Fatal(err)
			}
			m.Release(0, io)
			outs = append(outs, out)
			i++
		}
		select {
		case err := <-errs:
			t.Fatal(err)
		default:
		}
		if len(outs) != n {
			t.Fatalf("%d outputs of %d", len(outs), n)
		}
		return outs
	}
	parked, spun := outputs(SpinOff), outputs(SpinOn)
	for i := range parked {
		if !bytes.Equal(parked[i], spun[i]) {
			t.Fatalf("Infer %d: outputs differ with spinning waits", i)
		}
	}
}

// TestGPUClockPollOff starts a runtime whose SM clocks are read once
// (Config.ClockPoll < 0): no polling goroutine, and the clocks are known.
func TestGPUClockPollOff(t *testing.T) {
	var log bytes.Buffer
	cfg := smallConfig(&log)
	cfg.ClockPoll = -1
	rt := openRuntime(t, cfg)
	if rt.clocks != nil {
		t.Error("a clock monitor polls")
	}
	if _, err := cu.LoadNVML(); err == nil && rt.devices[0].clock.Load() == 0 {
		t.Error("the SM clock was not read at start-up")
	}
}

// TestGPUGates checks that the exec stage and the builder that times exec
// graphs run behind gates by default and not with Config.Ungated, and
// that the outputs and the measured exec times are there either way.
func TestGPUGates(t *testing.T) {
	var outs [][]byte
	for _, ungated := range []bool{false, true} {
		var log bytes.Buffer
		cfg := smallConfig(&log)
		cfg.Ungated = ungated
		rt, err := New(cfg)
		if err != nil {
			t.Skipf("no CUDA runtime: %v", err)
		}
		d := rt.devices[0]
		if gated := d.exec.gate != nil && d.load.gate != nil; gated == ungated {
			t.Errorf("Ungated %v: exec gate %v, load gate %v; log:\n%s", ungated, d.exec.gate, d.load.gate, log.String())
		}
		if want := map[bool]string{false: "exec gated)", true: "exec ungated)"}[ungated]; !strings.HasSuffix(rt.Name(), want) {
			t.Errorf("Ungated %v: name %q", ungated, rt.Name())
		}
		m, err := rt.Load(zoo(t, "mlp"), runtime.LoadOptions{MaxBatch: 2, MaxExec: math.MaxUint64, PageSize: testPage})
		if err != nil {
			t.Fatal(err)
		}
		if ns := m.Info().ExecTimes; len(ns) != 2 || ns[0] == 0 || ns[1] == 0 {
			t.Errorf("Ungated %v: exec times %v", ungated, ns)
		}
		pages := resident(t, m)
		for i := range 3 {
			out, err := infer(m, 0, 2, 2, randomInput(2, 2*m.Info().InputSize), pages)
			if err != nil {
				t.Fatalf("Ungated %v, Infer %d: %v", ungated, i, err)
			}
			if i == 0 {
				outs = append(outs, out)
			}
		}
		m.Close()
		if err := rt.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
	if len(outs) == 2 && !bytes.Equal(outs[0], outs[1]) {
		t.Error("outputs differ with and without the gate")
	}
}

// TestGPUWorkspaceShort loads a model with a workspace pool that leaves
// too little for some of cuDNN's algorithms (on fakecuda, 4 MiB for
// WINOGRAD_NONFUSED): the verbose log says which, and the model runs with
// the others.
func TestGPUWorkspaceShort(t *testing.T) {
	var log bytes.Buffer
	cfg := smallConfig(&log)
	cfg.WorkspacePoolSize, cfg.Verbose = 4<<20, true
	rt := openRuntime(t, cfg)
	m, err := rt.Load(zoo(t, "tinycnn"), runtime.LoadOptions{MaxBatch: 1, MaxExec: math.MaxUint64, PageSize: testPage})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	defer m.Close()
	if !strings.Contains(rt.devices[0].name, "fakecuda") {
		return // which algorithms need more than what is left depends on the GPU
	}
	if !strings.Contains(log.String(), "{workspace short for ") || !strings.Contains(log.String(), "WINOGRAD_NONFUSED need up to 4.0 MiB") {
		t.Errorf("the verbose log does not say which algorithms lacked workspace:\n%s", log.String())
	}
}

// TestGPUHostInput runs an input that lies in the runtime's pinned memory
// (AllocHost): the same output as from Go memory, copied without staging
// (it runs with the staging pool taken, where a staged input fails), no
// more lent than the lending pool holds (half the host IO pool), and a
// Close with memory still lent leaves the memory allocated and lends no
// more.
func TestGPUHostInput(t *testing.T) {
	rt := newTestRuntime(t, false)
	m := load(t, rt, "mlp", 2)
	pages := resident(t, m)
	n := 2 * m.Info().InputSize
	input := randomInput(3, n)
	want, err := infer(m, 0, 2, 2, input, pages)
	if err != nil {
		t.Fatal(err)
	}
	host := rt.AllocHost(int(n))
	if host == nil {
		t.Fatal("AllocHost lent nothing")
	}
	copy(host, input)
	// Take the staging pool: staging is impossible now.
	var taken []uint64
	for {
		off, ok := rt.hostIO.alloc(1 << 20)
		if !ok {
			break
		}
		taken = append(taken, off)
	}
	if _, _, err := m.CopyInput(0, 2, 2, input, 0); runtime.Code(err, 0) != workerapi.CopyInputHostAlloc {
		t.Errorf("a Go input with the host pool full: %v, want status %d", err, workerapi.CopyInputHostAlloc)
	}
	io, _, err := m.CopyInput(0, 2, 2, host, 0)
	for _, off := range taken {
		rt.hostIO.free(off)
	}
	if err != nil {
		t.Fatalf("an input in pinned memory with the host pool full: %v", err)
	}
	defer m.Release(0, io)
	if _, err := m.Exec(0, io, pages, 0); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if _, err := m.CopyOutput(0, io, got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("the output differs with the input in pinned memory")
	}
	if !rt.FreeHost(host) || rt.FreeHost(input) || rt.lent.Load() != 0 {
		t.Errorf("FreeHost: pinned buffer not taken back, or a Go buffer taken; %d bytes lent", rt.lent.Load())
	}

	// No more than the lending pool, half the host IO pool.
	var lent [][]byte
	for b := rt.AllocHost(1 << 20); b != nil; b = rt.AllocHost(1 << 20) {
		lent = append(lent, b)
	}
	if got, max := uint64(len(lent))<<20, rt.lendIO.size; got > max || got+2<<20 < max || max != 8<<20 {
		t.Errorf("lent %d bytes of a %d-byte lending pool (host pool %d bytes)", got, max, rt.cfg.HostIOPoolSize)
	}
	for _, b := range lent {
		rt.FreeHost(b)
	}

	var log bytes.Buffer
	rt2, err := New(smallConfig(&log))
	if err != nil {
		t.Fatal(err)
	}
	held := rt2.AllocHost(1000)
	if err := rt2.Close(); err == nil || !strings.Contains(err.Error(), "still lent") {
		t.Errorf("Close with pinned memory lent: %v", err)
	}
	if rt2.AllocHost(1000) != nil {
		t.Error("AllocHost lent memory after Close")
	}
	held[999] = 1 // still allocated
	if !rt2.FreeHost(held) || rt2.lent.Load() != 0 {
		t.Errorf("FreeHost after Close: %d bytes still lent", rt2.lent.Load())
	}
}
