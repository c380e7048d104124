package controller

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// stressRig runs a STRESS controller against simulated workers that
// answer in the order they were asked, each action taking a millisecond,
// and that check what a real worker would: a model's weights fit in the
// GPU's pages, and an Infer's model is resident.
type stressRig struct {
	t     *testing.T
	s     *stress
	out   bytes.Buffer
	now   int64
	queue []sentAction
	// per worker: GPUs' pages, resident models (model → pages) and models
	gpus     [][]workerapi.GPUInfo
	resident []map[uint32]map[int32]bool
	models   [][]int32
	pages    uint32 // each model's
	broken   int32  // while not 0, every LoadWeights and Infer fails with this status
	// what the workers saw
	maxLoads, maxInfers int
	loads, infers       map[[2]int]int
	badInfers           int
}

type sentAction struct {
	worker int
	a      workerapi.Action
}

func newStressRig(t *testing.T, pages int32, gpusPerWorker ...int) *stressRig {
	r := &stressRig{t: t, pages: 7, loads: map[[2]int]int{}, infers: map[[2]int]int{}}
	for w, n := range gpusPerWorker {
		var gs []workerapi.GPUInfo
		for g := range n {
			gs = append(gs, workerapi.GPUInfo{ID: int32(g), WeightsCacheTotalPages: pages})
		}
		r.gpus = append(r.gpus, gs)
		r.resident = append(r.resident, map[uint32]map[int32]bool{})
		for g := range n {
			r.resident[w][uint32(g)] = map[int32]bool{}
		}
		r.models = append(r.models, []int32{9}) // each worker holds model 9 already
	}
	r.s = newStress(&r.out, func(w int, a workerapi.Action) {
		r.queue = append(r.queue, sentAction{w, a})
		switch a := a.(type) {
		case *workerapi.LoadWeights:
			k := [2]int{w, int(a.GPU)}
			r.loads[k]++
			r.maxLoads = max(r.maxLoads, r.loads[k])
		case *workerapi.Infer:
			k := [2]int{w, int(a.GPU)}
			r.infers[k]++
			r.maxInfers = max(r.maxInfers, r.infers[k])
		}
	}, len(gpusPerWorker), StressOptions{Model: "/z/resnet50_v2/model", Copies: 40})
	return r
}

// step answers the oldest action as a worker would; false when none is
// left.
func (r *stressRig) step() bool {
	if len(r.queue) == 0 {
		return false
	}
	sa := r.queue[0]
	r.queue = r.queue[1:]
	r.now += 1e6
	w := sa.worker
	var res workerapi.Result
	fail := func(code int32, msg string) {
		res = &workerapi.ErrorResult{ID: sa.a.ActionID(), ActionType: sa.a.Type(), Code: code, Message: msg}
	}
	switch a := sa.a.(type) {
	case *workerapi.GetWorkerState:
		st := &workerapi.GetWorkerStateResult{ID: a.ID, Memory: workerapi.WorkerMemoryInfo{PageSize: 16 << 20, GPUs: r.gpus[w]}}
		for _, id := range r.models[w] {
			st.Memory.Models = append(st.Memory.Models, workerapi.ModelInfo{ID: id})
		}
		res = st
	case *workerapi.LoadModelFromDisk:
		for i := range a.Copies {
			r.models[w] = append(r.models[w], a.ModelID+i)
		}
		res = &workerapi.LoadModelFromDiskResult{ID: a.ID, NumWeightsPages: r.pages, WeightsLoadTime: 8e6,
			ExecTimes: []uint64{3e6}, BatchSizes: []uint32{1}, CopiesCreated: a.Copies}
	case *workerapi.LoadWeights:
		r.loads[[2]int{w, int(a.GPU)}]--
		on := r.resident[w][a.GPU]
		if r.broken != 0 {
			fail(r.broken, "GPU broken")
			break
		}
		if int32(len(on)+1)*int32(r.pages) > r.gpus[w][a.GPU].WeightsCacheTotalPages {
			fail(53, "out of pages")
			break
		}
		on[a.ModelID] = true
		res = &workerapi.LoadWeightsResult{ID: a.ID, Timing: workerapi.Timing{Duration: 8e6}}
	case *workerapi.EvictWeights:
		delete(r.resident[w][a.GPU], a.ModelID)
		res = &workerapi.EvictWeightsResult{ID: a.ID}
	case *workerapi.Infer:
		r.infers[[2]int{w, int(a.GPU)}]--
		if r.broken != 0 {
			fail(r.broken, "GPU broken")
			break
		}
		if !r.resident[w][a.GPU][a.ModelID] {
			r.badInfers++
			fail(82, "no weights")
			break
		}
		res = &workerapi.InferResult{ID: a.ID, Exec: workerapi.Timing{Duration: 3e6}}
	}
	if err := r.s.result(r.now, w, res); err != nil {
		r.t.Fatal(err)
	}
	return true
}

// run answers actions, a millisecond each, and calls tick when it asks,
// until virtual time until.
func (r *stressRig) run(until int64) {
	for r.now < until {
		if r.step() {
			r.s.tick(r.now)
			continue
		}
		wake := r.s.tick(r.now)
		if len(r.queue) > 0 {
			continue
		}
		if wake == 0 || wake > until {
			return
		}
		if wake <= r.now {
			r.t.Fatalf("tick at %d sent nothing and asks to be called again at %d", r.now, wake)
		}
		r.now = wake
	}
}

func TestStressKeepsEveryGPUBusy(t *testing.T) {
	// 100 pages of 7-page models: 14 fit, so 11 stay resident (room for
	// one more and the two loads in flight).
	r := newStressRig(t, 100, 2, 1)
	r.s.begin(0)
	if r.s.tick(0) != 0 {
		t.Fatal("prints before any worker is set up")
	}
	for i := 0; i < 3000 && r.step(); i++ {
	}
	if len(r.s.gpus) != 3 {
		t.Fatalf("stressing %d GPUs, want 3", len(r.s.gpus))
	}
	for _, g := range r.s.gpus {
		if g.maxResident != 11 {
			t.Errorf("W%d GPU%d keeps %d resident, want 11", g.worker, g.id, g.maxResident)
		}
		if g.loadErrs != 0 || g.inferErrs != 0 {
			t.Errorf("W%d GPU%d: %d load and %d infer errors", g.worker, g.id, g.loadErrs, g.inferErrs)
		}
		if len(g.load.measured) < 100 || len(g.infer.measured) < 100 {
			t.Errorf("W%d GPU%d: %d loads and %d infers done", g.worker, g.id, len(g.load.measured), len(g.infer.measured))
		}
	}
	if r.maxLoads != stressMaxLoads || r.maxInfers != stressMaxInfers || r.badInfers != 0 {
		t.Errorf("in flight at most %d loads and %d infers per GPU (want 2 and 2), %d infers of absent models",
			r.maxLoads, r.maxInfers, r.badInfers)
	}
	// The copies' ids follow the model each worker held.
	if r.models[0][1] != 10 || len(r.models[0]) != 41 {
		t.Errorf("worker 0 holds %v", r.models[0])
	}

	// Every second, a line per GPU for transfers, then for inferences.
	start := r.s.lastPrint
	if wake := r.s.tick(start + sec - 1); wake != start+sec {
		t.Fatalf("wake %d, want %d", wake, start+sec)
	}
	r.out.Reset()
	r.s.tick(start + sec)
	lines := strings.Split(strings.TrimSpace(r.out.String()), "\n")
	num := `[0-9]+\.[0-9]{2}`
	want := []string{"LoadWeights W0 GPU0", "LoadWeights W0 GPU1", "LoadWeights W1 GPU0", "Infer W0 GPU0", "Infer W0 GPU1", "Infer W1 GPU0"}
	if len(lines) != len(want) {
		t.Fatalf("printed %q", lines)
	}
	for i, l := range lines {
		profiled := map[bool]string{true: "8000000", false: "3000000"}[i < 3]
		re := regexp.MustCompile("^" + want[i] + " errors=0 profiled=" + profiled + " min=[0-9]+ max=[0-9]+ mean=" + num +
			" e2e=" + num + " e2emax=[0-9]+ throughput=" + num + " utilization=" + num + "$")
		if !re.MatchString(l) {
			t.Errorf("line %q does not match %s", l, re)
		}
	}
	// The figures start again after each print.
	r.out.Reset()
	r.s.tick(start + 2*sec)
	if !strings.Contains(r.out.String(), "Infer W0 GPU0 errors=0 throughput=0\n") {
		t.Errorf("second print:\n%s", r.out.String())
	}
}

// TestStressErrors: errors are printed and counted, never fatal, and a
// model whose load failed is loaded again.
func TestStressErrors(t *testing.T) {
	r := newStressRig(t, 100, 1)
	r.s.begin(0)
	for i := 0; i < 4; i++ { // state, copies, then the first load
		r.step()
	}
	first := r.queue[0].a.(*workerapi.LoadWeights)
	r.queue = r.queue[1:]
	r.loads[[2]int{0, 0}]--
	r.s.result(r.now, 0, &workerapi.ErrorResult{ID: first.ID, ActionType: workerapi.LoadWeightsType, Code: 53, Message: "out of pages"})
	for i := 0; i < 500 && r.step(); i++ {
	}
	g := r.s.gpus[0]
	if g.loadErrs != 1 || !strings.Contains(r.out.String(), fmt.Sprintf("LoadWeights error R%d:Error 53: out of pages", first.ID)) {
		t.Errorf("%d load errors; console:\n%s", g.loadErrs, r.out.String())
	}
	if m := int(first.ModelID); !slices.Contains(g.resident, m) && !slices.Contains(g.absent, m) {
		t.Errorf("model %d lost after its failed load", first.ModelID)
	}
	r.out.Reset()
	r.s.tick(r.s.lastPrint + sec)
	if !strings.Contains(r.out.String(), "LoadWeights W0 GPU0 errors=1 ") {
		t.Errorf("print:\n%s", r.out.String())
	}

	// Clients are refused.
	var got clientapi.Response
	r.s.request(r.now, &clientapi.LSRequest{}, func(rsp clientapi.Response) { got = rsp })
	if got == nil || got.Head().Status != clientapi.StatusInvalidRequest {
		t.Errorf("LS answered %v", got)
	}
}

// TestStressFitsTheGPU: a GPU too small for the model is left out, and
// with no worker left to stress the controller stops.
func TestStressFitsTheGPU(t *testing.T) {
	// 4 copies' pages and the room the stress keeps: one stays resident.
	r := newStressRig(t, 4*7, 1)
	r.s.begin(0)
	for i := 0; i < 1000 && r.step(); i++ {
	}
	if g := r.s.gpus[0]; g.maxResident != 1 || g.loadErrs != 0 || g.inferErrs != 0 || len(g.infer.measured) == 0 {
		t.Errorf("on 28 pages: %d resident, %d load and %d infer errors, %d infers", g.maxResident, g.loadErrs, g.inferErrs, len(g.infer.measured))
	}

	small := newStressRig(t, 3*7, 1)
	small.s.begin(0)
	small.step()
	sa := small.queue[0]
	small.queue = nil
	res := &workerapi.LoadModelFromDiskResult{ID: sa.a.ActionID(), NumWeightsPages: 7, CopiesCreated: 40}
	err := small.s.result(0, 0, res)
	if err == nil || !strings.Contains(small.out.String(), "STRESS: worker 0 GPU 0 has 21 pages, too few for 40 copies of 7 pages") {
		t.Errorf("error %v; console:\n%s", err, small.out.String())
	}
}

// TestStressWorkerLost: a lost worker's GPUs leave the stress, the others
// go on, and the worker is set up again when it is back.
func TestStressWorkerLost(t *testing.T) {
	r := newStressRig(t, 100, 1, 1)
	r.s.begin(0)
	for i := 0; i < 200 && r.step(); i++ {
	}
	r.s.lost(r.now, 1, fmt.Errorf("gone"))
	r.queue = slices.DeleteFunc(r.queue, func(sa sentAction) bool { return sa.worker == 1 })
	if len(r.s.gpus) != 1 || r.s.gpus[0].worker != 0 {
		t.Fatalf("stressing %d GPUs after the loss", len(r.s.gpus))
	}
	for i := 0; i < 200 && r.step(); i++ {
	}
	r.s.back(r.now, 1)
	if sa := r.queue[len(r.queue)-1]; sa.worker != 1 || sa.a.Type() != workerapi.GetWorkerStateType {
		t.Fatalf("worker 1 back: sent %s", sa.a.Describe(0))
	}
	for i := 0; i < 400 && r.step(); i++ {
	}
	if len(r.s.gpus) != 2 || r.models[1][len(r.models[1])-1] != 89 {
		t.Errorf("after the return: %d GPUs; worker 1 holds models up to %d (want a second set of copies, 50-89)",
			len(r.s.gpus), r.models[1][len(r.models[1])-1])
	}
}

// TestStressTakesWrongResults: a result of another action's type for an
// action is an error, not a crash.
func TestStressTakesWrongResults(t *testing.T) {
	r := newStressRig(t, 100, 1)
	r.s.begin(0)
	for i := 0; i < 60 && r.step(); i++ {
	}
	// Each failed load is tried again, after a wait: answer 50 actions so.
	for range 50 {
		for i := 0; len(r.queue) == 0; i++ {
			if i == 100 {
				t.Fatal("no action sent after 100 ticks")
			}
			r.now = r.s.tick(r.now)
			r.s.tick(r.now)
		}
		sa := r.queue[0]
		r.queue = r.queue[1:]
		if err := r.s.result(r.now, 0, &workerapi.ClearCacheResult{ID: sa.a.ActionID()}); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(r.out.String(), "LoadWeights error R") || !strings.Contains(r.out.String(), "Infer error R") {
		t.Errorf("console:\n%s", r.out.String())
	}
}

// TestStressWrongSetupResults: answers of another action's type during
// set-up leave the worker out, never crash.
func TestStressWrongSetupResults(t *testing.T) {
	for _, wrong := range []workerapi.Result{
		&workerapi.LoadModelFromDiskResult{NumWeightsPages: 7, CopiesCreated: 40},
		&workerapi.InferResult{},
	} {
		r := newStressRig(t, 100, 1)
		r.s.begin(0)
		sa := r.queue[0] // GetWorkerState
		wrong.SetStamps(0, 0)
		setID(wrong, sa.a.ActionID())
		if err := r.s.result(0, 0, wrong); err == nil || !strings.Contains(r.out.String(), "STRESS: worker 0 cannot be stressed") {
			t.Errorf("%T for GetWorkerState: error %v; console %q", wrong, err, r.out.String())
		}
	}
	// The copies' load answered with too few copies.
	r := newStressRig(t, 100, 1)
	r.s.begin(0)
	r.step()
	sa := r.queue[0]
	if err := r.s.result(0, 0, &workerapi.LoadModelFromDiskResult{ID: sa.a.ActionID(), NumWeightsPages: 7, CopiesCreated: 2}); err == nil {
		t.Errorf("2 of 40 copies taken: %q", r.out.String())
	}
}

func setID(res workerapi.Result, id int32) {
	switch r := res.(type) {
	case *workerapi.LoadModelFromDiskResult:
		r.ID = id
	case *workerapi.InferResult:
		r.ID = id
	}
}

// TestStressFewCopies: with fewer copies than 20, fewer stay resident,
// so that they still come and go, and inferences run.
func TestStressFewCopies(t *testing.T) {
	r := newStressRig(t, 1000, 1)
	r.s.opts.Copies = 5
	r.s.begin(0)
	for i := 0; i < 2000 && r.step(); i++ {
	}
	g := r.s.gpus[0]
	if g.maxResident != 2 || len(g.load.measured) < 100 || len(g.infer.measured) < 100 || g.loadErrs+g.inferErrs != 0 {
		t.Errorf("5 copies: %d resident, %d loads, %d infers, %d errors", g.maxResident, len(g.load.measured), len(g.infer.measured), g.loadErrs+g.inferErrs)
	}
}

// TestStressReusesCopies: a worker that holds the copies already (from an
// earlier stress) is stressed with them, its resident weights kept.
func TestStressReusesCopies(t *testing.T) {
	r := newStressRig(t, 100, 1)
	r.s.opts.Copies = 5
	r.s.begin(0)
	st := &workerapi.GetWorkerStateResult{ID: r.queue[0].a.ActionID()}
	st.Memory.GPUs = []workerapi.GPUInfo{{ID: 0, WeightsCacheTotalPages: 100, Models: []uint32{13}}}
	for id := range int32(10) {
		src := "/other/model"
		if id >= 10-5 {
			src = r.s.opts.Model
		}
		st.Memory.Models = append(st.Memory.Models, workerapi.ModelInfo{ID: id + 7, Source: src, NumWeightsPages: 7, WeightsLoadTime: 9e6, ExecTimes: []uint64{4e6}})
	}
	r.queue = nil
	if err := r.s.result(0, 0, st); err != nil {
		t.Fatal(err)
	}
	g := r.s.gpus[0]
	if len(g.resident) != 1 || g.resident[0] != 13 || !slices.Equal(g.absent, []int{15, 16}) || g.loads != 2 || r.s.profiledLoad != 9e6 || r.s.profiledExec != 4e6 {
		t.Errorf("resident %v, absent %v, profiled %d and %d", g.resident, g.absent, r.s.profiledLoad, r.s.profiledExec)
	}
	for _, sa := range r.queue {
		if sa.a.Type() == workerapi.LoadModelFromDiskType {
			t.Error("the copies were loaded again")
		}
	}
	wantOutput(t, r.out.String(), "STRESS: worker 0 already holds 5 copies (models 12-16); stressing 1 GPUs\n")
}

// TestStressBacksOff: on a GPU whose every LoadWeights and Infer fails,
// each kind waits after a failure, 10 ms and twice as long after each
// round of failures in a row up to a second, rather than sending the next
// at once; the first success ends the wait.
func TestStressBacksOff(t *testing.T) {
	r := newStressRig(t, 100, 1)
	r.s.begin(0)
	r.run(sec) // set up and churning
	g := r.s.gpus[0]
	if g.loadErrs+g.inferErrs != 0 || len(g.load.measured) < 50 {
		t.Fatalf("healthy GPU: %d errors, %d loads", g.loadErrs+g.inferErrs, len(g.load.measured))
	}

	r.broken = workerapi.ErrGPUUnusable
	var loads, infers []int64 // when each was sent
	send := r.s.send
	r.s.send = func(w int, a workerapi.Action) {
		switch a.Type() {
		case workerapi.LoadWeightsType:
			loads = append(loads, r.now)
		case workerapi.InferType:
			infers = append(infers, r.now)
		}
		send(w, a)
	}
	broke := r.now
	r.run(broke + 20*sec)
	// Two of each kind are in flight each round: the first round failed
	// when the GPU broke, and the next is sent after each wait (without
	// the waits, a round every 2 ms: 20,000 sends in 20 s).
	for _, k := range []struct {
		what string
		at   []int64
	}{{"LoadWeights", loads}, {"Infer", infers}} {
		if len(k.at) < 30 || len(k.at) > 60 {
			t.Fatalf("%s sent %d times in 20 s on a broken GPU: %v", k.what, len(k.at), ms(k.at))
		}
		var gaps []int64
		for i := 1; i < len(k.at); i++ {
			if gap := k.at[i] - k.at[i-1]; gap > 5e6 {
				gaps = append(gaps, gap)
			}
		}
		// Each wait starts when the round's failure is seen, a millisecond
		// or two after its send, so the gaps are the waits plus that; the
		// first, of 10 ms, followed the round sent before the GPU broke.
		want := []int64{20e6, 40e6, 80e6, 160e6, 320e6, 640e6, 1e9, 1e9, 1e9}
		for i, w := range want {
			if i >= len(gaps) || gaps[i] < w || gaps[i] > w+4e6 {
				t.Fatalf("%s gaps between sends %v ms, want about %v", k.what, ms(gaps), ms(want))
			}
		}
	}
	if !strings.Contains(r.out.String(), "LoadWeights error R") || !strings.Contains(r.out.String(), "Error 14: GPU broken") {
		t.Errorf("console:\n%s", r.out.String())
	}

	// Mended: the next round succeeds and the GPU churns at full speed.
	r.broken = 0
	n := len(loads)
	r.run(r.now + 2*sec)
	if g.loadRetry.wait != 0 || g.inferRetry.wait != 0 || len(loads)-n < 100 {
		t.Errorf("after the GPU mended: waits %d and %d ns, %d loads in 2 s", g.loadRetry.wait, g.inferRetry.wait, len(loads)-n)
	}
}

func ms(ns []int64) []float64 {
	out := make([]float64, len(ns))
	for i, v := range ns {
		out[i] = float64(v) / 1e6
	}
	return out
}
