package worker

import (
	"testing"

	"github.com/clockwork-go/clockwork/internal/runtime/sim"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// BenchmarkWorkerState measures a GetWorkerState of 3,600 models (a
// third of them resident on each of two GPUs): engine is the engine's
// part, on the goroutine that gives the GPUs their operations, and encode
// the result's encoding, which the Server does on a goroutine of its own.
func BenchmarkWorkerState(b *testing.B) {
	h := newHarness(b, sim.New(2), Config{Pages: 4000})
	p := testZoo(b)
	for i := range 9 {
		h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), ModelID: int32(i * 400), Path: p,
			Latest: workerapi.NoLatest, Copies: 400, MaxBatchSize: 8}), workerapi.Success)
	}
	for id := int32(0); id < 3600; id += 3 {
		h.submit(&workerapi.LoadWeights{ID: h.id(), ModelID: id, GPU: uint32(id % 2), Latest: workerapi.NoLatest})
	}
	h.after(100_000 * ms)
	var out Output
	state := func() *workerapi.GetWorkerStateResult {
		out.Results = out.Results[:0]
		h.e.Submit(h.now, h.now, &workerapi.GetWorkerState{ID: 1}, nil)
		h.e.Ready(h.now, &out)
		return out.Results[0].Result.(*workerapi.GetWorkerStateResult)
	}
	if n := len(state().Memory.Models); n != 3600 {
		b.Fatalf("%d models", n)
	}
	b.Run("engine", func(b *testing.B) {
		for b.Loop() {
			state()
		}
	})
	b.Run("encode", func(b *testing.B) {
		r := state()
		for b.Loop() {
			if _, err := workerapi.EncodeResult(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
