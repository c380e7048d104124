// Package telemetry writes the controller's request and action logs
// (clockwork_request_log.tsv, clockwork_action_log.tsv) and prints the
// periodic console summaries derived from them (spec/controller.md §8).
//
// Records hold raw facts (absolute controller-clock timestamps, statuses,
// counts); every derived column — relative times, the residual clock-skew
// correction, deadline rules, goodput — is computed here, when a row is
// written, so that schedulers stay free of presentation rules. The package
// depends on nothing else in the project: the scheduler package imports it,
// so the controller builds RequestRecords from scheduler responses itself.
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

// RequestRecord is the raw telemetry of one answered inference request: a
// row of the request log.
type RequestRecord struct {
	RequestID int32 // the client's user_request_id
	UserID    int32
	ModelID   int
	SLOFactor float32
	Result    int32 // the response's status

	Arrival   int64 // when the controller admitted the request
	Departure int64 // when it was answered
	Deadline  int64 // the request's real deadline (arrival + SLO); 0 if none

	ArrivalCount   int // copies of the model loaded at arrival
	DepartureCount int // ... and at departure
	// UnknownModel says ModelID named no model (not a column of the log;
	// the metrics count such requests without a series per id).
	UnknownModel bool
}
