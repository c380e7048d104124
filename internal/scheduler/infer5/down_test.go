package infer5_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/scheduler/infer5"
	"github.com/clockwork-go/clockwork/internal/scheduler/schedtest"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// sendsTo counts the actions sent to worker's GPU gpu from index from of
// sends on.
func sendsTo(sends []schedtest.Sent, from, worker, gpu int) int {
	n := 0
	for _, s := range sends[from:] {
		if s.Worker == worker && s.GPU() == gpu {
			n++
		}
	}
	return n
}

// loadsThenRuns checks that the sends from index from on are a load of
// r's model onto worker's GPU gpu and, once it succeeds, an Infer there,
// whose success answers r.
func loadsThenRuns(t *testing.T, h *schedtest.Harness, r *scheduler.Request, from, worker, gpu int) {
	t.Helper()
	on := func(s schedtest.Sent) bool { return s.Worker == worker && s.GPU() == gpu }
	if sends := h.Sends[from:]; len(sends) != 1 || sends[0].Load() == nil || !on(sends[0]) {
		t.Fatalf("sends %v, want one load, onto W%d-GPU%d", sends, worker, gpu)
	}
	h.After(load).Succeed(h.Sends[from], load)
	if sends := h.Sends[from+1:]; len(sends) != 1 || sends[0].Infer() == nil || !on(sends[0]) {
		t.Fatalf("sends after the load %v, want one Infer, on W%d-GPU%d", sends, worker, gpu)
	}
	h.After(b1).Succeed(h.Sends[from+1], b1)
	if a := h.MustAnswer(r); a.Status != 0 {
		t.Errorf("answer %+v, want success", a.Response)
	}
}

// TestUnusableGPUGetsNoMoreWork: ResNet-50 is on both GPUs; an Infer on
// one fails with status 14 (the worker's GPU hit a sticky CUDA error). Its
// request gets the worker's answer, and every later request runs on the
// other GPU.
func TestUnusableGPUGetsNoMoreWork(t *testing.T) {
	st := schedtest.NewCluster(1, 2).Model(schedtest.ResNet50(), 1).Resident(0, 0, 0).Resident(0, 1, 0).State()
	h := schedtest.New(t, factory(), schedtest.Config(), st)

	r := h.At(0).Infer(0)
	first := h.Infers()[0]
	broken := first.GPU()
	h.At(b1).Fail(first, workerapi.ErrGPUUnusable, "GPU 1 is unusable after cuda: cuGraphLaunch: CUDA_ERROR_ILLEGAL_ADDRESS")
	if a := h.MustAnswer(r); a.Status != workerapi.ErrGPUUnusable {
		t.Errorf("the failed request's answer %+v, want status 14", a.Response)
	}
	if want := fmt.Sprintf("W0-GPU%d is down (GPU 1 is unusable after ", broken); !strings.Contains(h.Log(), want) {
		t.Errorf("log lacks %q:\n%s", want, h.Log())
	}

	mark := len(h.Sends)
	for i := range 6 {
		r := h.After(ms(20)).Infer(0)
		in := h.Infers()
		h.After(b1).Succeed(in[len(in)-1], b1)
		if a := h.MustAnswer(r); a.Status != 0 {
			t.Fatalf("request %d after the fault: %+v", i, a.Response)
		}
	}
	if n := sendsTo(h.Sends, mark, 0, broken); n != 0 {
		t.Errorf("%d actions went to the broken GPU %d after its fault", n, broken)
	}
	h.CheckExactlyOnce()
}

// TestLostWorkerModelsLoadElsewhere: ResNet-50 is on worker 1 only, when
// its connection is lost. The next request loads it onto worker 0 and runs
// there.
func TestLostWorkerModelsLoadElsewhere(t *testing.T) {
	st := schedtest.NewCluster(2, 1).Model(schedtest.ResNet50(), 1).Resident(1, 0, 0).State()
	h := schedtest.New(t, factory(), schedtest.Config(), st)

	h.At(ms(1)).WorkerLost(1)
	if want := "W1-GPU0 is down (connection to its worker lost); it gets no more work (model copies lost: 1)"; !strings.Contains(h.Log(), want) {
		t.Errorf("log lacks %q:\n%s", want, h.Log())
	}
	loadsThenRuns(t, h, h.At(ms(2)).Infer(0), 0, 0, 0)
}

// TestLoadInFlightOnALostWorker: the connection to the worker loading a
// model is lost mid-load, and the controller fails the load as lost.
// That model, and another wanted since, both load onto the GPU left (in
// turns, the second would have gone to the lost one).
func TestLoadInFlightOnALostWorker(t *testing.T) {
	st := schedtest.NewCluster(2, 1).Model(schedtest.ResNet50(), 2).State()
	h := schedtest.New(t, factory(infer5.DemandGuard(true)), schedtest.Config(), st)

	rs := []*scheduler.Request{h.At(0).Infer(0)}
	lds := h.Loads()
	if len(lds) != 1 {
		t.Fatalf("loads %v, want one", lds)
	}
	lost := lds[0].Worker
	h.At(ms(1)).WorkerLost(lost)
	h.Fail(lds[0], workerapi.ErrRuntimeError, "worker connection lost: closed by worker")
	rs = append(rs, h.Infer(1))
	lds = h.Loads()[1:]
	if len(lds) != 2 || lds[0].Worker == lost || lds[1].Worker == lost {
		t.Fatalf("loads after the loss %v, want two, onto worker %d", lds, 1-lost)
	}
	h.After(load).Succeed(lds[0], load)
	h.After(load).Succeed(lds[1], load)
	for i := 0; i < 2; i++ {
		in := h.Infers()
		if len(in) <= i || in[i].Worker == lost {
			t.Fatalf("Infers %v, want two, on worker %d", in, 1-lost)
		}
		h.After(b1).Succeed(in[i], b1)
	}
	for _, r := range rs {
		if a := h.MustAnswer(r); a.Status != 0 {
			t.Errorf("answer %+v, want success", a.Response)
		}
	}
}

// TestEveryGPUDown: with its only worker lost, the scheduler sends nothing
// and still answers every request (at its deadline, as requests it cannot
// run in time).
func TestEveryGPUDown(t *testing.T) {
	h := warm(t)
	h.At(0).WorkerLost(0)
	h.InferN(0, 3)
	h.At(ms(200))
	if len(h.Sends) != 0 {
		t.Errorf("sent %v to no GPU", h.Sends)
	}
	h.CheckExactlyOnce()
}

// TestLostWorkerRejoins: worker 1 is lost and rejoins empty; once worker
// 0 is lost in turn, ResNet-50 loads onto worker 1 and runs there.
func TestLostWorkerRejoins(t *testing.T) {
	st := schedtest.NewCluster(2, 1).Model(schedtest.ResNet50(), 1).Resident(0, 0, 0).State()
	h := schedtest.New(t, factory(), schedtest.Config(), st)

	h.At(ms(1)).WorkerLost(1)
	h.At(ms(1000)).WorkerRejoined(1, map[int][]int{0: nil})
	if want := "W1-GPU0 is back in service (100 pages, model copies resident: 0)"; !strings.Contains(h.Log(), want) {
		t.Errorf("log lacks %q:\n%s", want, h.Log())
	}
	h.At(ms(1001)).WorkerLost(0)
	loadsThenRuns(t, h, h.At(ms(1002)).Infer(0), 0, 1, 0)
}

// TestRejoinBringsBackTheGPUsListed: GPU 1 broke (status 14), then its
// worker's connection was lost. The worker rejoins listing GPU 0 only (as
// ours does while the process lives): GPU 0 is back in service, GPU 1
// gets nothing. Later it rejoins listing both (a new process): GPU 1 is
// back too.
func TestRejoinBringsBackTheGPUsListed(t *testing.T) {
	st := schedtest.NewCluster(1, 2).Model(schedtest.ResNet50(), 2).Resident(0, 0, 0).Resident(0, 1, 1).State()
	h := schedtest.New(t, factory(), schedtest.Config(), st)

	h.At(0).Infer(1)
	h.At(b1).Fail(h.Infers()[0], workerapi.ErrGPUUnusable, "GPU 1 is unusable after cuda: cuEventQuery: CUDA_ERROR_ILLEGAL_ADDRESS")
	h.At(ms(10)).WorkerLost(0)
	h.At(ms(1000)).WorkerRejoined(0, map[int][]int{0: {0}})
	if !strings.Contains(h.Log(), "W0-GPU0 is back in service") || strings.Contains(h.Log(), "W0-GPU1 is back") {
		t.Errorf("log, want GPU 0 back and GPU 1 not:\n%s", h.Log())
	}
	from := len(h.Sends)
	loadsThenRuns(t, h, h.At(ms(1001)).Infer(1), from, 0, 0) // not GPU 1, which its worker did not list

	h.At(ms(1100)).WorkerLost(0)
	h.At(ms(2000)).WorkerRejoined(0, map[int][]int{0: {0}, 1: nil})
	if !strings.Contains(h.Log(), "W0-GPU1 is back in service") {
		t.Errorf("log, want GPU 1 back once its worker lists it:\n%s", h.Log())
	}
}

// TestRejoinRunsWhatWaits: a request waits for its model, which only the
// lost worker held, until the worker rejoins holding it; then it runs
// there without a load.
func TestRejoinRunsWhatWaits(t *testing.T) {
	st := schedtest.NewCluster(1, 1).Model(schedtest.ResNet50(), 1).Resident(0, 0, 0).State()
	h := schedtest.New(t, factory(), schedtest.Config(), st)

	h.At(ms(1)).WorkerLost(0)
	r := h.At(ms(2)).Infer(0, schedtest.SLOFactor(100)) // 332 ms
	h.At(ms(50)).WorkerRejoined(0, map[int][]int{0: {0}})
	in := h.Infers()
	if len(in) != 1 || len(h.Loads()) != 0 {
		t.Fatalf("Infers %v and loads %v, want one Infer and no load", in, h.Loads())
	}
	h.After(b1).Succeed(in[0], b1)
	if a := h.MustAnswer(r); a.Status != 0 {
		t.Errorf("answer %+v, want success", a.Response)
	}
}

// TestRejoinWithAnotherGPU: a worker that had one GPU rejoins with two;
// the new one joins the cluster with the weights it holds and takes
// requests. Under max_gpus, or with a weights cache of another size, it
// is not used.
func TestRejoinWithAnotherGPU(t *testing.T) {
	st := schedtest.NewCluster(1, 1).Model(schedtest.ResNet50(), 2).Resident(0, 0, 0).State()
	h := schedtest.New(t, factory(infer5.DemandGuard(true)), schedtest.Config(), st)
	h.At(ms(1)).WorkerLost(0)
	h.At(ms(50)).WorkerRejoined(0, map[int][]int{0: {0}, 1: {1}})
	if !strings.Contains(h.Log(), "W0-GPU0 is back in service") ||
		!strings.Contains(h.Log(), "W0-GPU1 joins the cluster (100 pages, model copies resident: 1)") {
		t.Fatalf("log, want GPU 0 back and GPU 1 joining:\n%s", h.Log())
	}
	from := len(h.Sends)
	r := h.At(ms(60)).Infer(1)
	in := h.Infers()
	if len(h.Sends) != from+1 || len(in) != 1 || in[0].GPU() != 1 {
		t.Fatalf("sends %v, want one Infer on GPU 1, which holds model 1", h.Sends[from:])
	}
	h.After(b1).Succeed(in[0], b1)
	if a := h.MustAnswer(r); a.Status != 0 {
		t.Errorf("answer %+v, want success", a.Response)
	}
	// It stays in the cluster: lost and back again, it is back in service.
	h.At(ms(100)).WorkerLost(0)
	h.At(ms(150)).WorkerRejoined(0, map[int][]int{0: nil, 1: nil})
	if !strings.Contains(h.Log(), "W0-GPU1 is back in service") {
		t.Errorf("log, want GPU 1 back:\n%s", h.Log())
	}

	capped := schedtest.Config()
	capped.MaxGPUs = 1
	h = schedtest.New(t, factory(), capped, schedtest.NewCluster(1, 1).Model(schedtest.ResNet50(), 1).Resident(0, 0, 0).State())
	h.At(ms(1)).WorkerLost(0)
	h.At(ms(50)).WorkerRejoined(0, map[int][]int{0: {0}, 1: {0}})
	if !strings.Contains(h.Log(), "W0-GPU1 is not used: max_gpus=1 GPUs are in use") || strings.Contains(h.Log(), "joins") {
		t.Errorf("log under max_gpus=1:\n%s", h.Log())
	}

	h = schedtest.New(t, factory(), schedtest.Config(), schedtest.NewCluster(1, 1).Model(schedtest.ResNet50(), 1).State())
	h.State.Workers[0].GPUs = append(h.State.Workers[0].GPUs, scheduler.GPU{ID: 1, TotalPages: 7})
	h.At(ms(1)).WorkerLost(0)
	h.At(ms(50)).WorkerRejoined(0, map[int][]int{0: nil, 1: nil})
	if !strings.Contains(h.Log(), "W0-GPU1 is not used: its weights cache has 7 pages, the others 100") {
		t.Errorf("log with a smaller cache:\n%s", h.Log())
	}
}

// TestActionsQueuedForALostWorkerAreNotSent: both network slots carry
// transfers to W1 when W0-GPU0 is decided an eviction of model 0 and a
// load of model 2, which wait in the queue. W0 is lost, and a new process
// rejoins in its place holding model 0. The queued actions failed with the
// loss: the eviction never reaches the new process, and model 0 runs there
// as the scheduler believes. (They used to be sent once the slots freed.)
func TestActionsQueuedForALostWorkerAreNotSent(t *testing.T) {
	st := schedtest.NewCluster(2, 1).Pages(7).Model(schedtest.ResNet50(), 3).Resident(0, 0, 0).Resident(1, 0, 1).State()
	h := schedtest.New(t, factory(infer5.DemandGuard(true)), schedtest.Config(), st).ManualAck()
	h.At(0).Infer(1)
	h.Infer(1)
	h.Infer(2) // W0-GPU0 evicts model 0 for model 2: both queued
	slow := h.Sends
	if len(slow) != 2 {
		t.Fatalf("%d sends, want the two transfers to W1", len(slow))
	}
	h.At(ms(1)).WorkerLost(0)
	h.At(ms(1000)).WorkerRejoined(0, map[int][]int{0: {0}})
	h.D.ManualAck = false
	for _, s := range slow {
		h.Ack(s, nil)
	}
	r0 := h.At(ms(1002)).Infer(0)
	for _, s := range h.Sends[2:] {
		if s.Worker == 0 && s.Infer() == nil {
			t.Errorf("%T sent to the rejoined W0: %+v", s.Action, s.Action)
		}
	}
	if n := sendsTo(h.Sends, 2, 0, 0); n != 1 {
		t.Fatalf("%d actions sent to W0 after the rejoin, want model 0's Infer", n)
	}
	h.After(b1).Succeed(h.Sends[len(h.Sends)-1], b1)
	if a := h.MustAnswer(r0); a.Status != 0 {
		t.Errorf("model 0 on the rejoined W0: %+v, want success", a.Response)
	}
	h.At(ms(5000))
	h.CheckExactlyOnce()
}

// TestRejoinWithAnotherCacheSize: a GPU back with a weights cache of
// another size than the cluster's stays out of service, as a new GPU of
// that size is not used (the scheduler's decisions take one size).
func TestRejoinWithAnotherCacheSize(t *testing.T) {
	st := schedtest.NewCluster(1, 1).Model(schedtest.ResNet50(), 1).Resident(0, 0, 0).State()
	h := schedtest.New(t, factory(), schedtest.Config(), st)
	h.At(ms(1)).WorkerLost(0)
	h.State.Workers[0].GPUs[0].TotalPages = 50
	h.At(ms(50)).WorkerRejoined(0, map[int][]int{0: {0}})
	if !strings.Contains(h.Log(), "W0-GPU0 stays out of service: its weights cache has 50 pages, the others 100") {
		t.Fatalf("log:\n%s", h.Log())
	}
	h.At(ms(60)).Infer(0)
	h.At(ms(200))
	if n := len(h.Infers()); n != 0 {
		t.Errorf("%d Infers sent to a GPU out of service", n)
	}
}
