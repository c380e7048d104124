// Package clientapi defines the client protocol (client ↔ controller) in Go
// terms: requests, responses, status codes, wire conversion and the console
// renderings the controller prints. RPC matching uses the frame's message id;
// user_request_id is the client's own numbering and is echoed back.
package clientapi

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"

	pb "github.com/clockwork-go/clockwork/api"
	"github.com/clockwork-go/clockwork/internal/console"
	"github.com/clockwork-go/clockwork/internal/wire"
)

// Client-visible status codes (the original's api_common.h). Worker status
// codes (workerapi) may also reach clients unchanged.
const (
	Success                       int32 = 0
	StatusError                   int32 = 1
	StatusTimeout                 int32 = 4
	StatusInitializing            int32 = 5
	StatusInvalidRequest          int32 = 6
	StatusControllerSkipped       int32 = 7
	StatusCouldNotStartInTime     int32 = 8
	StatusNetworkSendTooLate      int32 = 45
	MessageControllerInitializing       = "Controller initializing"
)

// Wire message types of the client protocol.
const (
	MsgUploadModel        = uint64(pb.RequestType_REQ_UPLOAD_MODEL)
	MsgInfer              = uint64(pb.RequestType_REQ_INFERENCE)
	MsgLoadRemoteModel    = uint64(pb.RequestType_REQ_LOAD_REMOTE_MODEL)
	MsgEvict              = uint64(pb.RequestType_REQ_EVICT)
	MsgLS                 = uint64(pb.RequestType_REQ_LS)
	MsgUploadModelRsp     = uint64(pb.RequestType_RSP_UPLOAD_MODEL)
	MsgInferRsp           = uint64(pb.RequestType_RSP_INFERENCE)
	MsgLoadRemoteModelRsp = uint64(pb.RequestType_RSP_LOAD_REMOTE_MODEL)
	MsgEvictRsp           = uint64(pb.RequestType_RSP_EVICT)
	MsgLSRsp              = uint64(pb.RequestType_RSP_LS)
)

// RequestHeader is carried by every request.
type RequestHeader struct {
	UserID        int32
	UserRequestID int32
}

// ResponseHeader is carried by every response.
type ResponseHeader struct {
	UserRequestID int32
	Status        int32
	Message       string
}

// Request is one of the client requests.
type Request interface {
	Head() *RequestHeader
	String() string
}

// Response is one of the client responses.
type Response interface {
	Head() *ResponseHeader
	String() string
}

// InferRequest asks for one inference. Input is normally LZ4-compressed by
// the client library; it may be empty (the controller or worker then
// generates an input).
type InferRequest struct {
	RequestHeader
	ModelID   uint32
	BatchSize uint32
	SLOFactor float32
	Input     []byte
}

// InferResponse carries the output of one inference.
type InferResponse struct {
	ResponseHeader
	ModelID   uint32
	BatchSize uint32
	Output    []byte
}

// LoadModelRequest asks the controller (during its load stage) to load a
// model from the workers' disks, creating Copies instances.
type LoadModelRequest struct {
	RequestHeader
	Path   string
	Copies int32
}

// LoadModelResponse gives the first id of the consecutive ids created.
type LoadModelResponse struct {
	ResponseHeader
	ModelID       uint32
	InputSize     uint64
	OutputSize    uint64
	CopiesCreated int32
}

// LSRequest lists the models the controller knows.
type LSRequest struct{ RequestHeader }

// ModelInfo describes one model id in an LS response.
type ModelInfo struct {
	ModelID    uint32
	Path       string
	InputSize  uint64
	OutputSize uint64
}

// LSResponse lists models in ascending id order.
type LSResponse struct {
	ResponseHeader
	Models []ModelInfo
	// models is Models encoded by Freeze, which EncodeResponse then
	// copies rather than encoding each model again.
	models []byte
}

// Freeze encodes r's models once, for the many responses copied from r (a
// controller answers every LS with one list, 65,536 models encoded in 17
// ms): EncodeResponse then copies the encoding. Models must not change
// after it.
func (r *LSResponse) Freeze() error {
	p := &pb.LSRspProto{Models: lsModels(r.Models)}
	b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(p) // its header is each response's
	if err != nil {
		return fmt.Errorf("clientapi: encoding %d models: %w", len(r.Models), err)
	}
	r.models = b
	return nil
}

func lsModels(ms []ModelInfo) []*pb.ClientModelInfoProto {
	out := make([]*pb.ClientModelInfoProto, len(ms))
	for i := range ms {
		m := &ms[i]
		out[i] = &pb.ClientModelInfoProto{ModelId: &m.ModelID, RemotePath: &m.Path, InputSize: &m.InputSize, OutputSize: &m.OutputSize}
	}
	return out
}

// EvictRequest asks for a model to be evicted (not supported by Clockwork's schedulers).
type EvictRequest struct {
	RequestHeader
	ModelID uint32
}

// EvictResponse answers an EvictRequest.
type EvictResponse struct{ ResponseHeader }

// UploadModelRequest uploads a compiled model (not supported by Clockwork's schedulers).
type UploadModelRequest struct {
	RequestHeader
	BatchSize                      uint32
	SoLen, ClockworkLen, ParamsLen uint64
	Body                           []byte
}

// UploadModelResponse answers an UploadModelRequest.
type UploadModelResponse struct {
	ResponseHeader
	ModelID    uint32
	InputSize  uint64
	OutputSize uint64
}

func (r *RequestHeader) Head() *RequestHeader   { return r }
func (r *ResponseHeader) Head() *ResponseHeader { return r }

func (r *InferRequest) String() string {
	return fmt.Sprintf("Req%d:Infer model=%d b=%d input=%d", r.UserRequestID, r.ModelID, r.BatchSize, len(r.Input))
}
func (r *LoadModelRequest) String() string {
	return fmt.Sprintf("Req%d:LoadModel path=%s", r.UserRequestID, console.Safe(r.Path))
}
func (r *LSRequest) String() string { return fmt.Sprintf("Req%d:LS", r.UserRequestID) }
func (r *EvictRequest) String() string {
	return fmt.Sprintf("Req%d:Evict model=%d", r.UserRequestID, r.ModelID)
}
func (r *UploadModelRequest) String() string {
	return fmt.Sprintf("Req%d:UploadModel b=%d", r.UserRequestID, r.BatchSize)
}

func (h *ResponseHeader) errString(kind string) string {
	return fmt.Sprintf("Rsp%d:%s error %d: %s", h.UserRequestID, kind, h.Status, h.Message)
}

func (r *InferResponse) String() string {
	if r.Status != Success {
		return r.errString("Infer")
	}
	return fmt.Sprintf("Rsp%d:Infer model_id=%d b=%d output=%d", r.UserRequestID, r.ModelID, r.BatchSize, len(r.Output))
}

func (r *LoadModelResponse) String() string {
	if r.Status != Success {
		return r.errString("LoadModel")
	}
	last := int64(r.ModelID) + int64(r.CopiesCreated) - 1
	return fmt.Sprintf("Rsp%d:LoadModel model_id=[%d->%d] input=%d output=%d", r.UserRequestID, r.ModelID, last, r.InputSize, r.OutputSize)
}

func (r *LSResponse) String() string {
	if r.Status != Success {
		return r.errString("LS")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Rsp%d:LS %d models:", r.UserRequestID, len(r.Models))
	for _, m := range r.Models {
		fmt.Fprintf(&b, "\n M-%d src=%s input=%d output=%d", m.ModelID, console.Safe(m.Path), m.InputSize, m.OutputSize)
	}
	return b.String()
}

func (r *EvictResponse) String() string {
	if r.Status != Success {
		return r.errString("Evict")
	}
	return fmt.Sprintf("Rsp%d:Evict", r.UserRequestID)
}

func (r *UploadModelResponse) String() string {
	if r.Status != Success {
		return r.errString("UploadModel")
	}
	return fmt.Sprintf("Rsp%d:UploadModel model_id=%d input=%d output=%d", r.UserRequestID, r.ModelID, r.InputSize, r.OutputSize)
}

func reqHeaderPB(h *RequestHeader) *pb.RequestHeaderProto {
	return &pb.RequestHeaderProto{UserId: &h.UserID, UserRequestId: &h.UserRequestID}
}

func reqHeaderOf(p *pb.RequestHeaderProto) RequestHeader {
	return RequestHeader{UserID: p.GetUserId(), UserRequestID: p.GetUserRequestId()}
}

func rspHeaderPB(h *ResponseHeader) *pb.ResponseHeaderProto {
	return &pb.ResponseHeaderProto{UserRequestId: &h.UserRequestID, Status: &h.Status, Message: &h.Message}
}

func rspHeaderOf(p *pb.ResponseHeaderProto) ResponseHeader {
	return ResponseHeader{UserRequestID: p.GetUserRequestId(), Status: p.GetStatus(), Message: p.GetMessage()}
}

func frame(typ, id uint64, m proto.Message, body []byte) (*wire.Message, error) {
	msg := &wire.Message{Type: typ, ID: id, Body: body}
	h, err := proto.MarshalOptions{}.MarshalAppend(msg.HeaderBuffer(), m)
	if err != nil {
		return nil, err
	}
	msg.Header = h
	return msg, nil
}

func unmarshal(msg *wire.Message, m proto.Message) error {
	if err := proto.Unmarshal(msg.Header, m); err != nil {
		return fmt.Errorf("clientapi: bad header for message type %d: %w", msg.Type, err)
	}
	return nil
}

// EncodeRequest frames a request with RPC id.
func EncodeRequest(r Request, id uint64) (*wire.Message, error) {
	switch r := r.(type) {
	case *InferRequest:
		return frame(MsgInfer, id, &pb.ModelInferenceReqProto{Header: reqHeaderPB(&r.RequestHeader),
			ModelId: &r.ModelID, BatchSize: &r.BatchSize, SloFactor: &r.SLOFactor}, r.Input)
	case *LoadModelRequest:
		return frame(MsgLoadRemoteModel, id, &pb.LoadModelFromDiskReqProto{Header: reqHeaderPB(&r.RequestHeader),
			RemotePath: &r.Path, NoOfCopies: &r.Copies}, nil)
	case *LSRequest:
		return frame(MsgLS, id, &pb.LSReqProto{Header: reqHeaderPB(&r.RequestHeader)}, nil)
	case *EvictRequest:
		return frame(MsgEvict, id, &pb.EvictReqProto{Header: reqHeaderPB(&r.RequestHeader), ModelId: &r.ModelID}, nil)
	case *UploadModelRequest:
		return frame(MsgUploadModel, id, &pb.ModelUploadReqProto{Header: reqHeaderPB(&r.RequestHeader),
			Batchsize: &r.BatchSize, SoLen: &r.SoLen, ClockworkLen: &r.ClockworkLen, ParamsLen: &r.ParamsLen}, r.Body)
	}
	return nil, fmt.Errorf("clientapi: cannot encode request %T", r)
}

// DecodeRequest parses a received request.
func DecodeRequest(msg *wire.Message) (Request, error) {
	switch msg.Type {
	case MsgInfer:
		var p pb.ModelInferenceReqProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &InferRequest{RequestHeader: reqHeaderOf(p.GetHeader()), ModelID: p.GetModelId(),
			BatchSize: p.GetBatchSize(), SLOFactor: p.GetSloFactor(), Input: msg.Body}, nil
	case MsgLoadRemoteModel:
		var p pb.LoadModelFromDiskReqProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &LoadModelRequest{RequestHeader: reqHeaderOf(p.GetHeader()), Path: p.GetRemotePath(), Copies: p.GetNoOfCopies()}, nil
	case MsgLS:
		var p pb.LSReqProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &LSRequest{RequestHeader: reqHeaderOf(p.GetHeader())}, nil
	case MsgEvict:
		var p pb.EvictReqProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &EvictRequest{RequestHeader: reqHeaderOf(p.GetHeader()), ModelID: p.GetModelId()}, nil
	case MsgUploadModel:
		var p pb.ModelUploadReqProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &UploadModelRequest{RequestHeader: reqHeaderOf(p.GetHeader()), BatchSize: p.GetBatchsize(),
			SoLen: p.GetSoLen(), ClockworkLen: p.GetClockworkLen(), ParamsLen: p.GetParamsLen(), Body: msg.Body}, nil
	}
	return nil, fmt.Errorf("clientapi: unknown request message type %d", msg.Type)
}

// EncodeResponse frames a response to the request with RPC id.
func EncodeResponse(r Response, id uint64) (*wire.Message, error) {
	switch r := r.(type) {
	case *InferResponse:
		return frame(MsgInferRsp, id, &pb.ModelInferenceRspProto{Header: rspHeaderPB(&r.ResponseHeader),
			ModelId: &r.ModelID, BatchSize: &r.BatchSize}, r.Output)
	case *LoadModelResponse:
		return frame(MsgLoadRemoteModelRsp, id, &pb.LoadModelFromDiskRspProto{Header: rspHeaderPB(&r.ResponseHeader),
			ModelId: &r.ModelID, InputSize: &r.InputSize, OutputSize: &r.OutputSize, CopiesCreated: &r.CopiesCreated}, nil)
	case *LSResponse:
		p := &pb.LSRspProto{Header: rspHeaderPB(&r.ResponseHeader)}
		if r.models == nil {
			p.Models = lsModels(r.Models)
			return frame(MsgLSRsp, id, p, nil)
		}
		msg, err := frame(MsgLSRsp, id, p, nil)
		if err != nil {
			return nil, err
		}
		// Encodings concatenated are one message, repeated fields
		// appended.
		msg.Header = append(msg.Header[:len(msg.Header):len(msg.Header)], r.models...)
		return msg, nil
	case *EvictResponse:
		return frame(MsgEvictRsp, id, &pb.EvictRspProto{Header: rspHeaderPB(&r.ResponseHeader)}, nil)
	case *UploadModelResponse:
		return frame(MsgUploadModelRsp, id, &pb.ModelUploadRspProto{Header: rspHeaderPB(&r.ResponseHeader),
			ModelId: &r.ModelID, InputSize: &r.InputSize, OutputSize: &r.OutputSize}, nil)
	}
	return nil, fmt.Errorf("clientapi: cannot encode response %T", r)
}

// DecodeResponse parses a received response.
func DecodeResponse(msg *wire.Message) (Response, error) {
	switch msg.Type {
	case MsgInferRsp:
		var p pb.ModelInferenceRspProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &InferResponse{ResponseHeader: rspHeaderOf(p.GetHeader()), ModelID: p.GetModelId(),
			BatchSize: p.GetBatchSize(), Output: msg.Body}, nil
	case MsgLoadRemoteModelRsp:
		var p pb.LoadModelFromDiskRspProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &LoadModelResponse{ResponseHeader: rspHeaderOf(p.GetHeader()), ModelID: p.GetModelId(),
			InputSize: p.GetInputSize(), OutputSize: p.GetOutputSize(), CopiesCreated: p.GetCopiesCreated()}, nil
	case MsgLSRsp:
		var p pb.LSRspProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		r := &LSResponse{ResponseHeader: rspHeaderOf(p.GetHeader())}
		for _, m := range p.GetModels() {
			r.Models = append(r.Models, ModelInfo{ModelID: m.GetModelId(), Path: m.GetRemotePath(),
				InputSize: m.GetInputSize(), OutputSize: m.GetOutputSize()})
		}
		return r, nil
	case MsgEvictRsp:
		var p pb.EvictRspProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &EvictResponse{ResponseHeader: rspHeaderOf(p.GetHeader())}, nil
	case MsgUploadModelRsp:
		var p pb.ModelUploadRspProto
		if err := unmarshal(msg, &p); err != nil {
			return nil, err
		}
		return &UploadModelResponse{ResponseHeader: rspHeaderOf(p.GetHeader()), ModelID: p.GetModelId(),
			InputSize: p.GetInputSize(), OutputSize: p.GetOutputSize()}, nil
	}
	return nil, fmt.Errorf("clientapi: unknown response message type %d", msg.Type)
}
