package bench

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/clockwork-go/clockwork/internal/scheduler"
)

// Estimate is how INFER5 estimates an exec: the percentile P of the last
// Size measurements of the model at the batch size (scheduler.Window).
type Estimate struct {
	Size int
	P    float64
}

func (e Estimate) String() string { return fmt.Sprintf("last %d at %g", e.Size, e.P) }

// Estimates are the ones worth trying on a run: the original's first,
// then ones that a rare slow exec does not raise.
var Estimates = []Estimate{{10, 0.99}, {20, 0.9}, {100, 0.95}, {10, 0.5}}

// Replay predicts again the exec of every Infer among rows, as INFER5
// would have with the estimate e, and measures those predictions as
// Predictions does. Each Infer is predicted from the results received
// before it was sent, each measurement normalised by its GPU clock as
// INFER5 does, and divided by the clock its prediction assumed; before a
// model's first result at a batch size, the prediction is the one logged
// (the profile). What e would have changed in the scheduling itself
// (other batches, other drops) is not replayed, so a run with it
// (controller -estimate-window/-estimate-percentile) is the final word;
// with the run's own estimate the replay gives back the run's predictions.
func Replay(rows []ActionRow, e Estimate) Prediction {
	var infers []ActionRow
	for i := range rows {
		if rows[i].PredictedInfer() {
			infers = append(infers, rows[i])
		}
	}
	byResult := slices.Clone(infers)
	slices.SortStableFunc(byResult, func(a, b ActionRow) int { return cmp.Compare(a.T, b.T) })
	sent := func(r *ActionRow) int64 { return r.T - r.ResultEnqueue }
	slices.SortStableFunc(infers, func(a, b ActionRow) int { return cmp.Compare(sent(&a), sent(&b)) })

	type key struct{ model, batch int }
	windows := map[key]*scheduler.Window{}
	next := 0
	out := make([]ActionRow, len(infers))
	for i := range infers {
		r := &infers[i]
		for ; next < len(byResult) && byResult[next].T < sent(r); next++ {
			d := &byResult[next]
			k := key{d.Model, d.Batch}
			w := windows[k]
			if w == nil {
				nw := scheduler.NewWindow(e.Size, e.P)
				w = &nw
				windows[k] = w
			}
			w.Insert(d.Actual * scheduler.MeasuredClock(int64(d.ClockBefore), int64(d.Clock)))
		}
		out[i] = *r
		if w := windows[key{r.Model, r.Batch}]; w != nil && r.ExpectedClock > 0 {
			out[i].Expected = w.Estimate() / int64(r.ExpectedClock)
		}
	}
	return Predictions(out)
}
