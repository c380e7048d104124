package echo

import (
	"testing"

	"github.com/clockwork-go/clockwork/internal/scheduler"
)

// TestUnknownModels: every request succeeds at once, as in the original;
// one for a model no worker holds is marked UnknownModel, which the
// metrics count without a series for its id.
func TestUnknownModels(t *testing.T) {
	st := &scheduler.State{Workers: []scheduler.Worker{{Models: []scheduler.Model{{ID: 3}}}}}
	s := New(scheduler.Config{}, st)
	s.Infer(5, &scheduler.Request{ModelID: 3})
	s.Infer(6, &scheduler.Request{ModelID: 99})
	var out scheduler.Output
	s.Ready(&out)
	if len(out.Responses) != 2 {
		t.Fatalf("%d responses", len(out.Responses))
	}
	for i, want := range []bool{false, true} {
		r := out.Responses[i]
		if r.Status != 0 || r.UnknownModel != want || r.Departure != int64(5+i) {
			t.Errorf("response %d: %+v, want status 0, UnknownModel %v", i, r, want)
		}
	}
}
