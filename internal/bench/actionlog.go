package bench

import (
	"io"
	"math"
	"slices"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// actionColumns are the action-log columns ActionRow holds.
var actionColumns = []string{"t", "action_type", "status", "worker_id", "gpu_id", "model_id", "batch_size",
	"expected_exec_duration", "worker_exec_duration", "worker_exec_complete",
	"worker_gpu_clock_before", "worker_gpu_clock", "controller_result_enqueue", "expected_gpu_clock"}

// ActionRow is the part of an action-log row (clockwork_action_log.tsv)
// that the analyses use.
type ActionRow struct {
	T                  int64 // when the result was received, controller clock (ns)
	Type               workerapi.ActionType
	Status             int32
	Worker, GPU        int
	Model, Batch       int
	Expected, Actual   int64 // the controller's expected exec duration, the worker's (ns)
	ExecComplete       int64 // the worker's exec end, since the action was sent (ns)
	ClockBefore, Clock int   // the GPU's SM clock before and after the exec (MHz)
	ResultEnqueue      int64 // from the action's sending to its result's receipt (ns)
	ExpectedClock      int   // the GPU's clock the prediction assumed (MHz)
}

// ReadActionLog calls fn for every row of an action log, in file order.
// Columns are found by their header names.
func ReadActionLog(r io.Reader, fn func(ActionRow)) error {
	return readTSV(r, "action log", actionColumns, func(v []int64) {
		fn(ActionRow{
			T: v[0], Type: workerapi.ActionType(v[1]), Status: int32(v[2]),
			Worker: int(v[3]), GPU: int(v[4]), Model: int(v[5]), Batch: int(v[6]),
			Expected: v[7], Actual: v[8], ExecComplete: v[9],
			ClockBefore: int(v[10]), Clock: int(v[11]), ResultEnqueue: v[12], ExpectedClock: int(v[13]),
		})
	})
}

// PredictedInfer reports whether r is a successful Infer with a measured
// exec: a row whose prediction error means something.
func (r *ActionRow) PredictedInfer() bool {
	return r.Type == workerapi.InferType && r.Status == 0 && r.Actual > 0
}

// PredictionError is |expected − actual| / actual of an Infer's exec.
func (r *ActionRow) PredictionError() float64 {
	return float64(abs(r.Expected-r.Actual)) / float64(r.Actual)
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// Prediction summarises how well a controller predicted its Infers' exec
// durations (spec/controller.md §4.6): the relative error |expected −
// actual| / actual over the successful Infers of an action log.
type Prediction struct {
	Infers   int     // successful Infers
	P50, P99 float64 // of the relative error
	Under    float64 // share of the Infers that ran over their prediction by more than 1 %
}

// Predictions measures the prediction error of the Infers among rows.
func Predictions(rows []ActionRow) Prediction {
	var errs []float64
	under := 0
	for i := range rows {
		r := &rows[i]
		if !r.PredictedInfer() {
			continue
		}
		errs = append(errs, r.PredictionError())
		if r.Actual > r.Expected+r.Expected/100 {
			under++
		}
	}
	if len(errs) == 0 {
		return Prediction{}
	}
	slices.Sort(errs)
	at := func(p float64) float64 { return errs[max(0, int(math.Ceil(p*float64(len(errs))))-1)] } // nearest rank
	return Prediction{Infers: len(errs), P50: at(0.5), P99: at(0.99), Under: float64(under) / float64(len(errs))}
}
