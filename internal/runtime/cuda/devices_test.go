//go:build linux && cgo

package cuda

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/cuda/fakecuda"
	onnxref "github.com/clockwork-go/clockwork/internal/engine/reference"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// TestGPUEveryDevice loads a model's weights onto every GPU of the
// machine, into the same page numbers of each, runs it on all of them at
// once and checks each GPU's output against the CPU. A GPU without the
// weights must refuse to run the model. It skips on a machine with one
// GPU; TestFakeCUDA runs it on two fake ones.
func TestGPUEveryDevice(t *testing.T) {
	rt := newTestRuntime(t, false)
	n := rt.NumGPUs()
	if n < 2 {
		t.Skipf("%d GPU", n)
	}
	m := load(t, rt, "tinycnn", 2)
	ref := newReference(t, zoo(t, "tinycnn"))
	info := m.Info()
	pages := span(0, info.NumPages)
	input := randomInput(11, 2*info.InputSize)
	want := ref.infer(t, 2, 2, input)

	if _, err := m.LoadWeights(0, pages, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Exec(1, nil, pages, 0); runtime.Code(err, 0) != workerapi.ErrRuntimeError {
		t.Errorf("Exec on GPU 1 with the weights on GPU 0 only: %v", err)
	}
	for g := 1; g < n; g++ {
		if _, err := m.LoadWeights(g, pages, clock.Now()); err != nil {
			t.Fatalf("GPU %d: %v", g, err)
		}
	}
	outs, errs := make([][]byte, n), make([]error, n)
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			for range 5 {
				if outs[g], errs[g] = infer(m, g, 2, 2, input, pages); errs[g] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for g := range n {
		if errs[g] != nil {
			t.Errorf("GPU %d: %v", g, errs[g])
		} else if e := onnxref.RelErr(outs[g], want); e > 1e-4 {
			t.Errorf("GPU %d: relative error %.3g against the CPU", g, e)
		}
	}
}

// TestFakeCUDAFault runs TestFaultChild on two fake GPUs, with a fault
// (fakecuda's FAKECUDA_FAULT) ready for GPU 1, or GPU 0.
func TestFakeCUDAFault(t *testing.T) {
	t.Parallel()
	for _, fault := range []string{"1@700", "1@719", "1@701", "0@700"} {
		t.Run(fault, func(t *testing.T) {
			gpu, code, _ := strings.Cut(fault, "@")
			file := filepath.Join(t.TempDir(), "fault")
			out, err := fakecuda.RunTests(t, "^TestFaultChild$", "FAKECUDA_DEVICES=2", "FAKECUDA_FAULT="+fault+":"+file,
				"CLOCKWORK_TEST_FAULT="+file, "CLOCKWORK_TEST_FAULT_CODE="+code, "CLOCKWORK_TEST_FAULT_GPU="+gpu)
			if err != nil || !strings.Contains(string(out), "--- PASS: TestFaultChild") {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

// TestFaultChild: a GPU whose exec meets one of CUDA's sticky errors (700,
// an illegal address; 719, a failed launch) answers that Exec, and every
// later call on it, with status 14 (ErrGPUUnusable) and says so once on
// the log; the other GPU serves on, and models loaded after the fault
// load there. An error that fails one call only (701, a launch out of
// resources) fails that Exec with status 2 and leaves the GPU in service
// (run by TestFakeCUDAFault).
func TestFaultChild(t *testing.T) {
	file := os.Getenv("CLOCKWORK_TEST_FAULT")
	if file == "" {
		t.Skip("run by TestFakeCUDAFault")
	}
	bad := 1
	if os.Getenv("CLOCKWORK_TEST_FAULT_GPU") == "0" {
		bad = 0
	}
	good := 1 - bad
	f := newFaultRig(t)
	for g := range 2 {
		if _, err := f.m.LoadWeights(g, f.pages, clock.Now()); err != nil {
			t.Fatalf("GPU %d: %v", g, err)
		}
	}
	f.serves(bad, "before the fault")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("CLOCKWORK_TEST_FAULT_CODE") == "701" {
		_, err := infer(f.m, bad, 1, 1, f.input, f.pages)
		if code := runtime.Code(err, 0); code != workerapi.ErrRuntimeError || !strings.Contains(err.Error(), "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES") {
			t.Errorf("the refused launch: status %d, %v; want %d with CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", code, err, workerapi.ErrRuntimeError)
		}
		f.serves(bad, "after a refused launch")
		if strings.Contains(f.log.String(), "unusable") {
			t.Errorf("the log says a GPU is unusable after a refused launch:\n%s", f.log.String())
		}
		return
	}
	unusable := func(what string, err error) {
		t.Helper()
		want := fmt.Sprintf("GPU %d is unusable after", bad)
		if code := runtime.Code(err, 0); code != workerapi.ErrGPUUnusable || !strings.Contains(err.Error(), want) {
			t.Errorf("%s on GPU %d: status %d, %v; want %d", what, bad, code, err, workerapi.ErrGPUUnusable)
		}
	}
	// The fault shows where a GPU shows it: at the next call that
	// synchronises, the completion checker's event query.
	_, err := infer(f.m, bad, 1, 1, f.input, f.pages)
	unusable("the Infer that faults", err)
	if err != nil && !strings.Contains(err.Error(), "cuEventQuery") {
		t.Errorf("the Infer that faults: %v, want the checker's cuEventQuery to show the fault", err)
	}
	_, err = infer(f.m, bad, 1, 1, f.input, f.pages)
	unusable("an Infer after the fault", err)
	_, err = f.m.LoadWeights(bad, span(f.m.Info().NumPages, f.m.Info().NumPages), clock.Now())
	unusable("LoadWeights after the fault", err)
	f.serves(good, "after the other GPU's fault")

	// A model loaded after the fault loads on the usable GPU, with its
	// figures; on the broken one its actions answer status 14.
	m := load(t, f.rt, "tinycnn", 2)
	if info := m.Info(); len(info.BatchSizes) != 2 || info.WeightsLoadTime == 0 {
		t.Errorf("the model loaded after the fault: %+v, want two batch sizes and their figures", info)
	}
	second := span(2*m.Info().NumPages, m.Info().NumPages)
	_, err = m.LoadWeights(bad, second, clock.Now())
	unusable("the second model's LoadWeights", err)
	_, _, err = m.CopyInput(bad, 1, 1, f.input, clock.Now())
	unusable("the second model's CopyInput", err)
	m.(runtime.Evicter).Evicted(bad, second)
	if _, err := m.LoadWeights(good, second, clock.Now()); err != nil {
		t.Fatalf("the second model's LoadWeights on GPU %d: %v", good, err)
	}
	for range 3 {
		out, err := infer(m, good, 1, 1, f.input, second)
		if err != nil {
			t.Fatalf("the second model on GPU %d: %v", good, err)
		}
		if e := onnxref.RelErr(out, f.want); e > 1e-4 {
			t.Errorf("the second model on GPU %d: relative error %.3g against the CPU", good, e)
		}
	}
	if n := strings.Count(f.log.String(), "is unusable after"); n != 1 {
		t.Errorf("the log says %d times that a GPU is unusable, want once:\n%s", n, f.log.String())
	}
}

// faultRig is tinycnn on two fake GPUs, with an input and the CPU's output.
type faultRig struct {
	t     *testing.T
	log   bytes.Buffer
	rt    *Runtime
	m     runtime.Model
	pages []int
	input []byte
	want  []byte
}

func newFaultRig(t *testing.T) *faultRig {
	f := &faultRig{t: t}
	cfg := smallConfig(&f.log)
	cfg.WeightsCacheSize, cfg.WorkspacePoolSize, cfg.ProfilePages = 16*testPage, 64<<20, 2
	f.rt = openRuntime(t, cfg)
	f.m = load(t, f.rt, "tinycnn", 2)
	f.pages = span(0, f.m.Info().NumPages)
	f.input = randomInput(3, f.m.Info().InputSize)
	f.want = newReference(t, zoo(t, "tinycnn")).infer(t, 1, 1, f.input)
	return f
}

// serves checks that three Infers on GPU g give the CPU's output.
func (f *faultRig) serves(g int, when string) {
	f.t.Helper()
	for range 3 {
		out, err := infer(f.m, g, 1, 1, f.input, f.pages)
		if err != nil {
			f.t.Fatalf("GPU %d %s: %v", g, when, err)
		}
		if e := onnxref.RelErr(out, f.want); e > 1e-4 {
			f.t.Errorf("GPU %d %s: relative error %.3g against the CPU", g, when, e)
		}
	}
}
