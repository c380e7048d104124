package clientapi

import (
	"reflect"
	"testing"

	"github.com/clockwork-go/clockwork/internal/wire"
)

func TestRoundTrip(t *testing.T) {
	h := RequestHeader{UserID: 3, UserRequestID: 9}
	rh := ResponseHeader{UserRequestID: 9, Status: 5, Message: MessageControllerInitializing}
	for _, r := range []Request{
		&InferRequest{RequestHeader: h, ModelID: 2, BatchSize: 1, SLOFactor: 2.5, Input: []byte("in")},
		&LoadModelRequest{RequestHeader: h, Path: "/z/m/model", Copies: 4},
		&LSRequest{RequestHeader: h},
		&EvictRequest{RequestHeader: h, ModelID: 1},
		&UploadModelRequest{RequestHeader: h, BatchSize: 1, SoLen: 1, ClockworkLen: 2, ParamsLen: 3, Body: []byte("abcdef")},
	} {
		msg, err := EncodeRequest(r, 77)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeRequest(&wire.Message{Type: msg.Type, ID: msg.ID, Header: msg.Header, Body: msg.Body})
		if err != nil || msg.ID != 77 || !reflect.DeepEqual(got, r) {
			t.Errorf("request round trip: %+v, %v", got, err)
		}
	}
	for _, r := range []Response{
		&InferResponse{ResponseHeader: rh, ModelID: 2, BatchSize: 1, Output: []byte("out")},
		&LoadModelResponse{ResponseHeader: rh, ModelID: 4, InputSize: 5, OutputSize: 6, CopiesCreated: 2},
		&LSResponse{ResponseHeader: rh, Models: []ModelInfo{{ModelID: 1, Path: "/p", InputSize: 2, OutputSize: 3}}},
		&EvictResponse{ResponseHeader: rh},
		&UploadModelResponse{ResponseHeader: rh, ModelID: 1, InputSize: 2, OutputSize: 3},
	} {
		msg, err := EncodeResponse(r, 5)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeResponse(&wire.Message{Type: msg.Type, ID: msg.ID, Header: msg.Header, Body: msg.Body})
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("response round trip: %+v, %v", got, err)
		}
	}
	// A frozen LS response encodes as the same response, each copy with
	// its own header.
	ls := &LSResponse{Models: []ModelInfo{{ModelID: 1, Path: "/p", InputSize: 2, OutputSize: 3}, {ModelID: 7, Path: "/q", InputSize: 4, OutputSize: 5}}}
	if err := ls.Freeze(); err != nil {
		t.Fatal(err)
	}
	for _, uid := range []int32{3, 9} {
		r := *ls
		r.ResponseHeader = ResponseHeader{UserRequestID: uid, Status: 1, Message: "m"}
		msg, err := EncodeResponse(&r, 5)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeResponse(&wire.Message{Type: msg.Type, ID: msg.ID, Header: msg.Header, Body: msg.Body})
		if want := (&LSResponse{ResponseHeader: r.ResponseHeader, Models: ls.Models}); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("frozen LS response round trip: %+v, %v; want %+v", got, err, want)
		}
	}
	if _, err := DecodeRequest(&wire.Message{Type: 42}); err == nil {
		t.Error("unknown request type accepted")
	}
	if _, err := DecodeRequest(&wire.Message{Type: MsgInfer, Header: []byte{0x0a}}); err == nil {
		t.Error("truncated header accepted")
	}
}

func TestRenderings(t *testing.T) {
	ok := ResponseHeader{UserRequestID: 0}
	for _, tc := range []struct{ got, want string }{
		{(&LoadModelRequest{RequestHeader: RequestHeader{UserRequestID: 0}, Path: "/z/m/model"}).String(), "Req0:LoadModel path=/z/m/model"},
		{(&LSRequest{RequestHeader: RequestHeader{UserRequestID: 1}}).String(), "Req1:LS"},
		{(&LoadModelResponse{ResponseHeader: ok, ModelID: 0, CopiesCreated: 2, InputSize: 602112, OutputSize: 4000}).String(),
			"Rsp0:LoadModel model_id=[0->1] input=602112 output=4000"},
		{(&LSResponse{ResponseHeader: ResponseHeader{UserRequestID: 1, Status: 5, Message: "Controller initializing"}}).String(),
			"Rsp1:LS error 5: Controller initializing"},
		{(&InferResponse{ResponseHeader: ok, ModelID: 3, BatchSize: 1, Output: make([]byte, 4000)}).String(), "Rsp0:Infer model_id=3 b=1 output=4000"},
	} {
		if tc.got != tc.want {
			t.Errorf("got  %q\nwant %q", tc.got, tc.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	msg, _ := EncodeRequest(&InferRequest{ModelID: 1, BatchSize: 1}, 1)
	f.Add(uint64(MsgInfer), msg.Header)
	f.Fuzz(func(t *testing.T, typ uint64, header []byte) {
		m := &wire.Message{Type: typ % 110, Header: header}
		DecodeRequest(m)
		DecodeResponse(m)
	})
}
