package cuda

import (
	"sync"
	"testing"

	"github.com/clockwork-go/clockwork/internal/clock"
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
