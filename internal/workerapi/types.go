// Package workerapi defines the worker protocol in Go terms: the six actions
// a controller sends a worker, their results, the status codes, conversion
// to and from the wire (api/clockwork.proto), and the console renderings the
// original prints for each.
//
// Timestamps are uint64 nanoseconds as on the wire, where 0 and MaxUint64
// mean "no bound". Durations are nanoseconds.
package workerapi

// ActionType is the worker's internal action code. It differs from the wire
// message type (see api.ActionType): Infer is 2 here and 3 on the wire.
type ActionType int32

// Internal action codes.
const (
	LoadModelFromDiskType ActionType = 0
	LoadWeightsType       ActionType = 1
	InferType             ActionType = 2
	EvictWeightsType      ActionType = 3
	ClearCacheType        ActionType = 4
	GetWorkerStateType    ActionType = 5
)

var actionTypeNames = [...]string{"LoadModelFromDisk", "LoadWeights", "Infer", "EvictWeights", "ClearCache", "GetWorkerState"}

func (t ActionType) String() string {
	if t >= 0 && int(t) < len(actionTypeNames) {
		return actionTypeNames[t]
	}
	return "Unknown"
}

// NoLatest is the "no upper bound" window value.
const NoLatest = ^uint64(0)

// MaxModels is the most models a worker holds, and so a cluster (the
// original had no bound: a client's LoadModel of 2^31 copies took a
// worker's and the controller's memory). A worker's GetWorkerState answer
// must also fit in one frame's 10 MiB header (StateSize): fewer models fit
// where their paths are long.
const MaxModels = 1 << 16

// Action is one of the six worker actions.
type Action interface {
	ActionID() int32
	Type() ActionType
	// Describe renders the action as the original's console does, with its
	// window shown relative to now.
	Describe(now uint64) string
}

// Windowed is an action with an [earliest, latest] window.
type Windowed interface {
	Action
	Window() (earliest, latest uint64)
	SetWindow(earliest, latest uint64)
}

// OnGPU is an action on one GPU: LoadWeights, EvictWeights or Infer.
type OnGPU interface {
	Action
	GPUID() uint32
}

// LoadModelFromDisk asks the worker to read a model and create copies of it
// with consecutive ids on every GPU.
type LoadModelFromDisk struct {
	ID              int32
	ModelID         int32
	Path            string // path prefix, e.g. /zoo/resnet50_v2/model
	Earliest        uint64
	Latest          uint64
	Copies          int32
	MaxBatchSize    uint32
	MaxExecDuration uint64
}

// LoadWeights copies a model's weights into a GPU's weights cache.
type LoadWeights struct {
	ID               int32
	ModelID          int32
	GPU              uint32
	Earliest         uint64
	Latest           uint64
	ExpectedDuration uint64 // informational; workers ignore it
}

// EvictWeights frees a model's weights on a GPU.
type EvictWeights struct {
	ID       int32
	ModelID  int32
	GPU      uint32
	Earliest uint64
	Latest   uint64
}

// Infer runs a batch. Input holds the items concatenated; InputSizes, when
// non-empty, lists the LZ4-compressed size of each item. An empty Input asks
// the worker to generate inputs (and it then returns no output).
type Infer struct {
	ID               int32
	ModelID          int32
	GPU              uint32
	Earliest         uint64
	Latest           uint64
	ExpectedDuration uint64 // informational; workers ignore it
	BatchSize        uint32
	InputSizes       []uint32
	Input            []byte
	// InputParts, when set on the sending side, follow Input on the wire
	// without being copied together (the controller batches requests so).
	InputParts [][]byte
}

// ClearCache drops every model's weights on every GPU.
type ClearCache struct{ ID int32 }

// GetWorkerState asks for the worker's memory and model state.
type GetWorkerState struct{ ID int32 }

func (a *LoadModelFromDisk) ActionID() int32 { return a.ID }
func (a *LoadWeights) ActionID() int32       { return a.ID }
func (a *EvictWeights) ActionID() int32      { return a.ID }
func (a *Infer) ActionID() int32             { return a.ID }
func (a *ClearCache) ActionID() int32        { return a.ID }
func (a *GetWorkerState) ActionID() int32    { return a.ID }

func (a *LoadModelFromDisk) Type() ActionType { return LoadModelFromDiskType }
func (a *LoadWeights) Type() ActionType       { return LoadWeightsType }
func (a *EvictWeights) Type() ActionType      { return EvictWeightsType }
func (a *Infer) Type() ActionType             { return InferType }
func (a *ClearCache) Type() ActionType        { return ClearCacheType }
func (a *GetWorkerState) Type() ActionType    { return GetWorkerStateType }

func (a *LoadModelFromDisk) Window() (uint64, uint64) { return a.Earliest, a.Latest }
func (a *LoadWeights) Window() (uint64, uint64)       { return a.Earliest, a.Latest }
func (a *EvictWeights) Window() (uint64, uint64)      { return a.Earliest, a.Latest }
func (a *Infer) Window() (uint64, uint64)             { return a.Earliest, a.Latest }

func (a *LoadWeights) GPUID() uint32  { return a.GPU }
func (a *EvictWeights) GPUID() uint32 { return a.GPU }
func (a *Infer) GPUID() uint32        { return a.GPU }

func (a *LoadModelFromDisk) SetWindow(e, l uint64) { a.Earliest, a.Latest = e, l }
func (a *LoadWeights) SetWindow(e, l uint64)       { a.Earliest, a.Latest = e, l }
func (a *EvictWeights) SetWindow(e, l uint64)      { a.Earliest, a.Latest = e, l }
func (a *Infer) SetWindow(e, l uint64)             { a.Earliest, a.Latest = e, l }

// InputLen is the total input length of the Infer as sent.
func (a *Infer) InputLen() int {
	n := len(a.Input)
	for _, p := range a.InputParts {
		n += len(p)
	}
	return n
}

// Timing brackets one stage. Duration is device time where the worker
// measures it and need not equal End-Begin.
type Timing struct {
	Begin, End, Duration uint64
}

// Result is the answer to one action: an *ErrorResult or the action's
// success result.
type Result interface {
	ActionID() int32
	Type() ActionType
	// Status is 0 for success results.
	Status() int32
	String() string
	// Stamps returns the receipt and send timestamps.
	Stamps() (received, sent uint64)
	// SetStamps sets them.
	SetStamps(received, sent uint64)
}

// ErrorResult reports a failed action.
type ErrorResult struct {
	ID             int32
	ActionType     ActionType
	Code           int32
	Message        string
	ActionReceived uint64
	ResultSent     uint64
}

// LoadModelFromDiskResult describes the loaded model (one item's sizes).
type LoadModelFromDiskResult struct {
	ID                 int32
	Timing             Timing
	InputSize          uint64
	OutputSize         uint64
	BatchSizes         []uint32 // ascending
	WeightsSizeInCache uint64   // pages × page size
	NumWeightsPages    uint32
	WeightsLoadTime    uint64   // ns
	ExecTimes          []uint64 // ns, parallel to BatchSizes
	CopiesCreated      int32
	ActionReceived     uint64
	ResultSent         uint64
}

// LoadWeightsResult reports a completed weights transfer.
type LoadWeightsResult struct {
	ID             int32
	Timing         Timing
	ActionReceived uint64
	ResultSent     uint64
}

// EvictWeightsResult reports a completed eviction.
type EvictWeightsResult struct {
	ID             int32
	Timing         Timing
	ActionReceived uint64
	ResultSent     uint64
}

// InferResult reports a completed batch. Output holds the outputs of the
// real items, concatenated (empty when the worker generated the inputs).
type InferResult struct {
	ID             int32
	CopyInput      Timing
	Exec           Timing
	CopyOutput     Timing
	GPU            uint32
	GPUClockBefore uint32 // SM MHz when the exec started
	GPUClock       uint32 // SM MHz when it completed
	ActionReceived uint64
	ResultSent     uint64
	Output         []byte
}

// ClearCacheResult acknowledges a ClearCache.
type ClearCacheResult struct {
	ID             int32
	ActionReceived uint64
	ResultSent     uint64
}

// GetWorkerStateResult carries the worker's state.
type GetWorkerStateResult struct {
	ID             int32
	Memory         WorkerMemoryInfo
	ActionReceived uint64
	ResultSent     uint64
}

// WorkerMemoryInfo is a worker's memory configuration and loaded models.
type WorkerMemoryInfo struct {
	PageSize             uint64
	HostWeightsCacheSize uint64
	HostIOPoolSize       uint64
	GPUs                 []GPUInfo
	Models               []ModelInfo
}

// GPUInfo describes one GPU's pools and the models whose weights it holds.
type GPUInfo struct {
	ID                     int32
	WeightsCacheSize       uint64
	WeightsCacheTotalPages int32
	Models                 []uint32 // ascending ids with resident weights
	IOPoolSize             uint64
	WorkspacePoolSize      uint64
}

// ModelInfo describes one model instance id.
type ModelInfo struct {
	ID              int32
	Source          string
	InputSize       uint64
	OutputSize      uint64
	BatchSizes      []uint32
	WeightsSize     uint64
	NumWeightsPages uint32
	WeightsLoadTime uint64
	ExecTimes       []uint64
}

func (r *ErrorResult) ActionID() int32             { return r.ID }
func (r *LoadModelFromDiskResult) ActionID() int32 { return r.ID }
func (r *LoadWeightsResult) ActionID() int32       { return r.ID }
func (r *EvictWeightsResult) ActionID() int32      { return r.ID }
func (r *InferResult) ActionID() int32             { return r.ID }
func (r *ClearCacheResult) ActionID() int32        { return r.ID }
func (r *GetWorkerStateResult) ActionID() int32    { return r.ID }

func (r *ErrorResult) Type() ActionType             { return r.ActionType }
func (r *LoadModelFromDiskResult) Type() ActionType { return LoadModelFromDiskType }
func (r *LoadWeightsResult) Type() ActionType       { return LoadWeightsType }
func (r *EvictWeightsResult) Type() ActionType      { return EvictWeightsType }
func (r *InferResult) Type() ActionType             { return InferType }
func (r *ClearCacheResult) Type() ActionType        { return ClearCacheType }
func (r *GetWorkerStateResult) Type() ActionType    { return GetWorkerStateType }

func (r *ErrorResult) Status() int32             { return r.Code }
func (r *LoadModelFromDiskResult) Status() int32 { return Success }
func (r *LoadWeightsResult) Status() int32       { return Success }
func (r *EvictWeightsResult) Status() int32      { return Success }
func (r *InferResult) Status() int32             { return Success }
func (r *ClearCacheResult) Status() int32        { return Success }
func (r *GetWorkerStateResult) Status() int32    { return Success }

func (r *ErrorResult) Stamps() (uint64, uint64)             { return r.ActionReceived, r.ResultSent }
func (r *LoadModelFromDiskResult) Stamps() (uint64, uint64) { return r.ActionReceived, r.ResultSent }
func (r *LoadWeightsResult) Stamps() (uint64, uint64)       { return r.ActionReceived, r.ResultSent }
func (r *EvictWeightsResult) Stamps() (uint64, uint64)      { return r.ActionReceived, r.ResultSent }
func (r *InferResult) Stamps() (uint64, uint64)             { return r.ActionReceived, r.ResultSent }
func (r *ClearCacheResult) Stamps() (uint64, uint64)        { return r.ActionReceived, r.ResultSent }
func (r *GetWorkerStateResult) Stamps() (uint64, uint64)    { return r.ActionReceived, r.ResultSent }

func (r *ErrorResult) SetStamps(a, s uint64)             { r.ActionReceived, r.ResultSent = a, s }
func (r *LoadModelFromDiskResult) SetStamps(a, s uint64) { r.ActionReceived, r.ResultSent = a, s }
func (r *LoadWeightsResult) SetStamps(a, s uint64)       { r.ActionReceived, r.ResultSent = a, s }
func (r *EvictWeightsResult) SetStamps(a, s uint64)      { r.ActionReceived, r.ResultSent = a, s }
func (r *InferResult) SetStamps(a, s uint64)             { r.ActionReceived, r.ResultSent = a, s }
func (r *ClearCacheResult) SetStamps(a, s uint64)        { r.ActionReceived, r.ResultSent = a, s }
func (r *GetWorkerStateResult) SetStamps(a, s uint64)    { r.ActionReceived, r.ResultSent = a, s }
