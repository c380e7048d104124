package baseline_test

import (
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/scheduler/schedtest"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// TestUnusableGPUGetsNoMoreWork: an Infer on the GPU holding the model
// fails with status 14 (the worker's GPU hit a sticky CUDA error). The
// GPU gets nothing more: the model loads onto the other GPU and the
// requests queued meanwhile run there.
func TestUnusableGPUGetsNoMoreWork(t *testing.T) {
	st := schedtest.NewCluster(1, 2).Model(schedtest.ResNet50(), 1).Resident(0, 0, 0).State()
	h := schedtest.New(t, factory, schedtest.Config(), st)

	h.At(0).InferN(0, 2)
	in := h.Infers()
	if len(in) != 1 || in[0].GPU() != 0 {
		t.Fatalf("Infers %v, want one on GPU 0", in)
	}
	h.At(ms(1)).Fail(in[0], workerapi.ErrGPUUnusable, "GPU 0 is unusable after cuda: cuGraphLaunch: CUDA_ERROR_ILLEGAL_ADDRESS")
	if !strings.Contains(h.Log(), "W0-GPU0 is down (GPU 0 is unusable after ") {
		t.Errorf("log lacks the GPU's down line:\n%s", h.Log())
	}
	lds := h.Loads()
	if len(lds) != 1 || lds[0].GPU() != 1 {
		t.Fatalf("loads %v, want one onto GPU 1", lds)
	}
	h.After(ms(10)).Succeed(lds[0], ms(10))
	in = h.Infers()
	if len(in) != 2 || in[1].GPU() != 1 {
		t.Fatalf("Infers %v, want the second on GPU 1", in)
	}
	h.After(ms(4)).Succeed(in[1], ms(4))
	if a := h.Answers; len(a) != 2 || a[0].Status != workerapi.ErrGPUUnusable || a[1].Status != 0 {
		t.Errorf("answers %+v, want the failed Infer's status 14, then success", a)
	}
	h.CheckExactlyOnce()
}

// TestEveryGPUDown: once its only worker is lost, the requests queued for
// a model and those that come later fail with status 1 rather than wait
// for ever.
func TestEveryGPUDown(t *testing.T) {
	h := warm(t)
	h.At(0).InferN(0, 2)
	in := h.Infers()
	h.At(ms(1)).WorkerLost(0)
	h.Fail(in[0], workerapi.ErrRuntimeError, "worker connection lost: closed by worker")
	r := h.Infer(0)
	if a := h.MustAnswer(r); a.Status != clientapi.StatusError || a.Message != "Model does not fit on any GPU in service" {
		t.Errorf("a request after the loss: %+v, want status 1", a.Response)
	}
	if len(h.Sends) != 1 {
		t.Errorf("sent %d actions, want only the first Infer", len(h.Sends))
	}
	h.CheckExactlyOnce()
}

// TestLostWorkerRejoins: worker 1 is lost and rejoins holding ResNet-50;
// once worker 0 is lost in turn, the model runs on worker 1 without a
// load.
func TestLostWorkerRejoins(t *testing.T) {
	st := schedtest.NewCluster(2, 1).Pages(14).Model(schedtest.ResNet50(), 1).Resident(0, 0, 0).State()
	h := schedtest.New(t, factory, schedtest.Config(), st)

	h.At(ms(1)).WorkerLost(1)
	h.At(ms(1000)).WorkerRejoined(1, map[int][]int{0: {0}})
	if want := "W1-GPU0 is back in service (14 pages, model copies resident: 1)"; !strings.Contains(h.Log(), want) {
		t.Errorf("log lacks %q:\n%s", want, h.Log())
	}
	h.WorkerLost(0)
	r := h.At(ms(1001)).Infer(0)
	in := h.Infers()
	if len(in) != 1 || in[0].Worker != 1 || len(h.Loads()) != 0 {
		t.Fatalf("Infers %v and loads %v, want one Infer on worker 1 and no load", in, h.Loads())
	}
	h.After(ms(4)).Succeed(in[0], ms(4))
	if a := h.MustAnswer(r); a.Status != 0 {
		t.Errorf("answer %+v, want success", a.Response)
	}
}

// TestRejoinWithAnotherGPU: a worker that had one GPU rejoins with two;
// the new one joins the cluster with the weights it holds and serves.
func TestRejoinWithAnotherGPU(t *testing.T) {
	st := schedtest.NewCluster(1, 1).Pages(14).Model(schedtest.ResNet50(), 1).State()
	h := schedtest.New(t, factory, schedtest.Config(), st)

	h.At(ms(1)).WorkerLost(0)
	h.At(ms(1000)).WorkerRejoined(0, map[int][]int{0: nil, 1: {0}})
	if want := "W0-GPU1 joins the cluster (14 pages, model copies resident: 1)"; !strings.Contains(h.Log(), want) {
		t.Errorf("log lacks %q:\n%s", want, h.Log())
	}
	r := h.At(ms(1001)).Infer(0)
	in := h.Infers()
	if len(in) != 1 || in[0].GPU() != 1 || len(h.Loads()) != 0 {
		t.Fatalf("Infers %v and loads %v, want one Infer on GPU 1, which holds the model, and no load", in, h.Loads())
	}
	h.After(ms(4)).Succeed(in[0], ms(4))
	if a := h.MustAnswer(r); a.Status != 0 {
		t.Errorf("answer %+v, want success", a.Response)
	}
}
