package worker

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/model"
	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/cpu"
	"github.com/clockwork-go/clockwork/internal/runtime/sim"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

func u(t int64) uint64 { return uint64(t) }

func TestLoadModelFromDisk(t *testing.T) {
	h := newHarness(t, sim.New(2), Config{Pages: 10, AllowZeroSizeInputs: true})
	p := testZoo(t)
	id := h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), ModelID: 3, Path: p, Latest: workerapi.NoLatest,
		Copies: 2, MaxBatchSize: 4, MaxExecDuration: u(3 * ms)})
	r := h.status(id, workerapi.Success).(*workerapi.LoadModelFromDiskResult)
	want := &workerapi.LoadModelFromDiskResult{ID: id, InputSize: 100, OutputSize: 10, BatchSizes: []uint32{1, 2},
		WeightsSizeInCache: 2 * model.PageSize, NumWeightsPages: 2, WeightsLoadTime: u(10 * ms),
		ExecTimes: []uint64{u(ms), u(2 * ms)}, CopiesCreated: 2, ActionReceived: u(h.now),
		Timing: workerapi.Timing{Begin: u(h.now), End: u(h.now)}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("result\n got %+v\nwant %+v", r, want)
	}
	// Copies get consecutive ids on every GPU; reusing one is status 40.
	state := h.status(h.submit(&workerapi.GetWorkerState{ID: h.id()}), 0).(*workerapi.GetWorkerStateResult)
	if len(state.Memory.Models) != 2 || state.Memory.Models[1].ID != 4 || state.Memory.Models[1].NumWeightsPages != 2 {
		t.Fatalf("models %+v", state.Memory.Models)
	}
	h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), ModelID: 4, Path: p, Latest: workerapi.NoLatest, Copies: 1, MaxBatchSize: 8}), workerapi.ErrInvalidModelID)
}

// The receipt stamp is when the action finished arriving, which the
// Server takes on the connection's goroutine before handing it over, never
// later than the engine's now.
func TestReceivedStamp(t *testing.T) {
	h := newHarness(t, sim.New(1), Config{Pages: 10})
	for _, received := range []int64{h.now - 3*ms, h.now, h.now + ms} {
		r := h.status(h.submitReceived(received, &workerapi.GetWorkerState{ID: h.id()}), workerapi.Success)
		if got, _ := r.Stamps(); got != u(min(received, h.now)) {
			t.Errorf("received at %d (now %d): stamp %d", received, h.now, got)
		}
	}
}

func TestLoadModelFromDiskErrors(t *testing.T) {
	h := newHarness(t, sim.New(1), Config{Pages: 10})
	p := testZoo(t)
	load := func(path string, latest uint64, copies int32) int32 {
		return h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), ModelID: 0, Path: path, Latest: latest, Copies: copies, MaxBatchSize: 8, MaxExecDuration: u(ms * 100)})
	}
	h.status(load(p+"x", workerapi.NoLatest, 1), workerapi.ErrInvalidModelPath)
	h.status(load(p, u(h.now-1), 1), workerapi.ErrCouldNotStartInTime)
	h.status(load(p, workerapi.NoLatest, 0), workerapi.ErrInvalidAction)
	// More models than a worker holds: refused at once (2^31 − 1 copies
	// used to stall the engine for seconds and then take its memory).
	h.status(load(p, workerapi.NoLatest, workerapi.MaxModels+1), workerapi.ErrInvalidAction)
	h.status(load(p, workerapi.NoLatest, 1<<31-1), workerapi.ErrInvalidAction)
	// Ids a controller cannot take: refused, so that no controller leaves
	// this worker out at start-up.
	for _, first := range []int32{workerapi.MaxModels - 1, workerapi.MaxModels, 100000, 1<<31 - 2} {
		h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), ModelID: first, Path: p, Latest: workerapi.NoLatest, Copies: 2,
			MaxBatchSize: 8, MaxExecDuration: u(ms * 100)}), workerapi.ErrInvalidAction)
	}
	h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), ModelID: workerapi.MaxModels - 2, Path: p, Latest: workerapi.NoLatest, Copies: 2,
		MaxBatchSize: 8, MaxExecDuration: u(ms * 100)}), workerapi.Success)
	os.WriteFile(model.MeasurementsFile(p), []byte("weights = oops;"), 0o644)
	h.status(load(p, workerapi.NoLatest, 1), workerapi.ErrInvalidModelPath)
	os.Remove(model.MeasurementsFile(p))
	h.status(load(p, workerapi.NoLatest, 1), workerapi.ErrUnknownModel)
}

// TestWorkerStateFitsInAFrame: models are refused (status 12) once the
// GetWorkerState answer would pass a frame's header limit, as models with
// long paths would otherwise make it well before MaxModels (the answer
// then failed on every controller that asked for it).
func TestWorkerStateFitsInAFrame(t *testing.T) {
	h := newHarness(t, sim.New(2), Config{Pages: 10})
	p := testZoo(t)
	long := filepath.Dir(p) + strings.Repeat("/.", 2000) + "/" + filepath.Base(p) // 4 KiB, the same model
	next, refused := int32(0), false
	for i := 0; i < 10 && !refused; i++ {
		r := h.result(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), ModelID: next, Path: long, Latest: workerapi.NoLatest, Copies: 400, MaxBatchSize: 8}))
		switch r.Status() {
		case workerapi.Success:
			next += 400
		case workerapi.ErrInvalidAction:
			refused = true
		default:
			t.Fatalf("%s", r)
		}
	}
	if !refused {
		t.Fatalf("%d models with 4 KiB paths all loaded", next)
	}
	state := h.status(h.submit(&workerapi.GetWorkerState{ID: h.id()}), workerapi.Success)
	msg, err := workerapi.EncodeResult(state)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(msg.Header); n > wire.MaxHeaderSize || n < wire.MaxHeaderSize-400*4200 {
		t.Errorf("%d models: a GetWorkerState header of %d bytes; want at most %d, and no room left for 400 more models", next, n, wire.MaxHeaderSize)
	}
	// Models with short paths still load.
	h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), ModelID: next, Path: p, Latest: workerapi.NoLatest, Copies: 1, MaxBatchSize: 8}), workerapi.Success)
}

// TestWorkerStateBoundCountsGPUs: the bound on a GetWorkerState answer
// counts what its GPUs can list: a model without weights pages on every
// GPU (65,536 of them on 24 GPUs would pass the limit), and on each GPU no
// more models with pages than it has pages (900 GPUs of 1,376 pages used
// to leave no room for a single model).
func TestWorkerStateBoundCountsGPUs(t *testing.T) {
	h := newHarness(t, sim.New(24), Config{Pages: 10})
	p := testZooPages(t, 0)
	h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), Path: p, Latest: workerapi.NoLatest, Copies: workerapi.MaxModels, MaxBatchSize: 8}), workerapi.ErrInvalidAction)
	h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), Path: p, Latest: workerapi.NoLatest, Copies: 1000, MaxBatchSize: 8}), workerapi.Success)

	h = newHarness(t, sim.New(900), Config{Pages: 1376})
	h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), Path: testZoo(t), Latest: workerapi.NoLatest, Copies: 1, MaxBatchSize: 8}), workerapi.Success)
}

func TestLoadModelWaitsForEarliest(t *testing.T) {
	h := newHarness(t, sim.New(1), Config{Pages: 10})
	id := h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), Path: testZoo(t), Earliest: u(h.now + 5*ms), Latest: workerapi.NoLatest, Copies: 1, MaxBatchSize: 8})
	h.after(5*ms - 1)
	if !h.pending(id) {
		t.Fatal("started before earliest")
	}
	h.after(1)
	h.status(id, workerapi.Success)
}

func TestLoadWeights(t *testing.T) {
	h, _ := loaded(t, 1, 3)
	start := h.now + 2*ms
	id := h.submit(&workerapi.LoadWeights{ID: h.id(), Earliest: u(start), Latest: workerapi.NoLatest})
	second := h.submit(&workerapi.LoadWeights{ID: h.id(), Earliest: u(start), Latest: workerapi.NoLatest})
	h.advance(start + 10*ms - 1)
	if !h.pending(id) {
		t.Fatal("load finished before its profiled duration")
	}
	h.after(1)
	r := h.status(id, 0).(*workerapi.LoadWeightsResult)
	if r.Timing != (workerapi.Timing{Begin: u(start), End: u(start + 10*ms), Duration: u(10 * ms)}) {
		t.Fatalf("timing %+v", r.Timing)
	}
	// One transfer at a time per GPU: the reload starts when the first ends.
	h.after(10 * ms)
	if r := h.status(second, 0).(*workerapi.LoadWeightsResult); r.Timing.Begin != u(start+10*ms) {
		t.Fatalf("second load began at %d", r.Timing.Begin)
	}
	// A reload keeps the same pages: only one of three pages is free.
	st := h.status(h.submit(&workerapi.GetWorkerState{ID: h.id()}), 0).(*workerapi.GetWorkerStateResult)
	if !reflect.DeepEqual(st.Memory.GPUs[0].Models, []uint32{0}) || h.e.gpus[0].cache.freePages() != 1 {
		t.Fatalf("gpu state %+v, %d free", st.Memory.GPUs[0], h.e.gpus[0].cache.freePages())
	}
}

func TestLoadWeightsErrors(t *testing.T) {
	h, p := loaded(t, 1, 3)
	h.status(h.submit(&workerapi.LoadWeights{ID: h.id(), ModelID: 9, Latest: workerapi.NoLatest}), workerapi.LoadWeightsUnknownModel)
	h.status(h.submit(&workerapi.LoadWeights{ID: h.id(), Latest: u(h.now - 1)}), workerapi.LoadWeightsTooLate)
	h.status(h.submit(&workerapi.LoadWeights{ID: h.id(), GPU: 1, Latest: workerapi.NoLatest}), workerapi.ErrInvalidGPU)
	// A second model of 2 pages does not fit beside the first.
	h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), ModelID: 1, Path: p, Latest: workerapi.NoLatest, Copies: 1, MaxBatchSize: 8}), 0)
	first := h.submit(&workerapi.LoadWeights{ID: h.id(), Latest: workerapi.NoLatest})
	h.after(10 * ms)
	h.status(first, 0)
	h.status(h.submit(&workerapi.LoadWeights{ID: h.id(), ModelID: 1, Latest: workerapi.NoLatest}), workerapi.LoadWeightsInsufficientCache)
}

func TestClearCacheDuringLoad(t *testing.T) {
	h, _ := loaded(t, 1, 3)
	id := h.submit(&workerapi.LoadWeights{ID: h.id(), Latest: workerapi.NoLatest})
	h.after(5 * ms)
	h.status(h.submit(&workerapi.ClearCache{ID: h.id()}), 0)
	h.after(5 * ms)
	h.status(id, workerapi.LoadWeightsConcurrentModification)
	if f := h.e.gpus[0].cache.freePages(); f != 3 {
		t.Fatalf("%d pages free after ClearCache and a failed load, want all 3", f)
	}
}

func TestEvict(t *testing.T) {
	h, _ := loaded(t, 1, 3)
	h.status(h.submit(&workerapi.EvictWeights{ID: h.id(), Latest: workerapi.NoLatest}), workerapi.EvictWeightsNotInCache)
	h.status(h.submit(&workerapi.EvictWeights{ID: h.id(), ModelID: 7, Latest: workerapi.NoLatest}), workerapi.EvictWeightsUnknownModel)
	h.submit(&workerapi.LoadWeights{ID: h.id(), Latest: workerapi.NoLatest})
	h.after(10 * ms)
	h.status(h.submit(&workerapi.EvictWeights{ID: h.id(), Latest: u(h.now - 1)}), workerapi.EvictWeightsTooLate)
	r := h.status(h.submit(&workerapi.EvictWeights{ID: h.id(), Latest: workerapi.NoLatest}), 0).(*workerapi.EvictWeightsResult)
	if r.Timing.Begin != u(h.now) || r.Timing.Duration != 0 || h.e.gpus[0].cache.freePages() != 3 {
		t.Fatalf("evict %+v, %d free", r, h.e.gpus[0].cache.freePages())
	}
	// The runtime hears of it (runtime.Evicter), once, with the pages.
	n := h.e.models[0].info.NumPages
	if len(h.evictions) != 1 || h.evictions[0].GPU != 0 || len(h.evictions[0].Pages) != n || h.evictions[0].Model == nil {
		t.Fatalf("evictions %+v, want one of the model's %d pages on GPU 0", h.evictions, n)
	}
	h.submit(&workerapi.LoadWeights{ID: h.id(), Latest: workerapi.NoLatest})
	h.after(10 * ms)
	h.status(h.submit(&workerapi.ClearCache{ID: h.id()}), 0)
	if len(h.evictions) != 2 || len(h.evictions[1].Pages) != n {
		t.Fatalf("evictions %+v after ClearCache, want a second of %d pages", h.evictions, n)
	}
}

func infer(h *harness, batch uint32, input []byte, earliest, latest int64) int32 {
	return h.submit(&workerapi.Infer{ID: h.id(), BatchSize: batch, Input: input, Earliest: u(earliest), Latest: u(latest)})
}

func TestInfer(t *testing.T) {
	h, _ := loaded(t, 1, 3)
	h.status(infer(h, 1, nil, 0, int64(workerapi.NoLatest>>1)), workerapi.ExecWeightsMissing)
	h.submit(&workerapi.LoadWeights{ID: h.id(), Latest: workerapi.NoLatest})
	h.after(10 * ms)

	start := h.now + 3*ms
	a := infer(h, 3, make([]byte, 300), start, start+ms) // padded to 4: 4 ms
	b := infer(h, 1, nil, start, start+4*ms+1)           // waits for a; generated input
	c := infer(h, 1, nil, start, start+5*ms-1)           // waits for b: too late
	h.advance(start + 4*ms)
	ra := h.status(a, 0).(*workerapi.InferResult)
	if ra.Exec != (workerapi.Timing{Begin: u(start), End: u(start + 4*ms), Duration: u(4 * ms)}) ||
		len(ra.Output) != 30 || ra.GPUClock != sim.Clock || ra.CopyOutput.Begin != u(start+4*ms) {
		t.Fatalf("result %+v", ra)
	}
	h.after(ms)
	h.status(c, workerapi.ExecTooLate)
	if rb := h.status(b, 0).(*workerapi.InferResult); len(rb.Output) != 0 || rb.Exec.Begin != u(start+4*ms) {
		t.Fatalf("generated-input result %+v", rb)
	}
}

// TestInferPastDueInArrivalOrder: Infers already eligible when they
// arrive run in the order they arrived. Ordered by earliest time alone, a
// stream of Infers eligible ever further in the past (Earliest 0 shifted
// by a clock delta that the estimate lowers now and then) overtook one
// Infer for as long as the queue never emptied.
func TestInferPastDueInArrivalOrder(t *testing.T) {
	h, _ := loaded(t, 1, 3)
	h.submit(&workerapi.LoadWeights{ID: h.id(), Latest: workerapi.NoLatest})
	h.after(10 * ms)
	past := h.now - 100*ms
	first := infer(h, 1, nil, past, 1<<62) // runs at once, 1 ms
	second := infer(h, 1, nil, past, 1<<62)
	var later []int32
	for i := range 5 {
		later = append(later, infer(h, 1, nil, past-int64(i+1)*ms, 1<<62))
		h.after(ms)
	}
	h.after(10 * ms)
	want := append([]int32{first, second}, later...)
	if !slices.Equal(h.order[len(h.order)-len(want):], want) {
		t.Errorf("answered in the order %v, want %v", h.order[len(h.order)-len(want):], want)
	}
}

func TestInferErrors(t *testing.T) {
	h, _ := loaded(t, 2, 3)
	late := int64(1 << 62)
	h.status(h.submit(&workerapi.Infer{ID: h.id(), ModelID: 5, BatchSize: 1, Latest: u(late)}), workerapi.CopyInputUnknownModel)
	h.status(infer(h, 0, nil, 0, late), workerapi.CopyInputInvalidBatchSize)
	h.status(infer(h, 9, nil, 0, late), workerapi.CopyInputInvalidBatchSize)
	h.status(infer(h, 2, make([]byte, 150), 0, late), workerapi.CopyInputInvalidInput)
	h.status(h.submit(&workerapi.Infer{ID: h.id(), GPU: 2, BatchSize: 1, Latest: u(late)}), workerapi.ErrInvalidGPU)
	// Compressed inputs are not validated by the simulated worker.
	h.submit(&workerapi.LoadWeights{ID: h.id(), GPU: 1, Latest: workerapi.NoLatest})
	h.after(10 * ms)
	id := h.submit(&workerapi.Infer{ID: h.id(), GPU: 1, BatchSize: 2, Input: []byte{1, 2, 3}, InputSizes: []uint32{1, 2}, Latest: u(late)})
	h.after(2 * ms)
	h.status(id, 0)

	// Without zero-size inputs an empty body is an error, not an abort.
	h2, _ := loaded(t, 1, 3)
	h2.e.cfg.AllowZeroSizeInputs = false
	h2.submit(&workerapi.LoadWeights{ID: h2.id(), Latest: workerapi.NoLatest})
	h2.after(10 * ms)
	h2.status(infer(h2, 1, nil, 0, late), workerapi.CopyInputInvalidInput)
}

// TestInferOutputPastAMessage: an Infer whose output no message could
// carry is answered 73 before anything is computed. A model claiming 10^12
// bytes of output an item took worker_dummy down allocating them; 2^62 at
// batch size 2 wrapped the length to a negative one and answered 0 with no
// output; a real output over 256 MiB closed the controller's connection.
func TestInferOutputPastAMessage(t *testing.T) {
	for _, out := range []uint64{1 << 62, maxOutput/2 + 1} {
		h := newHarness(t, sim.New(1), Config{Pages: 3, AllowZeroSizeInputs: true})
		p := testModel(t, model.Spec{InputSize: 100, OutputSize: out, WeightsSize: 1 << 20, WeightsPages: 1,
			PageSize: model.PageSize, BatchSizes: []int{1, 2, 4, 8}})
		h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), Path: p, Latest: workerapi.NoLatest, Copies: 1,
			MaxBatchSize: 8, MaxExecDuration: uint64(1000 * ms)}), workerapi.Success)
		h.submit(&workerapi.LoadWeights{ID: h.id(), Latest: workerapi.NoLatest})
		h.after(10 * ms)
		for _, b := range []uint32{2, 4} {
			h.status(infer(h, b, make([]byte, b*100), 0, 1<<62), workerapi.CopyInputInvalidBatchSize)
		}
		// Without an input nothing is sent back: the exec runs.
		id := infer(h, 2, nil, 0, 1<<62)
		h.after(10 * ms)
		h.status(id, workerapi.Success)
	}
}

func TestInferRacingWeights(t *testing.T) {
	h, _ := loaded(t, 1, 3)
	h.submit(&workerapi.LoadWeights{ID: h.id(), Latest: workerapi.NoLatest})
	h.after(10 * ms)
	a := infer(h, 8, nil, 0, 1<<62) // 8 ms
	h.after(ms)
	h.status(h.submit(&workerapi.EvictWeights{ID: h.id(), Latest: workerapi.NoLatest}), 0)
	h.after(7 * ms)
	h.status(a, workerapi.ExecConcurrentWeightsModification)
}

func TestShutdownCancels(t *testing.T) {
	h, _ := loaded(t, 1, 3)
	id := h.submit(&workerapi.LoadWeights{ID: h.id(), Earliest: u(h.now + ms), Latest: workerapi.NoLatest})
	h.e.Shutdown()
	h.settle()
	h.status(id, workerapi.ErrCancelled)
}

// TestCancel: Cancel answers 1 the queued actions of an owner that hold
// nothing (a load, an eviction, an Infer before its copy-input); what
// runs or holds IO memory (an Infer whose input is copied) finishes as
// usual, and other owners' actions stay queued. Their inputs count no
// more against MaxQueuedInput.
func TestCancel(t *testing.T) {
	// Each Infer counts its 100 bytes and InferOverhead: 1124 bytes.
	h := newHarness(t, withInputStage{sim.New(1)}, Config{Pages: 5, MaxQueuedInput: 4 * 1124})
	h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), Path: testZoo(t), Latest: workerapi.NoLatest,
		Copies: 1, MaxBatchSize: 8, MaxExecDuration: uint64(1000 * ms)}), workerapi.Success)
	h.submit(&workerapi.LoadWeights{ID: h.id(), Latest: workerapi.NoLatest})
	h.after(20 * ms)
	later := u(h.now + 3600_000*ms)
	tagged := func(owner string, a workerapi.Action) int32 {
		h.e.Submit(h.now, h.now, a, owner)
		h.settle()
		return a.ActionID()
	}
	inferAt := func(owner string, earliest uint64) int32 {
		return tagged(owner, &workerapi.Infer{ID: h.id(), BatchSize: 1, Input: make([]byte, 100), Earliest: earliest, Latest: workerapi.NoLatest})
	}
	running := inferAt("a", 0)            // runs at once, 1 ms
	copied := inferAt("a", u(h.now+3*ms)) // input copied, waits for its exec with IO memory
	queued := inferAt("a", later)
	weights := tagged("a", &workerapi.EvictWeights{ID: h.id(), Earliest: later, Latest: workerapi.NoLatest})
	load := tagged("a", &workerapi.LoadModelFromDisk{ID: h.id(), ModelID: 1, Path: testZoo(t), Earliest: later,
		Latest: workerapi.NoLatest, Copies: 1, MaxBatchSize: 1})
	other := inferAt("b", later)
	h.status(inferAt("b", later), workerapi.CopyInputHostAlloc) // a fifth Infer past the bound
	if n := h.e.Cancel(func(tag any) bool { return tag == "a" }, "test"); n != 3 {
		t.Errorf("cancelled %d actions, want 3", n)
	}
	h.settle()
	for _, id := range []int32{queued, weights, load} {
		if r := h.status(id, workerapi.ErrCancelled).(*workerapi.ErrorResult); r.Message != "Action cancelled: test" {
			t.Errorf("action %d: %q", id, r.Message)
		}
	}
	if h.e.queuedInput != 3*1124 {
		t.Errorf("%d bytes of input held after the cancel, want %d", h.e.queuedInput, 3*1124)
	}
	h.after(10 * ms)
	h.status(running, workerapi.Success)
	h.status(copied, workerapi.Success)
	if !h.pending(other) {
		t.Errorf("another owner's Infer was answered: %v", h.result(other))
	}
	if h.e.queuedInput != 1124 {
		t.Errorf("%d bytes of input held once only one Infer is left, want 1124", h.e.queuedInput)
	}
}

// TestQueuedInfersWithoutInputAreBounded: Infers without an input (the
// worker generates one) count InferOverhead each against MaxQueuedInput,
// so that a stream of them due far in the future is bounded too.
func TestQueuedInfersWithoutInputAreBounded(t *testing.T) {
	h, _ := loaded(t, 1, 3)
	h.e.cfg.MaxQueuedInput = 2 * InferOverhead
	later := u(h.now + 3600_000*ms)
	for i, want := range []int32{-1, -1, workerapi.CopyInputHostAlloc} {
		id := h.submit(&workerapi.Infer{ID: h.id(), BatchSize: 1, Earliest: later, Latest: workerapi.NoLatest})
		if want < 0 {
			if !h.pending(id) {
				t.Fatalf("Infer %d answered: %v", i, h.result(id))
			}
			continue
		}
		h.status(id, want)
	}
}

// TestQueuedInputSizesAreBounded: an Infer's list of input sizes counts 4
// bytes an entry against MaxQueuedInput (a header may list 5 M of them).
func TestQueuedInputSizesAreBounded(t *testing.T) {
	h, _ := loaded(t, 1, 3)
	h.e.cfg.MaxQueuedInput = 2*InferOverhead + 4*1000
	later := u(h.now + 3600_000*ms)
	infer := func(sizes int) int32 {
		return h.submit(&workerapi.Infer{ID: h.id(), BatchSize: 1, InputSizes: make([]uint32, sizes), Earliest: later, Latest: workerapi.NoLatest})
	}
	if id := infer(1000); !h.pending(id) { // worker_dummy takes what it does not check
		t.Fatalf("an Infer within the bound answered: %v", h.result(id))
	}
	h.status(infer(1), workerapi.CopyInputHostAlloc)
	if h.e.queuedInput != InferOverhead+4*1000 {
		t.Errorf("%d bytes held, want %d", h.e.queuedInput, InferOverhead+4*1000)
	}
}

func TestGetWorkerState(t *testing.T) {
	h, p := loaded(t, 2, 5)
	h.submit(&workerapi.LoadWeights{ID: h.id(), GPU: 1, Latest: workerapi.NoLatest})
	h.after(10 * ms)
	st := h.status(h.submit(&workerapi.GetWorkerState{ID: h.id()}), 0).(*workerapi.GetWorkerStateResult)
	want := workerapi.WorkerMemoryInfo{
		PageSize: model.PageSize, HostWeightsCacheSize: ^uint64(0),
		GPUs: []workerapi.GPUInfo{
			{ID: 0, WeightsCacheSize: 5 * model.PageSize, WeightsCacheTotalPages: 5},
			{ID: 1, WeightsCacheSize: 5 * model.PageSize, WeightsCacheTotalPages: 5, Models: []uint32{0}},
		},
		Models: []workerapi.ModelInfo{{ID: 0, Source: p, InputSize: 100, OutputSize: 10, BatchSizes: []uint32{1, 2, 4, 8},
			WeightsSize: 20 << 20, NumWeightsPages: 2, WeightsLoadTime: u(10 * ms),
			ExecTimes: []uint64{u(ms), u(2 * ms), u(4 * ms), u(8 * ms)}}},
	}
	if !reflect.DeepEqual(st.Memory, want) {
		t.Fatalf("state\n got %+v\nwant %+v", st.Memory, want)
	}

	// Models loaded out of order are listed by id, each copy with its own.
	for _, first := range []int32{7, 3, 1} {
		h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), ModelID: first, Path: p, Latest: workerapi.NoLatest, Copies: 2, MaxBatchSize: 8}), 0)
	}
	h.submit(&workerapi.LoadWeights{ID: h.id(), ModelID: 4, GPU: 1, Latest: workerapi.NoLatest})
	h.after(10 * ms)
	st = h.status(h.submit(&workerapi.GetWorkerState{ID: h.id()}), 0).(*workerapi.GetWorkerStateResult)
	var ids []int32
	for _, m := range st.Memory.Models {
		ids = append(ids, m.ID)
	}
	if want := []int32{0, 1, 2, 3, 4, 7, 8}; !slices.Equal(ids, want) {
		t.Errorf("models %v, want %v", ids, want)
	}
	if got := st.Memory.GPUs[1].Models; !slices.Equal(got, []uint32{0, 4}) {
		t.Errorf("GPU 1 holds %v, want [0 4]", got)
	}
}

// brokenGPU is the simulated runtime whose GPU gpu answers every exec
// with status 14, as a GPU that hit a sticky CUDA error does.
type brokenGPU struct {
	runtime.Runtime
	gpu int
}

type brokenModel struct {
	runtime.Model
	gpu int
}

func (b brokenGPU) Load(path string, opts runtime.LoadOptions) (runtime.Model, error) {
	m, err := b.Runtime.Load(path, opts)
	if err != nil {
		return nil, err
	}
	return brokenModel{m, b.gpu}, nil
}

func (m brokenModel) Exec(gpu int, io runtime.IO, pages []int, start int64) (runtime.ExecTiming, error) {
	if gpu == m.gpu {
		return runtime.ExecTiming{}, runtime.Errorf(workerapi.ErrGPUUnusable, "GPU %d is unusable after an injected fault", gpu)
	}
	return m.Model.Exec(gpu, io, pages, start)
}

// TestUnusableGPULeavesTheState: once an Infer on GPU 1 failed with
// status 14, GetWorkerState lists GPU 0 only, so that a controller
// reconnecting to this process does not put GPU 1 back in service.
func TestUnusableGPULeavesTheState(t *testing.T) {
	h := newHarness(t, brokenGPU{sim.New(2), 1}, Config{Pages: 5, AllowZeroSizeInputs: true})
	h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), Path: testZoo(t), Latest: workerapi.NoLatest,
		Copies: 1, MaxBatchSize: 8, MaxExecDuration: uint64(1000 * ms)}), workerapi.Success)
	for g := range uint32(2) {
		h.submit(&workerapi.LoadWeights{ID: h.id(), GPU: g, Latest: workerapi.NoLatest})
	}
	h.after(20 * ms)
	bad := h.submit(&workerapi.Infer{ID: h.id(), GPU: 1, BatchSize: 1, Latest: workerapi.NoLatest})
	good := h.submit(&workerapi.Infer{ID: h.id(), GPU: 0, BatchSize: 1, Latest: workerapi.NoLatest})
	h.after(10 * ms)
	h.status(bad, workerapi.ErrGPUUnusable)
	h.status(good, workerapi.Success)
	st := h.status(h.submit(&workerapi.GetWorkerState{ID: h.id()}), 0).(*workerapi.GetWorkerStateResult)
	if len(st.Memory.GPUs) != 1 || st.Memory.GPUs[0].ID != 0 {
		t.Errorf("GPUs in the state %+v, want GPU 0 only", st.Memory.GPUs)
	}
	// Every later action that names GPU 1 gets 14, also those the engine
	// answers without the runtime (they answered 0 and 52).
	h.status(h.submit(&workerapi.EvictWeights{ID: h.id(), GPU: 1, Latest: workerapi.NoLatest}), workerapi.ErrGPUUnusable)
	h.status(h.submit(&workerapi.LoadWeights{ID: h.id(), ModelID: 99, GPU: 1, Latest: workerapi.NoLatest}), workerapi.ErrGPUUnusable)
	h.status(h.submit(&workerapi.EvictWeights{ID: h.id(), GPU: 0, Latest: workerapi.NoLatest}), workerapi.Success)
}

// withInputStage is the simulated runtime run by the real worker's
// pipeline (a copy-input stage of its own).
type withInputStage struct{ runtime.Runtime }

func (withInputStage) InputStage() bool { return true }

// TestDummyTakesAnEmptyBodyWithInputSizes: with zero-size inputs
// disallowed, the dummy still takes an Infer whose body is empty but which
// lists input_sizes (what the controller sends where nobody sent inputs),
// as the original's dummy did; the real worker's pipeline refuses it (the
// original's aborted).
func TestDummyTakesAnEmptyBodyWithInputSizes(t *testing.T) {
	for _, real := range []bool{false, true} {
		var rt runtime.Runtime = sim.New(1)
		if real {
			rt = withInputStage{rt}
		}
		h := newHarness(t, rt, Config{Pages: 5})
		h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), Path: testZoo(t), Latest: workerapi.NoLatest,
			Copies: 1, MaxBatchSize: 8, MaxExecDuration: uint64(1000 * ms)}), workerapi.Success)
		h.submit(&workerapi.LoadWeights{ID: h.id(), Latest: workerapi.NoLatest})
		h.after(20 * ms)
		for _, sizes := range [][]uint32{{0, 0}, nil} {
			id := h.submit(&workerapi.Infer{ID: h.id(), BatchSize: 2, InputSizes: sizes, Latest: workerapi.NoLatest})
			h.after(20 * ms)
			want := workerapi.Success
			if real || sizes == nil {
				want = workerapi.CopyInputInvalidInput
			}
			h.status(id, want)
		}
	}
}

// TestCPUIOPool: on the CPU runtime an Infer's copy-input takes an IO
// region from the runtime's bounded pool and holds it until its output is
// copied out, so Infers queued ahead of their time, inputs or not, are
// answered 76 (the GPU's IO pool full) once the pool is taken; the one
// holding the region still runs, and gives it back.
func TestCPUIOPool(t *testing.T) {
	path, err := modelgen.Write(t.TempDir(), "mlp")
	if err != nil {
		t.Fatal(err)
	}
	em, err := engine.ReadFile(path, model.PageSize)
	if err != nil {
		t.Fatal(err)
	}
	p, err := em.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := cpu.New(cpu.Config{PageSize: model.PageSize, CacheBytes: 4 * model.PageSize, IOPoolBytes: uint64(p.IOBytes), SkipMeasure: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	h := newHarness(t, rt, Config{Pages: 4})
	h.status(h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), Path: path, Latest: workerapi.NoLatest, Copies: 1, MaxBatchSize: 1}), workerapi.Success)
	load := h.submit(&workerapi.LoadWeights{ID: h.id(), Latest: workerapi.NoLatest})
	h.after(1000 * ms) // a real copy of a 16 MiB page
	h.status(load, workerapi.Success)

	// The second's copy-input starts as the first's ends, before the
	// first's exec may (its earliest), whatever the copies take: it finds
	// the region taken. (A third's would start as the second's ends, which
	// a stall could put after the first's output is copied out.)
	earliest := u(h.now + 1000*ms)
	first := h.submit(&workerapi.Infer{ID: h.id(), BatchSize: 1, Input: make([]byte, em.InputSize()), Earliest: earliest, Latest: workerapi.NoLatest})
	second := h.submit(&workerapi.Infer{ID: h.id(), BatchSize: 1, Input: make([]byte, em.InputSize()), Earliest: earliest, Latest: workerapi.NoLatest})
	h.after(2000 * ms)
	h.status(first, workerapi.Success)
	h.status(second, workerapi.CopyInputIOPoolExhausted)
	id := h.submit(&workerapi.Infer{ID: h.id(), BatchSize: 1, Input: make([]byte, em.InputSize()), Latest: workerapi.NoLatest})
	h.after(1000 * ms)
	h.status(id, workerapi.Success) // the region came back
}
