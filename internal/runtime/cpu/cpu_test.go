package cpu_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/engine/reference"
	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/cpu"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

const pageSize = 1 << 15

func newRuntime(t *testing.T, cfg cpu.Config) *cpu.Runtime {
	t.Helper()
	rt, err := cpu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// writeModel writes a zoo model into a temporary directory and returns its
// model path.
func writeModel(t *testing.T, name string) string {
	t.Helper()
	prefix, err := modelgen.Write(t.TempDir(), name)
	if err != nil {
		t.Fatal(err)
	}
	return prefix
}

func floats(b []byte) []float32 {
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return f
}

func TestRoundTrip(t *testing.T) {
	rt := newRuntime(t, cpu.Config{PageSize: pageSize, CacheBytes: 8 * pageSize})
	prefix := writeModel(t, "tinycnn")
	m, err := rt.Load(prefix, runtime.LoadOptions{MaxBatch: 4, MaxExec: math.MaxUint64, PageSize: pageSize})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	info := m.Info()
	if info.InputSize != 3*32*32*4 || info.OutputSize != 10*4 {
		t.Errorf("sizes %d, %d", info.InputSize, info.OutputSize)
	}
	if !slices.Equal(info.BatchSizes, []int{1, 2, 4}) || len(info.ExecTimes) != 3 || slices.Contains(info.ExecTimes, 0) {
		t.Errorf("batch sizes %v, exec times %v", info.BatchSizes, info.ExecTimes)
	}
	if info.NumPages < 2 || info.WeightsSize == 0 || info.WeightsSize > uint64(info.NumPages)*pageSize || info.WeightsLoadTime == 0 {
		t.Errorf("weights: %d bytes in %d pages, load %d ns", info.WeightsSize, info.NumPages, info.WeightsLoadTime)
	}
	if ws := m.(*cpu.Model).WorkspaceSize(1); ws == 0 {
		t.Error("no workspace at b1")
	}

	// The weights go to pages chosen by the worker, in any order.
	pages := []int{7, 2, 5, 0, 6, 1, 3, 4}[:info.NumPages]
	start := clock.Now()
	tm, err := m.LoadWeights(0, pages, start)
	if err != nil {
		t.Fatal(err)
	}
	if tm.Begin != uint64(start) || tm.End < tm.Begin || tm.Duration != tm.End-tm.Begin {
		t.Errorf("LoadWeights timing %+v for start %d", tm, start)
	}

	const batch = 3
	r := rand.New(rand.NewPCG(3, 4))
	in := reference.Tensor{Shape: []int{batch, 3, 32, 32}, Data: make([]float32, batch*3*32*32)}
	input := make([]byte, 4*len(in.Data))
	for i := range in.Data {
		in.Data[i] = float32(r.NormFloat64())
		binary.LittleEndian.PutUint32(input[4*i:], math.Float32bits(in.Data[i]))
	}
	mp, err := modelgen.Generate("tinycnn")
	if err != nil {
		t.Fatal(err)
	}
	want, err := reference.Run(mp, map[string]reference.Tensor{"input": in})
	if err != nil {
		t.Fatal(err)
	}

	run := func(pages []int) []float32 {
		io, _, err := m.CopyInput(0, batch, 4, input, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		defer m.Release(0, io)
		et, err := m.Exec(0, io, pages, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if et.Clock != cpu.Clock || et.ClockBefore != cpu.Clock || et.Duration == 0 {
			t.Errorf("exec timing %+v", et)
		}
		out := make([]byte, batch*info.OutputSize)
		if _, err := m.CopyOutput(0, io, out, clock.Now()); err != nil {
			t.Fatal(err)
		}
		return floats(out)
	}
	got := run(pages)
	for i, w := range want["output"].Data {
		if d := math.Abs(float64(got[i] - w)); d > 1e-5*math.Max(1, math.Abs(float64(w))) {
			t.Errorf("output[%d] = %g, want %g", i, got[i], w)
		}
	}
	// Exec reads the weights from the cache pages: other pages, other
	// results.
	other := []int{0, 1, 2, 3, 4, 5, 6, 7}[8-info.NumPages:]
	if slices.Equal(run(other), got) {
		t.Error("same outputs with the weights in other pages")
	}
	if again := run(pages); !slices.Equal(again, got) {
		t.Error("second run differs")
	}
}

// TestCacheBoundedByMemory: a cache larger than MaxCacheBytes gets the
// whole pages that fit, offered as such (runtime.Paged), and says so.
func TestCacheBoundedByMemory(t *testing.T) {
	var log bytes.Buffer
	rt := newRuntime(t, cpu.Config{CacheBytes: 23085449216, MaxCacheBytes: 10<<24 + 5, Log: &log})
	if n := rt.Pages(1); n != 10 || rt.PageStore().Len() != 10 {
		t.Errorf("%d pages, want 10", n)
	}
	if want := "CPU: a weights cache of 21.5 GiB does not fit in 0.2 GiB (half the memory this process may use); using 10 pages (0.2 GiB)\n"; log.String() != want {
		t.Errorf("log %q, want %q", log.String(), want)
	}
	log.Reset()
	if rt := newRuntime(t, cpu.Config{CacheBytes: 5 << 24, MaxCacheBytes: 10 << 24, Log: &log}); rt.Pages(0) != 5 || log.Len() != 0 {
		t.Errorf("a cache that fits: %d pages, log %q", rt.Pages(0), log.String())
	}
}

func TestPagesAllocatedOnUse(t *testing.T) {
	rt := newRuntime(t, cpu.Config{CacheBytes: 23085449216})
	if n := rt.PageStore().Len(); n != 1376 {
		t.Errorf("%d pages, want 1376", n)
	}
	if n := rt.PageStore().Allocated(); n != 0 {
		t.Errorf("%d pages allocated before use", n)
	}
	m, err := rt.Load(writeModel(t, "mlp"), runtime.LoadOptions{MaxBatch: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.LoadWeights(0, []int{1375}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := rt.PageStore().Allocated(); n != 1 {
		t.Errorf("%d pages allocated after loading one", n)
	}
}

// TestReloadDuringExec: a LoadWeights into the pages an inference reads
// (the worker reloads resident weights in place) waits for it; under
// -race an unguarded copy was reported as a data race.
func TestReloadDuringExec(t *testing.T) {
	rt := newRuntime(t, cpu.Config{CacheBytes: 4 << 24, SkipMeasure: true})
	m, err := rt.Load(writeModel(t, "mlp"), runtime.LoadOptions{MaxBatch: 1})
	if err != nil {
		t.Fatal(err)
	}
	pages := []int{0}
	if _, err := m.LoadWeights(0, pages, 0); err != nil {
		t.Fatal(err)
	}
	input := make([]byte, m.Info().InputSize)
	done := make(chan error)
	go func() {
		for range 20 {
			if _, err := m.LoadWeights(0, pages, 0); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range 20 {
		io, _, err := m.CopyInput(0, 1, 1, input, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = m.Exec(0, io, pages, 0)
		m.Release(0, io)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	rt := newRuntime(t, cpu.Config{})
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		prefix := dir + "/" + name
		if err := os.WriteFile(engine.File(prefix), data, 0o644); err != nil {
			t.Fatal(err)
		}
		return prefix
	}
	b := modelgen.NewBuilder("bad", 1)
	b.NodeOut("NonMaxSuppression", "sig", []string{b.Input("x", 4)})
	b.OutputAny("sig")
	unsupported, err := proto.Marshal(b.Model())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		prefix string
		opts   runtime.LoadOptions
		want   string
	}{
		{"missing", dir + "/nothing", runtime.LoadOptions{MaxBatch: 1}, "no model file"},
		{"garbage", write("garbage", []byte("not an onnx file")), runtime.LoadOptions{MaxBatch: 1}, "malformed"},
		{"unsupported", write("unsupported", unsupported), runtime.LoadOptions{MaxBatch: 1}, "NonMaxSuppression"},
		{"page size", writeModel(t, "mlp"), runtime.LoadOptions{MaxBatch: 1, PageSize: 4096}, "page size"},
	} {
		_, err := rt.Load(tc.prefix, tc.opts)
		if runtime.Code(err, -1) != workerapi.ErrInvalidModelPath || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v (code %d), want code 41 mentioning %q", tc.name, err, runtime.Code(err, -1), tc.want)
		}
	}
}

func TestBatchSizes(t *testing.T) {
	prefix := writeModel(t, "mlp")
	for _, tc := range []struct {
		cfg  cpu.Config
		opts runtime.LoadOptions
		want []int
	}{
		{cpu.Config{}, runtime.LoadOptions{MaxBatch: 1, MaxExec: math.MaxUint64}, []int{1}},
		{cpu.Config{}, runtime.LoadOptions{MaxBatch: 6, MaxExec: math.MaxUint64}, []int{1, 2, 4}},
		{cpu.Config{}, runtime.LoadOptions{MaxBatch: 1000, MaxExec: 1}, []int{1}},
		{cpu.Config{SkipMeasure: true}, runtime.LoadOptions{MaxBatch: 1000, MaxExec: 1}, []int{1, 2, 4, 8, 16}},
	} {
		rt := newRuntime(t, tc.cfg)
		m, err := rt.Load(prefix, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		info := m.Info()
		if !slices.Equal(info.BatchSizes, tc.want) || len(info.ExecTimes) != len(tc.want) {
			t.Errorf("%+v %+v: batch sizes %v (times %v), want %v", tc.cfg, tc.opts, info.BatchSizes, info.ExecTimes, tc.want)
		}
		if measured := !slices.Contains(info.ExecTimes, 0); measured == tc.cfg.SkipMeasure {
			t.Errorf("%+v: exec times %v", tc.cfg, info.ExecTimes)
		}
	}
}

func TestCallErrors(t *testing.T) {
	rt := newRuntime(t, cpu.Config{PageSize: pageSize, CacheBytes: 4 * pageSize})
	m, err := rt.Load(writeModel(t, "tinycnn"), runtime.LoadOptions{MaxBatch: 2, MaxExec: math.MaxUint64})
	if err != nil {
		t.Fatal(err)
	}
	info := m.Info()
	pages := []int{0, 1, 2, 3}[:info.NumPages]
	input := make([]byte, info.InputSize)
	code := func(err error) int32 { return runtime.Code(err, -1) }

	if _, err := m.LoadWeights(1, pages, 0); code(err) != workerapi.ErrInvalidGPU {
		t.Errorf("LoadWeights on GPU 1: %v", err)
	}
	if _, err := m.LoadWeights(0, []int{9, 9}[:info.NumPages], 0); code(err) != workerapi.ErrRuntimeError {
		t.Errorf("LoadWeights into missing pages: %v", err)
	}
	if _, _, err := m.CopyInput(0, 1, 4, input, 0); code(err) != workerapi.CopyInputInvalidBatchSize {
		t.Errorf("CopyInput padded to 4: %v", err)
	}
	if _, _, err := m.CopyInput(0, 2, 2, input, 0); code(err) != workerapi.CopyInputInvalidInput {
		t.Errorf("CopyInput of one item as two: %v", err)
	}
	io, _, err := m.CopyInput(0, 1, 2, input, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Exec(0, io, pages[1:], 0); code(err) != workerapi.ExecWeightsMissing {
		t.Errorf("Exec with a page missing: %v", err)
	}
	if _, err := m.Exec(0, "not an io", pages, 0); code(err) != workerapi.ErrRuntimeError {
		t.Errorf("Exec with a foreign IO: %v", err)
	}
	if _, err := m.CopyOutput(0, io, make([]byte, 3*info.OutputSize), 0); err == nil {
		t.Error("CopyOutput of 3 items from a batch of 2 succeeded")
	}
	if _, err := m.CopyOutput(0, io, make([]byte, info.OutputSize+1), 0); err == nil {
		t.Error("CopyOutput of a partial item succeeded")
	}
	m.Release(0, io)
}

// TestIOPool: the IO regions of the Infers between copy-input and release
// are bounded as a GPU's IO pool (status 76 past it, again within it once
// one is released; a second Release of one not taken again since changes
// nothing), and Load keeps the batch sizes whose region fits it, failing
// with 76 where batch size 1's does not.
func TestIOPool(t *testing.T) {
	path := writeModel(t, "mlp")
	em, err := engine.ReadFile(path, engine.DefaultPageSize)
	if err != nil {
		t.Fatal(err)
	}
	var io [3]uint64 // batch sizes 1, 2 and 4
	for i := range io {
		p, err := em.Plan(1 << i)
		if err != nil {
			t.Fatal(err)
		}
		io[i] = uint64(p.IOBytes)
	}
	if io[2] <= 2*io[0] {
		t.Fatalf("IO regions of batch sizes 1, 2, 4: %v bytes; the test needs batch size 4's over twice batch size 1's", io)
	}
	opts := runtime.LoadOptions{MaxBatch: 16}

	_, err = newRuntime(t, cpu.Config{IOPoolBytes: io[0] - 1, SkipMeasure: true}).Load(path, opts)
	if runtime.Code(err, 0) != workerapi.CopyInputIOPoolExhausted {
		t.Fatalf("Load with an IO pool smaller than batch size 1's region: %v, want status 76", err)
	}

	pool := max(2*io[0], io[1])
	rt := newRuntime(t, cpu.Config{IOPoolBytes: pool, SkipMeasure: true})
	m, err := rt.Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Info().BatchSizes; !slices.Equal(got, []int{1, 2}) {
		t.Errorf("batch sizes %v with an IO pool of %d bytes (regions %v), want [1 2]", got, pool, io)
	}
	a, _, err := m.CopyInput(0, 1, 1, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := m.CopyInput(0, 1, 1, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.CopyInput(0, 1, 1, nil, 0); runtime.Code(err, 0) != workerapi.CopyInputIOPoolExhausted {
		t.Fatalf("a third copy-input into a pool that holds two: %v, want status 76", err)
	}
	m.Release(0, a)
	m.Release(0, a)
	c, _, err := m.CopyInput(0, 1, 1, nil, 0)
	if err != nil {
		t.Fatalf("copy-input after a release: %v", err)
	}
	if _, _, err := m.CopyInput(0, 1, 1, nil, 0); runtime.Code(err, 0) != workerapi.CopyInputIOPoolExhausted {
		t.Fatalf("a region released twice counted twice: %v, want status 76", err)
	}
	m.Release(0, b)
	m.Release(0, c)
	if _, _, err := m.CopyInput(0, 2, 2, nil, 0); err != nil {
		t.Fatalf("batch size 2 into the emptied pool: %v", err)
	}
}
