// Package scheduler defines the interface between the controller and its
// scheduling policies, and the cluster state they start from.
//
// A Scheduler is a deterministic state machine in the style of etcd's raft
// package: it never reads a clock, touches a socket or starts a goroutine.
// The controller's driver feeds it events (a request arrived, a worker
// answered, an action finished transmitting, time passed), each stamped with
// the controller's clock, and collects what it decided with Ready: actions to
// transmit to workers, responses to return to clients, telemetry records, and
// the time at which it wants to be woken next. Tests drive the same machine
// with scripted events and a fake clock; a simulator drives it in virtual
// time.
//
// One goroutine owns a Scheduler; its methods are not safe for concurrent use.
package scheduler

import (
	"io"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/telemetry"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Scheduler is a scheduling policy.
type Scheduler interface {
	// Infer admits a client request that arrived at now (r.Arrival == now).
	// Every admitted request is answered exactly once through Ready.
	Infer(now int64, r *Request)

	// Result delivers a worker's answer to an action this scheduler sent,
	// which reached the controller at received (no later than now: the
	// action log's result_received, against which the time the scheduler
	// took it up shows queueing in the controller). Timestamps in res are
	// already in the controller's clock. An error with status
	// workerapi.ErrGPUUnusable means that the GPU the action named is
	// broken for good: it gets no more work.
	Result(now, received int64, worker int, res workerapi.Result)

	// WorkerLost reports that the connection to a worker is gone: its
	// GPUs get no more work until it rejoins. The controller answers the
	// actions it had written to the worker with errors, through Result;
	// Sent reports those it could not write.
	WorkerLost(now int64, worker int)

	// WorkerRejoined reports that a lost worker (w.ID) is connected again
	// and holds the cluster's models: its GPUs that w lists are back in
	// service, holding the weights w says they hold. (A GPU that answered
	// status 14 is not listed by its worker until the worker restarts.)
	// The controller hears nothing from the old connection after
	// WorkerLost.
	WorkerRejoined(now int64, w *Worker)

	// Sent reports that the transmission of an action to a worker finished:
	// err is nil when it was written completely, non-nil when the
	// connection failed (the action will get no result).
	Sent(now int64, worker int, actionID int32, err error)

	// ClientGone answers at once, with status 1, every admitted request for
	// which gone is true that no action holds yet: its client has
	// disconnected, so running it would only delay other clients' requests
	// (the original ran them: a client that queued 100,000 requests and
	// left held the GPUs for a minute and a half). Requests already in an
	// action run; their answers go nowhere.
	ClientGone(now int64, gone func(*Request) bool)

	// Tick tells the scheduler that time has reached now. The driver calls
	// it when the wake time from Ready arrives (it may call it more often).
	Tick(now int64)

	// Ready appends everything decided since the last call to out (which the
	// caller has reset) and sets out.Wake.
	Ready(out *Output)
}

// ClientGoneMessage is the message of ClientGone's answers (they go
// nowhere; the request log has them).
const ClientGoneMessage = "the client disconnected before the request ran"

// Request is one admitted inference request.
type Request struct {
	UserRequestID int32
	UserID        int32
	ModelID       int
	BatchSize     uint32 // echoed in the response; each request is one item
	SLOFactor     float32
	Input         []byte // LZ4-compressed item, or empty
	Arrival       int64

	// Tag belongs to the driver (it routes the response, and ClientGone's
	// predicate may read it); schedulers never read it.
	Tag any
}

// MaxSLO caps a request's SLO so that deadlines on a Unix clock stay far
// from overflow: an slo_factor of +Inf (or one large enough) means
// "whenever", about 13 days.
const MaxSLO = 1 << 50

// SLO is the SLO of a request with slo_factor factor for a model whose
// batch-size-1 exec takes b1 (spec/controller.md §4.5): b1 × factor when
// the factor is positive, else defaultSLO; a factor that is NaN, zero or
// negative means the default, and SLOs beyond MaxSLO (+Inf, or a b1 of 0
// times +Inf, NaN) are MaxSLO.
func SLO(defaultSLO, b1 int64, factor float32) int64 {
	if f := float64(factor); f > 0 {
		if x := float64(b1) * f; x < MaxSLO {
			return int64(x)
		}
		return MaxSLO
	}
	return min(defaultSLO, MaxSLO)
}

// Response answers one Request.
type Response struct {
	Req     *Request
	Status  int32 // clientapi / workerapi status code
	Message string
	Output  []byte

	// Telemetry (not on the wire).
	Deadline       int64 // the request's real deadline; 0 if none
	Departure      int64
	ArrivalCount   int // copies of the model loaded when the request arrived
	DepartureCount int // ... and when it was answered
	// UnknownModel says the request named a model id the scheduler does
	// not know (status 1, "Invalid model ID").
	UnknownModel bool
}

// Send is an action to transmit to a worker now.
type Send struct {
	Worker int
	Action workerapi.Action
}

// Output is what a Scheduler decided since the previous Ready.
type Output struct {
	Sends     []Send
	Responses []Response
	Actions   []telemetry.ActionRecord
	// Wake is when the scheduler next wants Tick; 0 means only on events.
	Wake int64
}

// Reset empties o for reuse, keeping its capacity.
func (o *Output) Reset() {
	clear(o.Sends)
	clear(o.Responses)
	o.Sends, o.Responses, o.Actions, o.Wake = o.Sends[:0], o.Responses[:0], o.Actions[:0], 0
}

// Config holds the controller options shared by schedulers (spec/controller.md §1.2, §11).
type Config struct {
	DefaultSLO     int64 // ns; SLO when a request's slo_factor is ≤ 0
	LatestDelta    int64 // ns; slack past the predicted start before a worker rejects an action
	ScheduleAhead  int64 // ns; how far ahead work is queued on a GPU or PCIe link
	MaxExec        int64 // ns; batch sizes > 1 with longer profiled exec are not used
	MaxBatch       int   // largest batch size used
	GenerateInputs bool  // substitute generated inputs for empty request inputs
	MaxGPUs        int   // cap on GPUs used, spread evenly over workers

	// Inputs returns an LZ4-compressed input item of the given uncompressed
	// size; used when GenerateInputs is set.
	Inputs func(size uint64) []byte

	// Log receives the scheduler's console lines (start-up summary etc.).
	Log io.Writer
}

// State is the cluster found by the controller's startup phase (the
// original's ClockworkState).
type State struct {
	PageSize uint64
	Workers  []Worker
}

// Worker is one worker's GPUs and models.
type Worker struct {
	ID     int
	GPUs   []GPU
	Models []Model // ascending id
}

// GPU is one GPU of a worker.
type GPU struct {
	ID               int // worker-local
	WeightsCacheSize uint64
	TotalPages       int
	LoadedModels     []int // ids with resident weights at startup
}

// Model is a model instance known to a worker.
type Model struct {
	ID              int
	Path            string
	InputSize       uint64
	OutputSize      uint64
	WeightsSize     uint64
	NumWeightsPages int
	WeightsTransfer int64   // profiled weights load ns (0 if unknown)
	BatchSizes      []int   // ascending
	ExecDurations   []int64 // profiled ns, parallel to BatchSizes
}

// Exec returns the profiled exec time of batch size b, or 0.
func (m *Model) Exec(b int) int64 {
	for i, s := range m.BatchSizes {
		if s == b {
			return m.ExecDurations[i]
		}
	}
	return 0
}

// UnknownModel is the answer at now to r, which names a model id the
// scheduler does not know: status 1, as the original.
func UnknownModel(r *Request, now int64) Response {
	return Response{Req: r, Status: clientapi.StatusError, Message: "Invalid model ID", Departure: now, UnknownModel: true}
}

// Record converts the response into a row of the request log.
func (r *Response) Record() telemetry.RequestRecord {
	return telemetry.RequestRecord{
		RequestID: r.Req.UserRequestID, UserID: r.Req.UserID, ModelID: r.Req.ModelID, SLOFactor: r.Req.SLOFactor,
		Result: r.Status, Arrival: r.Req.Arrival, Departure: r.Departure, Deadline: r.Deadline,
		ArrivalCount: r.ArrivalCount, DepartureCount: r.DepartureCount, UnknownModel: r.UnknownModel,
	}
}

// Input returns what to send a worker for r: its input, or, when it has
// none and GenerateInputs is set, a generated input of the model's size
// (generated reports that; clients then get no output).
func (c *Config) Input(r *Request, inputSize uint64) (in []byte, generated bool) {
	if len(r.Input) == 0 && c.GenerateInputs {
		return c.Inputs(inputSize), true
	}
	return r.Input, false
}
