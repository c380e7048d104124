package infer5_test

import (
	"math"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/scheduler/infer5"
	"github.com/clockwork-go/clockwork/internal/scheduler/schedtest"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// A worker's figures that are wrong (a clock set wrong, a bug, a GPU's
// hiccup) cost at most a while of service, never a model or a GPU for
// good.

// serve sends requests for model 0 every 20 ms from start to end (ms),
// each action answered 0.5 ms later with the profiled b1 time, and
// returns the statuses of those that arrived from `from` on, less the
// last 200 ms' (the harness leaves those to time out).
func serve(h *schedtest.Harness, start, from, end float64) map[int32]int {
	done := map[int32]bool{}
	answer := func() {
		for _, s := range h.Sends {
			if !done[s.Action.ActionID()] {
				done[s.Action.ActionID()] = true
				h.After(ms(0.5)).Succeed(s, b1)
			}
		}
	}
	var reqs []*scheduler.Request
	for at := start; at < end; at += 20 {
		r := h.At(ms(at)).Infer(0)
		if at >= from && at < end-200 {
			reqs = append(reqs, r)
		}
		answer()
	}
	for range 10 { // what the last requests were batched into
		h.After(ms(10))
		answer()
	}
	statuses := map[int32]int{}
	for _, r := range reqs {
		a, _ := h.Answer(r)
		statuses[a.Status]++
	}
	return statuses
}

// firstExec starts a harness whose first Infer of model 0 (b1 only) is
// answered with res, its ID and times filled in.
func firstExec(t *testing.T, res *workerapi.InferResult, opts ...infer5.Option) *schedtest.Harness {
	m := schedtest.ResNet50()
	m.Exec = map[int]int64{1: b1}
	st := schedtest.NewCluster(1, 1).Model(m, 1).Resident(0, 0, 0).State()
	h := schedtest.New(t, factory(opts...), schedtest.Config(), st)
	h.At(ms(1)).Infer(0)
	now := uint64(h.After(b1).Now())
	res.ID = h.Infers()[0].Infer().ID
	if res.Exec.End == 0 {
		res.Exec.Begin, res.Exec.End = now-uint64(b1), now
	}
	h.Result(0, res)
	return h
}

// TestOneSlowExecStarvesAModelForAWhileOnly: after an exec of 1 s (or a
// worker's bogus figure), a model's estimate is past every deadline and
// none of its requests runs; 10 s on, its estimates are the profiled ones
// again and it is served. (The original never served it again.)
func TestOneSlowExecStarvesAModelForAWhileOnly(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []infer5.Option
		dur  uint64
	}{
		{"INFER5 1 s", nil, 1e9},
		{"INFER5 2^62 ns", nil, 1 << 62},
		{"INFER4 1 s", []infer5.Option{infer5.Infer4()}, 1e9},
	} {
		h := firstExec(t, &workerapi.InferResult{Exec: workerapi.Timing{Duration: tc.dur}}, tc.opts...)
		starved := serve(h, 100, 100, 9000)
		if starved[0] != 0 {
			t.Errorf("%s: %d requests served in the first 9 s, with an estimate past their deadlines", tc.name, starved[0])
		}
		later := serve(h, 9500, 11000, 13000)
		if later[0] != 90 {
			t.Errorf("%s: statuses after 11 s %v, want all 90 served", tc.name, later)
		}
		if !strings.Contains(h.Log(), "Model 0 has not run for 10s while its requests timed out: its estimates are the profiled times again") {
			t.Errorf("%s: log:\n%s", tc.name, h.Log())
		}
	}
}

// TestWorkerFiguresThatCannotBe: a completion reported in the future does
// not hold the GPU, and SM clocks no GPU has are ignored.
func TestWorkerFiguresThatCannotBe(t *testing.T) {
	for _, tc := range []struct {
		name string
		res  workerapi.InferResult
	}{
		{"end 60 s ahead", workerapi.InferResult{Exec: workerapi.Timing{End: 60e9, Duration: uint64(b1)}}},
		{"end 2^62", workerapi.InferResult{Exec: workerapi.Timing{End: 1 << 62, Duration: uint64(b1)}}},
		{"clock 1 MHz", workerapi.InferResult{Exec: workerapi.Timing{Duration: uint64(b1)}, GPUClock: 1, GPUClockBefore: 1}},
		{"clock 2^32-1 MHz", workerapi.InferResult{Exec: workerapi.Timing{Duration: uint64(b1)}, GPUClock: math.MaxUint32, GPUClockBefore: math.MaxUint32}},
	} {
		for _, infer4 := range []bool{false, true} {
			var opts []infer5.Option
			if infer4 {
				opts = append(opts, infer5.Infer4())
			}
			res := tc.res
			h := firstExec(t, &res, opts...)
			if st := serve(h, 100, 100, 2000); st[0] != 85 {
				t.Errorf("%s (INFER4 %v): statuses %v, want all 85 served", tc.name, infer4, st)
			}
		}
	}
}

// TestModelLargerThanTheGPU: a model that can never fit evicts nothing.
func TestModelLargerThanTheGPU(t *testing.T) {
	big := schedtest.ResNet50()
	big.Pages = 1000 // of the GPU's 100
	for _, infer4 := range []bool{false, true} {
		var opts []infer5.Option
		if infer4 {
			opts = append(opts, infer5.Infer4())
		}
		st := schedtest.NewCluster(1, 1).Model(schedtest.ResNet50(), 1).Model(big, 1).Resident(0, 0, 0).State()
		h := schedtest.New(t, factory(opts...), schedtest.Config(), st)
		for i := range 20 {
			h.At(ms(1 + 50*float64(i))).Infer(1)
		}
		h.At(ms(2000))
		if n := len(h.Evicts()) + len(h.Loads()); n != 0 {
			t.Errorf("INFER4 %v: %d evictions and loads for a model that cannot fit", infer4, n)
		}
	}
}

// TestModelIDsWithinTheClusterLimit: a worker reporting a model id past
// workerapi.MaxModels is refused, not allocated for.
func TestModelIDsWithinTheClusterLimit(t *testing.T) {
	mem := &workerapi.WorkerMemoryInfo{PageSize: 16 << 20, GPUs: []workerapi.GPUInfo{{WeightsCacheTotalPages: 100}}}
	mem.Models = []workerapi.ModelInfo{{ID: workerapi.MaxModels, Source: "/x", InputSize: 10, NumWeightsPages: 1, BatchSizes: []uint32{1}, ExecTimes: []uint64{3e6}}}
	st := &scheduler.State{PageSize: 16 << 20, Workers: []scheduler.Worker{scheduler.WorkerFromMemory(0, mem)}}
	if _, err := infer5.New(schedtest.Config(), st); err == nil || !strings.Contains(err.Error(), "model id 65536 out of range") {
		t.Errorf("err %v", err)
	}
}

// TestIdleModelKeepsItsEstimates: a model that has not run for a while
// and whose requests time out behind a GPU that does not answer keeps its
// estimates: they are not what holds its requests back.
func TestIdleModelKeepsItsEstimates(t *testing.T) {
	h := firstExec(t, &workerapi.InferResult{Exec: workerapi.Timing{Duration: uint64(b1)}})
	h.At(ms(15000)).InferN(0, 40) // the GPU answers none of these
	h.At(ms(16000))
	if h.Answers[len(h.Answers)-1].Status != 4 {
		t.Fatalf("last answer %+v, want a timeout", h.Answers[len(h.Answers)-1].Response)
	}
	if strings.Contains(h.Log(), "has not run for") {
		t.Errorf("estimates reset:\n%s", h.Log())
	}
}
