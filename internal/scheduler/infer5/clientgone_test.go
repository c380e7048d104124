package infer5_test

import (
	"testing"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/scheduler/infer5"
	"github.com/clockwork-go/clockwork/internal/scheduler/schedtest"
)

// TestClientGoneRequestsDoNotRun: client A queues 40 requests for
// ResNet-50 with a long SLO, more than the GPU can start at once, and
// disconnects. Its requests already in an action run and are answered as
// usual; the others are answered at once, status 1, and never run. Client
// B's request, sent next, is the only one the GPU runs after that.
func TestClientGoneRequestsDoNotRun(t *testing.T) {
	for name, opts := range map[string][]infer5.Option{"INFER5": nil, "INFER4": {infer5.Infer4()}} {
		t.Run(name, func(t *testing.T) {
			h := warm(t, opts...)
			as := h.At(0).InferN(0, 40, schedtest.Tag("A"), schedtest.SLOFactor(1000))
			inFlight := h.Infers()
			if len(inFlight) == 0 {
				t.Fatal("nothing sent for A's requests")
			}
			h.After(ms(1)).ClientGone("A")
			cancelled := 0
			for _, r := range as {
				if a, ok := h.Answer(r); ok {
					if a.Status != 1 || a.Message != scheduler.ClientGoneMessage {
						t.Fatalf("A's request answered %+v", a.Response)
					}
					cancelled++
				}
			}
			if cancelled == 0 {
				t.Fatal("none of A's queued requests was answered when A left")
			}
			b := h.Infer(0, schedtest.Tag("B"))
			for done := 0; done < len(h.Infers()); done++ {
				s := h.Infers()[done]
				h.After(b1).Succeed(s, b1)
			}
			if a := h.MustAnswer(b); a.Status != 0 {
				t.Errorf("B's request: %+v", a.Response)
			}
			ran := 0
			for _, s := range h.Infers()[len(inFlight):] {
				ran += int(s.Infer().BatchSize)
			}
			if ran != 1 {
				t.Errorf("after A left the GPU ran batches of %v, want only B's request", batchSizes(h.Infers()[len(inFlight):]))
			}
			if got := len(as) - cancelled; got != batchTotal(inFlight) {
				t.Errorf("%d of A's requests were not cancelled, but %d were in flight", got, batchTotal(inFlight))
			}
			h.CheckExactlyOnce()
		})
	}
}

func batchTotal(sends []schedtest.Sent) int {
	n := 0
	for _, s := range sends {
		n += int(s.Infer().BatchSize)
	}
	return n
}
