package infer5_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/scheduler/infer5"
	"github.com/clockwork-go/clockwork/internal/scheduler/schedtest"
	"github.com/clockwork-go/clockwork/internal/telemetry"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

func TestWorkerErrorAnswersTheWholeBatch(t *testing.T) {
	h := warm(t)
	rs := h.At(0).InferN(0, 4)

	h.At(ms(12)).Fail(h.Infers()[0], workerapi.ExecTooLate, "exec too late")

	for _, r := range rs {
		if a := h.MustAnswer(r); a.Status != workerapi.ExecTooLate || a.Message != "exec too late" || a.At != ms(12) {
			t.Errorf("request %d: %+v, want the worker's status and message at 12 ms", r.UserRequestID, a.Response)
		}
	}
	rec := h.Actions[0]
	if rec.Status != workerapi.ExecTooLate || rec.GoodputFraction != 0 || rec.BatchSize != 4 {
		t.Errorf("telemetry %+v, want the failed batch of 4 with no goodput", rec)
	}
}

func TestResultsNotAwaitedAreIgnored(t *testing.T) {
	h := warm(t)
	r := h.At(0).Infer(0)
	in := h.Infers()[0]

	h.At(b1).Result(1, &workerapi.InferResult{ID: in.Action.ActionID()}) // wrong worker
	h.Result(0, &workerapi.InferResult{ID: 999})                         // unknown action
	if len(h.Answers) != 0 {
		t.Fatalf("answered %d requests after stray results", len(h.Answers))
	}
	h.Succeed(in, b1)
	h.Succeed(in, b1) // a duplicate
	h.MustAnswer(r)
	for _, want := range []string{"from worker 1 for action 0, sent to worker 0", "not awaited: R999:Infer", "not awaited: R0:Infer"} {
		if !strings.Contains(h.Log(), want) {
			t.Errorf("log lacks %q:\n%s", want, h.Log())
		}
	}
}

func TestLostResultTimesOut(t *testing.T) {
	h := warm(t)
	r := h.At(0).Infer(0)
	in := h.Infers()[0]

	// The worker never answers: after its window (latest 11 ms + b1) and
	// the 1 s result timeout the scheduler gives up on it.
	h.At(ms(1100))
	a := h.MustAnswer(r)
	if want := ms(11) + b1 + ms(1000); a.Status != 4 || a.At != want {
		t.Errorf("answer %+v at %d, want status 4 at %d", a.Response, a.At, want)
	}
	h.Succeed(in, b1) // too late to matter
	h.MustAnswer(r)
	if !strings.Contains(h.Log(), "No result from worker 0 for action 0") {
		t.Errorf("log lacks the give-up line:\n%s", h.Log())
	}
}

func TestActionsNotSentInTimeFailWith45(t *testing.T) {
	// Three GPUs, each holding its own model, so that three Infers are
	// decided at once; only two may be on the wire.
	st := schedtest.NewCluster(1, 3).Model(schedtest.ResNet50(), 3).
		Resident(0, 0, 0).Resident(0, 1, 1).Resident(0, 2, 2).State()
	h := schedtest.New(t, factory(infer5.DemandGuard(true)), schedtest.Config(), st).ManualAck()

	r0, r1, r2 := h.At(0).Infer(0), h.Infer(1), h.Infer(2)
	if len(h.Sends) != 2 {
		t.Fatalf("%d actions on the wire, want 2", len(h.Sends))
	}

	// The third had to start transmission by latest − 5 ms = 6 ms. Just
	// after, with both slots still busy, it is too late (the original saw
	// so only when a slot freed, at 7 ms); its requests learn so when the
	// action would have finished: latest + b1.
	h.At(ms(7)).Ack(h.Sends[0], nil)
	if len(h.Sends) != 2 {
		t.Fatalf("the late action was sent")
	}
	h.Ack(h.Sends[1], errors.New("connection reset"))
	h.At(ms(20))

	if a := h.MustAnswer(r2); a.Status != workerapi.NetworkSendTooLate || a.At != ms(11)+b1 ||
		a.Message != "Could not send action to worker in time" {
		t.Errorf("late action's request: %+v at %d, want 45 at %d", a.Response, a.At, ms(11)+b1)
	}
	if a := h.MustAnswer(r1); a.Status != workerapi.NetworkSendTooLate || a.At != ms(7) ||
		a.Message != "Could not send action to worker: connection reset" {
		t.Errorf("failed transmission's request: %+v at %d, want 45 at 7 ms", a.Response, a.At)
	}
	if _, ok := h.Answer(r0); ok {
		t.Error("the transmitted action's request was answered without a result")
	}
	var late telemetry.ActionRecord
	for _, rec := range h.Actions {
		if rec.ModelID == 2 {
			late = rec
		}
	}
	if late.Status != workerapi.NetworkSendTooLate || late.ResultReceived != ms(6)+1 || late.Processed != ms(11)+b1 {
		t.Errorf("late action's telemetry %+v, want 45 decided at 6 ms + 1 ns and reported at %d", late, ms(11)+b1)
	}
}

func TestInvalidModelIDs(t *testing.T) {
	h := warm(t)
	for _, id := range []int{1, 2, -1} { // the original indexed past the table for id == 1
		r := h.Infer(id)
		if a := h.MustAnswer(r); a.Status != 1 || a.Message != "Invalid model ID" || a.Deadline != 0 || !a.UnknownModel {
			t.Errorf("model %d: %+v, want status 1 Invalid model ID", id, a.Response)
		}
	}
	if len(h.Sends) != 0 {
		t.Errorf("sent %d actions for invalid models", len(h.Sends))
	}
}

// TestTransmissionsThatNeverEnd: a worker stops reading, so the two
// transmissions to it never end. The Infers queued behind them, for
// another worker, fail once their send-by time passes, and the stuck ones
// once their result is overdue: every request is answered. (The original
// checked send-by times only when a slot freed, and started the result
// timeout at the end of a transmission: none was answered.)
func TestTransmissionsThatNeverEnd(t *testing.T) {
	st := schedtest.NewCluster(2, 1).Model(schedtest.ResNet50(), 2).Resident(0, 0, 0).Resident(1, 0, 1).State()
	h := schedtest.New(t, factory(infer5.DemandGuard(true)), schedtest.Config(), st).ManualAck()
	stuck := []*scheduler.Request{h.At(0).Infer(1), h.At(ms(1)).Infer(1)} // both slots to W1, never acked
	var queued []*scheduler.Request
	for i := range 5 {
		queued = append(queued, h.At(ms(10+20*float64(i))).Infer(0))
	}
	h.At(ms(5000))
	h.CheckExactlyOnce()
	if len(h.Sends) != 2 {
		t.Errorf("%d actions sent, want only the two stuck ones", len(h.Sends))
	}
	for _, r := range queued {
		if a := h.MustAnswer(r); a.Status != workerapi.NetworkSendTooLate || a.At > r.Arrival+ms(20)+b1 {
			t.Errorf("queued request at %d: %+v at %d, want 45 by its deadline", r.Arrival, a.Response, a.At)
		}
	}
	for _, r := range stuck {
		if a := h.MustAnswer(r); a.Status != 4 || a.At > r.Arrival+ms(20)+b1+ms(1000) {
			t.Errorf("stuck request at %d: %+v at %d, want status 4 a result timeout after its window", r.Arrival, a.Response, a.At)
		}
	}
}
