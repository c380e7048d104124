package infer5_test

import (
	"slices"
	"testing"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/scheduler/infer5"
	"github.com/clockwork-go/clockwork/internal/scheduler/schedtest"
)

// TestInfer4BatchesAsInfer5 sends five requests at once: INFER4 tries each
// request's strategies, largest batch size first, and sends as much as
// fits in schedule_ahead in one pass, here a batch of 4 and one of 1.
func TestInfer4BatchesAsInfer5(t *testing.T) {
	h := warm(t, infer5.Infer4())
	h.WithSim(schedtest.NewSim(h.State))
	h.At(0).InferN(0, 5)
	if got := batchSizes(h.Infers()); !slices.Equal(got, []int{4, 1}) {
		t.Fatalf("batch sizes %v, want [4 1]", got)
	}
	h.At(ms(100))
	h.CheckExactlyOnce()
	for _, a := range h.Answers {
		if a.Status != clientapi.Success {
			t.Errorf("answer %+v, want success", a.Response)
		}
	}
}

// TestInfer4SkipsWhatABatchPassesOver: a request that cannot finish in
// time ahead of a later one the GPU can run is answered at once with
// status 7 (the original answered it so at its deadline; INFER5 leaves it
// to time out with status 4).
func TestInfer4SkipsWhatABatchPassesOver(t *testing.T) {
	h := warm(t, infer5.Infer4())
	h.At(0).InferN(0, 8)                                    // b8 until 12.4 ms
	tight := h.At(ms(0.5)).Infer(0, schedtest.SLOFactor(2)) // exec deadline 15.5 ms
	later := h.At(ms(0.6)).Infer(0, schedtest.Input([]byte("later")))

	// Once the GPU has room (2.44 ms), a batch of one behind the b8 ends
	// at 15.76 ms: too late for the tight request, in time for the later.
	h.At(ms(3))
	if got := batchSizes(h.Infers()); !slices.Equal(got, []int{8, 1}) {
		t.Fatalf("batch sizes %v, want [8 1]", got)
	}
	a := h.MustAnswer(tight)
	if a.Status != clientapi.StatusControllerSkipped || a.At != ms(2.439)+1 {
		t.Errorf("tight request: %+v at %d, want status 7 when the GPU had room", a.Response, a.At)
	}
	if _, ok := h.Answer(later); ok {
		t.Error("the later request was answered before it ran")
	}
	if in := h.Infers()[1].Infer(); string(in.InputParts[0]) != "later" {
		t.Errorf("the batch of one holds %q, want the later request", in.InputParts[0])
	}
}

// TestInfer4AnswersTooLateAtTheFront: a request at its queue's front that
// the GPU's next slot starts after is answered at once with status 8.
func TestInfer4AnswersTooLateAtTheFront(t *testing.T) {
	h := warm(t, infer5.Infer4())
	h.At(0).InferN(0, 8)                                    // b8 until 12.4 ms
	h.At(ms(0.2)).Infer(0)                                  // runs alone next, until 15.76 ms
	tight := h.At(ms(0.5)).Infer(0, schedtest.SLOFactor(2)) // exec deadline 15.5 ms
	h.At(ms(3)).Infer(0)                                    // tried once the GPU has room again

	h.At(ms(6))
	if got := batchSizes(h.Infers()); !slices.Equal(got, []int{8, 1, 1}) {
		t.Fatalf("batch sizes %v, want [8 1 1]", got)
	}
	a := h.MustAnswer(tight)
	if a.Status != clientapi.StatusCouldNotStartInTime || a.At != ms(5.761)+1 {
		t.Errorf("tight request: %+v at %d, want status 8 when the GPU had room", a.Response, a.At)
	}
}

// TestInfer4PacesLoads: INFER4 consults the load tracker for a GPU at most
// every 0.1 ms and keeps at most two loads outstanding on it, where INFER5
// sends loads while the PCIe link has less than schedule_ahead queued.
func TestInfer4PacesLoads(t *testing.T) {
	st := schedtest.NewCluster(1, 1).Model(schedtest.ResNet50(), 3).State()
	for _, tc := range []struct {
		name  string
		opts  []infer5.Option
		at7ms []int64 // when the loads were sent, as seen at 7 ms
	}{
		{"INFER5", nil, []int64{0, 0, ms(6.744) + 1}},
		{"INFER4", []infer5.Option{infer5.Infer4()}, []int64{0, ms(0.1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := schedtest.New(t, factory(tc.opts...), schedtest.Config(), st)
			h.At(0)
			for m := range 3 {
				h.Infer(m)
			}
			h.At(ms(7))
			var at []int64
			for _, l := range h.Loads() {
				at = append(at, l.At)
			}
			if !slices.Equal(at, tc.at7ms) {
				t.Fatalf("loads sent at %v, want %v", at, tc.at7ms)
			}
			if tc.name == "INFER4" {
				h.At(ms(8.5)).Succeed(h.Loads()[0], load)
				if n := len(h.Loads()); n != 3 {
					t.Errorf("%d loads after the first one's result, want 3", n)
				}
			}
		})
	}
}

// TestInfer4LoadedModelTakesItsQueue: a GPU that has just loaded a model
// takes the strategies of the requests queued for it.
func TestInfer4LoadedModelTakesItsQueue(t *testing.T) {
	st := schedtest.NewCluster(1, 1).Model(schedtest.ResNet50(), 1).State()
	h := schedtest.New(t, factory(infer5.Infer4()), schedtest.Config(), st)
	h.At(0).InferN(0, 3)
	if len(h.Loads()) != 1 || len(h.Infers()) != 0 {
		t.Fatalf("%d loads and %d Infers before the weights are in, want 1 and 0", len(h.Loads()), len(h.Infers()))
	}
	h.At(load+ms(0.1)).Succeed(h.Loads()[0], load)
	if got := batchSizes(h.Infers()); !slices.Equal(got, []int{2, 1}) {
		t.Fatalf("batch sizes %v, want [2 1]", got)
	}
}
