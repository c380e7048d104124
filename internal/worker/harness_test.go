package worker

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/clockwork-go/clockwork/internal/model"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/sim"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

const ms = int64(1_000_000)

// harness drives an Engine in virtual time the way Server does, running
// operations on a runtime and delivering each completion at its end.
type harness struct {
	t       testing.TB
	e       *Engine
	rt      runtime.Runtime
	now     int64
	due     completions
	results map[int32]workerapi.Result
	order   []int32
	nextID  int32
	// evictions are the engine's Output.Evictions so far, as delivered.
	evictions []Eviction
}

func newHarness(t testing.TB, rt runtime.Runtime, cfg Config) *harness {
	cfg.GPUs = rt.NumGPUs()
	cfg.InputStage = rt.InputStage()
	if cfg.PageSize == 0 {
		cfg.PageSize = model.PageSize
	}
	return &harness{t: t, e: NewEngine(cfg), rt: rt, now: 1000 * ms, results: map[int32]workerapi.Result{}}
}

// submit hands the engine an action at the current time and returns its id.
func (h *harness) submit(a workerapi.Action) int32 { return h.submitReceived(h.now, a) }

// submitReceived hands the engine, at the current time, an action that
// finished arriving at received, and returns its id.
func (h *harness) submitReceived(received int64, a workerapi.Action) int32 {
	h.e.Submit(h.now, received, a, nil)
	h.settle()
	return a.ActionID()
}

func (h *harness) id() int32 { h.nextID++; return h.nextID }

// settle runs everything that is due at the current time.
func (h *harness) settle() {
	for {
		for h.due.Len() > 0 && h.due.Min().Done() <= h.now {
			c := h.due.Pop()
			h.e.Complete(max(c.Done(), h.now), &c)
		}
		var out Output
		h.e.Ready(h.now, &out)
		for _, x := range out.Evictions {
			x.Deliver()
		}
		h.evictions = append(h.evictions, out.Evictions...)
		for _, o := range out.Results {
			id := o.Result.ActionID()
			if _, dup := h.results[id]; dup {
				h.t.Fatalf("action %d answered twice", id)
			}
			h.results[id] = o.Result
			h.order = append(h.order, id)
		}
		for _, op := range out.Ops {
			h.due.Push(op.Run(h.rt))
		}
		if len(out.Ops) == 0 && (h.due.Len() == 0 || h.due.Min().Done() > h.now) {
			return
		}
	}
}

// advance moves time to t, processing every event on the way in order.
func (h *harness) advance(t int64) {
	for {
		next := t
		var out Output
		h.e.Ready(h.now, &out)
		for _, x := range out.Evictions {
			x.Deliver()
		}
		h.evictions = append(h.evictions, out.Evictions...)
		if len(out.Ops) > 0 || len(out.Results) > 0 {
			h.t.Fatal("advance with unsettled engine")
		}
		if out.Wake != 0 && out.Wake < next {
			next = out.Wake
		}
		if h.due.Len() > 0 && h.due.Min().Done() < next {
			next = h.due.Min().Done()
		}
		h.now = max(h.now, next)
		h.settle()
		if h.now >= t {
			return
		}
	}
}

func (h *harness) after(d int64) { h.advance(h.now + d) }

// result returns the result of action id, failing if there is none.
func (h *harness) result(id int32) workerapi.Result {
	h.t.Helper()
	r, ok := h.results[id]
	if !ok {
		h.t.Fatalf("action %d has no result at %d", id, h.now)
	}
	return r
}

func (h *harness) pending(id int32) bool {
	_, ok := h.results[id]
	return !ok
}

// status asserts the status of action id's result.
func (h *harness) status(id int32, want int32) workerapi.Result {
	h.t.Helper()
	r := h.result(id)
	if r.Status() != want {
		h.t.Fatalf("action %d: status %d (%v), want %d", id, r.Status(), r, want)
	}
	return r
}

// testZoo writes a simulated model "m" (2 pages, weights 10 ms, b1 1 ms,
// b2 2 ms, b4 4 ms, b8 8 ms) and returns its prefix.
func testZoo(t testing.TB) string { return testZooPages(t, 2) }

// testZooPages is testZoo's model with pages weights pages (20 MiB of
// weights, or none).
func testZooPages(t testing.TB, pages int) string {
	spec := model.Spec{InputSize: 100, OutputSize: 10, WeightsSize: 20 << 20, WeightsPages: pages,
		PageSize: model.PageSize, BatchSizes: []int{1, 2, 4, 8}}
	if pages == 0 {
		spec.WeightsSize = 0
	}
	return testModel(t, spec)
}

// testModel writes a simulated model of spec with testZoo's measurements
// and returns its prefix.
func testModel(t testing.TB, spec model.Spec) string {
	dir := filepath.Join(t.TempDir(), "m")
	os.MkdirAll(dir, 0o755)
	p := model.Prefix(dir)
	if err := spec.Write(p); err != nil {
		t.Fatal(err)
	}
	meas := model.Measurements{Weights: uint64(10 * ms), Exec: map[int]uint64{1: uint64(ms), 2: uint64(2 * ms), 4: uint64(4 * ms), 8: uint64(8 * ms)}}
	if err := meas.Write(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// loaded returns a harness with model 0 loaded on every simulated GPU.
func loaded(t *testing.T, gpus, pages int) (*harness, string) {
	h := newHarness(t, sim.New(gpus), Config{Pages: pages, AllowZeroSizeInputs: true})
	p := testZoo(t)
	id := h.submit(&workerapi.LoadModelFromDisk{ID: h.id(), Path: p, Latest: workerapi.NoLatest, Copies: 1, MaxBatchSize: 8, MaxExecDuration: uint64(1000 * ms)})
	h.status(id, workerapi.Success)
	return h, p
}
