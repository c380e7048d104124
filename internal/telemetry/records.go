// Package telemetry writes the controller's request and action logs
// (clockwork_request_log.tsv, clockwork_action_log.tsv) and prints the
// periodic console summaries derived from them.
package telemetry

// Action log action_type codes.
const (
	ActionLoadWeights  = 1
	ActionInfer        = 2
	ActionEvictWeights = 3
)

// ActionRecord is the raw telemetry of one completed action (success or
// error). Times are absolute controller-clock nanoseconds (0 = unknown); the
// log writer derives the TSV's relative columns from them, including the
// original's residual-skew correction.
type ActionRecord struct {
	ActionID   int32
	ActionType int // ActionLoadWeights, ActionInfer or ActionEvictWeights
	Status     int32
	Worker     int
	GPU        int // worker-local
	ModelID    int
	BatchSize  int

	ExpectedDuration     int64 // the scheduler's prediction (0 for evict)
	ExpectedExecComplete int64 // absolute (0 for evict)
	ExpectedGPUClock     int   // Infer only

	WorkerDuration       int64 // exec duration (Infer) or transfer duration; 0 on error
	WorkerExecComplete   int64 // Infer exec end / LoadWeights end
	WorkerGPUClockBefore int
	WorkerGPUClock       int
	WorkerCopyOutputEnd  int64
	WorkerActionReceived int64
	WorkerResultSent     int64

	Sent           int64 // when the scheduler handed the action to the network
	ResultReceived int64 // when the result reached the controller
	Processed      int64 // when the scheduler handled the result

	// GoodputFraction is the share of the batch's requests answered
	// successfully within their SLO (1 for load/evict success, 0 on error).
	GoodputFraction float64
	RequestsQueued  int
	CopiesLoaded    int
}
