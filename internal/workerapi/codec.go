package workerapi

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	pb "github.com/clockwork-go/clockwork/api"
	"github.com/clockwork-go/clockwork/internal/wire"
)

// Wire message types of the worker protocol.
const (
	MsgLoadModelFromDisk       = uint64(pb.ActionType_ACT_LOAD_MODEL_FROM_DISK)
	MsgLoadWeights             = uint64(pb.ActionType_ACT_LOAD_WEIGHTS)
	MsgInfer                   = uint64(pb.ActionType_ACT_INFER)
	MsgEvictWeights            = uint64(pb.ActionType_ACT_EVICT_WEIGHTS)
	MsgClearCache              = uint64(pb.ActionType_ACT_CLEAR_CACHE)
	MsgGetWorkerState          = uint64(pb.ActionType_ACT_GET_WORKER_STATE)
	MsgErrorResult             = uint64(pb.ActionType_RES_ERROR)
	MsgLoadModelFromDiskResult = uint64(pb.ActionType_RES_LOAD_MODEL_FROM_DISK)
	MsgLoadWeightsResult       = uint64(pb.ActionType_RES_LOAD_WEIGHTS)
	MsgInferResult             = uint64(pb.ActionType_RES_INFER)
	MsgEvictWeightsResult      = uint64(pb.ActionType_RES_EVICT_WEIGHTS)
	MsgClearCacheResult        = uint64(pb.ActionType_RES_CLEAR_CACHE)
	MsgGetWorkerStateResult    = uint64(pb.ActionType_RES_GET_WORKER_STATE)
)

// EncodeAction frames an action for the wire.
func EncodeAction(a Action) (*wire.Message, error) {
	var m proto.Message
	var typ uint64
	msg := &wire.Message{}
	switch a := a.(type) {
	case *LoadModelFromDisk:
		typ, m = MsgLoadModelFromDisk, &pb.LoadModelFromDiskActionProto{
			ActionId: &a.ID, ModelId: &a.ModelID, ModelPath: &a.Path,
			Earliest: &a.Earliest, Latest: &a.Latest, NoOfCopies: &a.Copies,
			MaxBatchSize: &a.MaxBatchSize, MaxExecDuration: &a.MaxExecDuration,
		}
	case *LoadWeights:
		typ, m = MsgLoadWeights, &pb.LoadWeightsActionProto{
			ActionId: &a.ID, ModelId: &a.ModelID, GpuId: &a.GPU,
			Earliest: &a.Earliest, Latest: &a.Latest, ExpectedDuration: &a.ExpectedDuration,
		}
	case *EvictWeights:
		typ, m = MsgEvictWeights, &pb.EvictWeightsActionProto{
			ActionId: &a.ID, ModelId: &a.ModelID, GpuId: &a.GPU,
			Earliest: &a.Earliest, Latest: &a.Latest,
		}
	case *Infer:
		typ, m = MsgInfer, &pb.InferActionProto{
			ActionId: &a.ID, ModelId: &a.ModelID, GpuId: &a.GPU,
			Earliest: &a.Earliest, Latest: &a.Latest, ExpectedDuration: &a.ExpectedDuration,
			BatchSize: &a.BatchSize, InputSizes: a.InputSizes,
		}
		msg.Body, msg.BodyParts = a.Input, a.InputParts
	case *ClearCache:
		typ, m = MsgClearCache, &pb.ClearCacheActionProto{ActionId: &a.ID}
	case *GetWorkerState:
		typ, m = MsgGetWorkerState, &pb.GetWorkerStateActionProto{ActionId: &a.ID}
	default:
		return nil, fmt.Errorf("workerapi: cannot encode action %T", a)
	}
	h, err := proto.MarshalOptions{}.MarshalAppend(msg.HeaderBuffer(), m)
	if err != nil {
		return nil, err
	}
	msg.Type, msg.Header = typ, h
	return msg, nil
}

// DecodeAction parses a received action. Unknown types and headers that do
// not parse (including missing required fields) are errors.
func DecodeAction(msg *wire.Message) (Action, error) {
	switch msg.Type {
	case MsgLoadModelFromDisk:
		var p pb.LoadModelFromDiskActionProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &LoadModelFromDisk{
			ID: p.GetActionId(), ModelID: p.GetModelId(), Path: p.GetModelPath(),
			Earliest: p.GetEarliest(), Latest: p.GetLatest(), Copies: p.GetNoOfCopies(),
			MaxBatchSize: p.GetMaxBatchSize(), MaxExecDuration: p.GetMaxExecDuration(),
		}, nil
	case MsgLoadWeights:
		var p pb.LoadWeightsActionProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &LoadWeights{
			ID: p.GetActionId(), ModelID: p.GetModelId(), GPU: p.GetGpuId(),
			Earliest: p.GetEarliest(), Latest: p.GetLatest(), ExpectedDuration: p.GetExpectedDuration(),
		}, nil
	case MsgEvictWeights:
		var p pb.EvictWeightsActionProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &EvictWeights{
			ID: p.GetActionId(), ModelID: p.GetModelId(), GPU: p.GetGpuId(),
			Earliest: p.GetEarliest(), Latest: p.GetLatest(),
		}, nil
	case MsgInfer:
		var p pb.InferActionProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &Infer{
			ID: p.GetActionId(), ModelID: p.GetModelId(), GPU: p.GetGpuId(),
			Earliest: p.GetEarliest(), Latest: p.GetLatest(), ExpectedDuration: p.GetExpectedDuration(),
			BatchSize: p.GetBatchSize(), InputSizes: p.GetInputSizes(), Input: msg.Body,
		}, nil
	case MsgClearCache:
		var p pb.ClearCacheActionProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &ClearCache{ID: p.GetActionId()}, nil
	case MsgGetWorkerState:
		var p pb.GetWorkerStateActionProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &GetWorkerState{ID: p.GetActionId()}, nil
	}
	return nil, fmt.Errorf("workerapi: unknown action message type %d", msg.Type)
}

func unmarshal(msg *wire.Message, m proto.Message) error {
	if err := proto.Unmarshal(msg.Header, m); err != nil {
		return fmt.Errorf("workerapi: bad header for message type %d: %w", msg.Type, err)
	}
	return nil
}

// timingPB points p's fields at t's and returns p.
func timingPB(p *pb.TimingProto, t *Timing) *pb.TimingProto {
	p.Begin, p.End, p.Duration = &t.Begin, &t.End, &t.Duration
	return p
}

// inferResultPB is an InferResult's protobuf with its three timings, in one
// allocation: one is encoded for every Infer.
type inferResultPB struct {
	p                     pb.InferResultProto
	copyIn, exec, copyOut pb.TimingProto
}

func timingOf(p *pb.TimingProto) Timing {
	return Timing{Begin: p.GetBegin(), End: p.GetEnd(), Duration: p.GetDuration()}
}

// EncodeResult frames a result for the wire.
func EncodeResult(r Result) (*wire.Message, error) {
	var m proto.Message
	var typ uint64
	msg := &wire.Message{}
	switch r := r.(type) {
	case *ErrorResult:
		at := int32(r.ActionType)
		typ, m = MsgErrorResult, &pb.ErrorResultProto{
			ActionId: &r.ID, ActionType: &at, Status: &r.Code, Message: &r.Message,
			ActionReceived: &r.ActionReceived, ResultSent: &r.ResultSent,
		}
	case *LoadModelFromDiskResult:
		typ, m = MsgLoadModelFromDiskResult, &pb.LoadModelFromDiskResultProto{
			ActionId: &r.ID, Timing: timingPB(new(pb.TimingProto), &r.Timing), InputSize: &r.InputSize, OutputSize: &r.OutputSize,
			SupportedBatchSizes: r.BatchSizes, WeightsSizeInCache: &r.WeightsSizeInCache,
			NumWeightsPages: &r.NumWeightsPages, WeightsLoadTimeNanos: &r.WeightsLoadTime,
			BatchSizeExecTimesNanos: r.ExecTimes, CopiesCreated: &r.CopiesCreated,
			ActionReceived: &r.ActionReceived, ResultSent: &r.ResultSent,
		}
	case *LoadWeightsResult:
		typ, m = MsgLoadWeightsResult, &pb.LoadWeightsResultProto{
			ActionId: &r.ID, Timing: timingPB(new(pb.TimingProto), &r.Timing),
			ActionReceived: &r.ActionReceived, ResultSent: &r.ResultSent,
		}
	case *EvictWeightsResult:
		typ, m = MsgEvictWeightsResult, &pb.EvictWeightsResultProto{
			ActionId: &r.ID, Timing: timingPB(new(pb.TimingProto), &r.Timing),
			ActionReceived: &r.ActionReceived, ResultSent: &r.ResultSent,
		}
	case *InferResult:
		x := new(inferResultPB)
		x.p.ActionId, x.p.GpuId = &r.ID, &r.GPU
		x.p.CopyInputTiming = timingPB(&x.copyIn, &r.CopyInput)
		x.p.ExecTiming = timingPB(&x.exec, &r.Exec)
		x.p.CopyOutputTiming = timingPB(&x.copyOut, &r.CopyOutput)
		x.p.GpuClockBefore, x.p.GpuClock = &r.GPUClockBefore, &r.GPUClock
		x.p.ActionReceived, x.p.ResultSent = &r.ActionReceived, &r.ResultSent
		typ, m = MsgInferResult, &x.p
		msg.Body = r.Output
	case *ClearCacheResult:
		typ, m = MsgClearCacheResult, &pb.ClearCacheResultProto{
			ActionId: &r.ID, ActionReceived: &r.ActionReceived, ResultSent: &r.ResultSent,
		}
	case *GetWorkerStateResult:
		typ, m = MsgGetWorkerStateResult, &pb.GetWorkerStateResultProto{
			ActionId: &r.ID, WorkerMemoryInfo: memoryPB(&r.Memory),
			ActionReceived: &r.ActionReceived, ResultSent: &r.ResultSent,
		}
	default:
		return nil, fmt.Errorf("workerapi: cannot encode result %T", r)
	}
	h, err := proto.MarshalOptions{}.MarshalAppend(msg.HeaderBuffer(), m)
	if err != nil {
		return nil, err
	}
	msg.Type, msg.Header = typ, h
	return msg, nil
}

func memoryPB(w *WorkerMemoryInfo) *pb.WorkerMemoryInfoProto {
	p := &pb.WorkerMemoryInfoProto{
		PageSize: &w.PageSize, HostWeightsCacheSize: &w.HostWeightsCacheSize, HostIoPoolSize: &w.HostIOPoolSize,
	}
	for i := range w.GPUs {
		g := &w.GPUs[i]
		p.Gpus = append(p.Gpus, &pb.GPUInfoProto{
			Id: &g.ID, WeightsCacheSize: &g.WeightsCacheSize, WeightsCacheTotalPages: &g.WeightsCacheTotalPages,
			Models: g.Models, IoPoolSize: &g.IOPoolSize, WorkspacePoolSize: &g.WorkspacePoolSize,
		})
	}
	for i := range w.Models {
		p.Models = append(p.Models, modelInfoPB(&w.Models[i]))
	}
	return p
}

func modelInfoPB(m *ModelInfo) *pb.ModelInfoProto {
	return &pb.ModelInfoProto{
		Id: &m.ID, Source: &m.Source, InputSize: &m.InputSize, OutputSize: &m.OutputSize,
		SupportedBatchSizes: m.BatchSizes, WeightsSize: &m.WeightsSize, NumWeightsPages: &m.NumWeightsPages,
		WeightsLoadTimeNanos: &m.WeightsLoadTime, BatchSizeExecTimesNanos: m.ExecTimes,
	}
}

// ModelInfoSize is how many bytes m takes in a GetWorkerState result's
// header: the entry, its tag and its length.
func ModelInfoSize(m *ModelInfo) int {
	n := proto.Size(modelInfoPB(m))
	return 1 + protowire.SizeVarint(uint64(n)) + n
}

// StateSize bounds the header of a GetWorkerState result whose models take
// modelBytes (ModelInfoSize each) and whose GPUs list at most resident[g]
// models each, of ids up to maxID. It must be at most wire.MaxHeaderSize
// for any controller to read it.
func StateSize(modelBytes int, resident []int, maxID int32) int {
	perID := 1 + protowire.SizeVarint(uint64(maxID))
	n := 256 + modelBytes // and the result's other fields
	for _, r := range resident {
		n += 64 + perID*r // and the GPU's other fields
	}
	return n
}

func memoryOf(p *pb.WorkerMemoryInfoProto) WorkerMemoryInfo {
	w := WorkerMemoryInfo{
		PageSize: p.GetPageSize(), HostWeightsCacheSize: p.GetHostWeightsCacheSize(), HostIOPoolSize: p.GetHostIoPoolSize(),
	}
	for _, g := range p.GetGpus() {
		w.GPUs = append(w.GPUs, GPUInfo{
			ID: g.GetId(), WeightsCacheSize: g.GetWeightsCacheSize(), WeightsCacheTotalPages: g.GetWeightsCacheTotalPages(),
			Models: g.GetModels(), IOPoolSize: g.GetIoPoolSize(), WorkspacePoolSize: g.GetWorkspacePoolSize(),
		})
	}
	for _, m := range p.GetModels() {
		w.Models = append(w.Models, ModelInfo{
			ID: m.GetId(), Source: m.GetSource(), InputSize: m.GetInputSize(), OutputSize: m.GetOutputSize(),
			BatchSizes: m.GetSupportedBatchSizes(), WeightsSize: m.GetWeightsSize(), NumWeightsPages: m.GetNumWeightsPages(),
			WeightsLoadTime: m.GetWeightsLoadTimeNanos(), ExecTimes: m.GetBatchSizeExecTimesNanos(),
		})
	}
	return w
}

// DecodeResult parses a received result.
func DecodeResult(msg *wire.Message) (Result, error) {
	switch msg.Type {
	case MsgErrorResult:
		var p pb.ErrorResultProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &ErrorResult{
			ID: p.GetActionId(), ActionType: ActionType(p.GetActionType()), Code: p.GetStatus(),
			Message: p.GetMessage(), ActionReceived: p.GetActionReceived(), ResultSent: p.GetResultSent(),
		}, nil
	case MsgLoadModelFromDiskResult:
		var p pb.LoadModelFromDiskResultProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &LoadModelFromDiskResult{
			ID: p.GetActionId(), Timing: timingOf(p.GetTiming()), InputSize: p.GetInputSize(), OutputSize: p.GetOutputSize(),
			BatchSizes: p.GetSupportedBatchSizes(), WeightsSizeInCache: p.GetWeightsSizeInCache(),
			NumWeightsPages: p.GetNumWeightsPages(), WeightsLoadTime: p.GetWeightsLoadTimeNanos(),
			ExecTimes: p.GetBatchSizeExecTimesNanos(), CopiesCreated: p.GetCopiesCreated(),
			ActionReceived: p.GetActionReceived(), ResultSent: p.GetResultSent(),
		}, nil
	case MsgLoadWeightsResult:
		var p pb.LoadWeightsResultProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &LoadWeightsResult{ID: p.GetActionId(), Timing: timingOf(p.GetTiming()),
			ActionReceived: p.GetActionReceived(), ResultSent: p.GetResultSent()}, nil
	case MsgEvictWeightsResult:
		var p pb.EvictWeightsResultProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &EvictWeightsResult{ID: p.GetActionId(), Timing: timingOf(p.GetTiming()),
			ActionReceived: p.GetActionReceived(), ResultSent: p.GetResultSent()}, nil
	case MsgInferResult:
		var p pb.InferResultProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &InferResult{
			ID: p.GetActionId(), CopyInput: timingOf(p.GetCopyInputTiming()), Exec: timingOf(p.GetExecTiming()),
			CopyOutput: timingOf(p.GetCopyOutputTiming()), GPU: p.GetGpuId(),
			GPUClockBefore: p.GetGpuClockBefore(), GPUClock: p.GetGpuClock(),
			ActionReceived: p.GetActionReceived(), ResultSent: p.GetResultSent(), Output: msg.Body,
		}, nil
	case MsgClearCacheResult:
		var p pb.ClearCacheResultProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &ClearCacheResult{ID: p.GetActionId(), ActionReceived: p.GetActionReceived(), ResultSent: p.GetResultSent()}, nil
	case MsgGetWorkerStateResult:
		var p pb.GetWorkerStateResultProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &GetWorkerStateResult{ID: p.GetActionId(), Memory: memoryOf(p.GetWorkerMemoryInfo()),
			ActionReceived: p.GetActionReceived(), ResultSent: p.GetResultSent()}, nil
	}
	return nil, fmt.Errorf("workerapi: unknown result message type %d", msg.Type)
}
