package controller

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/pierrec/lz4/v4"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// directRig drives a DIRECT controller in virtual time: sent holds what
// it sent to worker 0, replies what it answered, in order.
type directRig struct {
	t       *testing.T
	d       *direct
	out     bytes.Buffer
	sent    []workerapi.Action
	replies []clientapi.Response
}

func newDirectRig(t *testing.T) *directRig {
	r := &directRig{t: t}
	r.d = newDirect(&r.out, func(w int, a workerapi.Action) {
		if w != 0 {
			t.Fatalf("sent %s to worker %d", a.Describe(0), w)
		}
		r.sent = append(r.sent, a)
	}, 1, 250e6)
	return r
}

func (r *directRig) ask(now int64, req clientapi.Request) {
	r.d.request(now, req, func(rsp clientapi.Response) { r.replies = append(r.replies, rsp) })
}

// took returns the actions sent since n were, checking their types.
func (r *directRig) took(n int, types ...workerapi.ActionType) []workerapi.Action {
	r.t.Helper()
	got := r.sent[n:]
	if len(got) != len(types) {
		r.t.Fatalf("sent %d actions, want %v: %v", len(got), types, got)
	}
	for i, a := range got {
		if a.Type() != types[i] {
			r.t.Fatalf("action %d is %s, want %s", i, a.Type(), types[i])
		}
	}
	return got
}

func (r *directRig) answer(now int64, res workerapi.Result) {
	r.t.Helper()
	if err := r.d.result(now, 0, res); err != nil {
		r.t.Fatal(err)
	}
}

func (r *directRig) last() clientapi.Response { return r.replies[len(r.replies)-1] }

// infer is an Infer request for model with input, which is LZ4-compressed
// unless empty: an item of testInputSize bytes, all input[0].
func infer(id int32, model uint32, input string) *clientapi.InferRequest {
	return &clientapi.InferRequest{RequestHeader: clientapi.RequestHeader{UserRequestID: id}, ModelID: model, BatchSize: 1,
		Input: lz4Item(input)}
}

// testInputSize is the input size of twoGPUs' models.
const testInputSize = 64

// lz4Item is an LZ4 block of testInputSize bytes of s[0], or nothing.
func lz4Item(s string) []byte {
	if s == "" {
		return nil
	}
	item := bytes.Repeat([]byte{s[0]}, testInputSize)
	out := make([]byte, lz4.CompressBlockBound(len(item)))
	n, err := lz4.CompressBlock(item, out, nil)
	if err != nil || n == 0 {
		panic(fmt.Sprintf("compressing: %d, %v", n, err))
	}
	return out[:n]
}

// twoGPUs is worker 0's state: two GPUs, model 3 loaded (inputs of
// testInputSize bytes), its weights on GPU 0.
func twoGPUs() *workerapi.GetWorkerStateResult {
	st := state(100, 3)
	for i := range st.Memory.Models {
		st.Memory.Models[i].InputSize = testInputSize
	}
	st.Memory.GPUs = append(st.Memory.GPUs, workerapi.GPUInfo{ID: 1, WeightsCacheSize: 100 << 24, WeightsCacheTotalPages: 100})
	st.Memory.GPUs[0].Models = []uint32{3}
	return st
}

func TestDirectForwardsInfersToWorker0(t *testing.T) {
	r := newDirectRig(t)
	r.d.begin(0)
	getState := r.took(0, workerapi.GetWorkerStateType)[0]

	// Held until worker 0 has said what it holds.
	r.ask(sec, infer(4, 3, "even"))
	r.ask(sec, infer(5, 3, "odd"))
	if len(r.sent) != 1 || len(r.replies) != 0 {
		t.Fatalf("acted before the worker's state: %v %v", r.sent, r.replies)
	}
	st := twoGPUs()
	st.ID = getState.ActionID()
	st.Memory.Models = append(st.Memory.Models, workerapi.ModelInfo{ID: 9, InputSize: testInputSize}) // on no GPU
	r.answer(2*sec, st)

	// Request 4 (even) goes to GPU 1, where model 3's weights must be
	// loaded first: its Infer waits for the load. Request 5 (odd) goes to
	// GPU 0, which holds them.
	a := r.took(1, workerapi.LoadWeightsType, workerapi.InferType)
	lw, in5 := a[0].(*workerapi.LoadWeights), a[1].(*workerapi.Infer)
	if lw.GPU != 1 || lw.ModelID != 3 || lw.Earliest != uint64(2*sec) || lw.Latest != uint64(12*sec) {
		t.Errorf("load %+v", lw)
	}
	if in5.GPU != 0 || in5.Earliest != uint64(2*sec) || in5.Latest != uint64(12*sec) || in5.BatchSize != 1 ||
		!bytes.Equal(in5.Input, lz4Item("odd")) || len(in5.InputSizes) != 1 || int(in5.InputSizes[0]) != len(in5.Input) {
		t.Errorf("infer of request 5 %+v", in5)
	}
	r.answer(3*sec, &workerapi.LoadWeightsResult{ID: lw.ID})
	in4 := r.took(3, workerapi.InferType)[0].(*workerapi.Infer)
	if in4.GPU != 1 || in4.Earliest != uint64(3*sec) || in4.Latest != uint64(13*sec) || !bytes.Equal(in4.Input, lz4Item("even")) {
		t.Errorf("infer of request 4 %+v", in4)
	}

	// Answers go back to the clients who asked, in the order they come.
	r.answer(4*sec, &workerapi.InferResult{ID: in5.ID, Output: []byte("out5")})
	r.answer(4*sec, &workerapi.ErrorResult{ID: in4.ID, ActionType: workerapi.InferType, Code: 84, Message: "evicted meanwhile"})
	if len(r.replies) != 2 {
		t.Fatalf("%d replies", len(r.replies))
	}
	ok, bad := r.replies[0].(*clientapi.InferResponse), r.replies[1].(*clientapi.InferResponse)
	if ok.UserRequestID != 5 || ok.Status != 0 || string(ok.Output) != "out5" || ok.ModelID != 3 || ok.BatchSize != 1 {
		t.Errorf("success %+v", ok)
	}
	if bad.UserRequestID != 4 || bad.Status != clientapi.StatusError || bad.Message != "evicted meanwhile" {
		t.Errorf("failure %+v", bad)
	}

	// Loaded once, the weights are not loaded again.
	n := len(r.sent)
	r.ask(5*sec, infer(6, 3, ""))
	if in := r.took(n, workerapi.InferType)[0].(*workerapi.Infer); len(in.Input) != 0 || len(in.InputSizes) != 1 || in.InputSizes[0] != 0 {
		t.Errorf("an empty input goes as one empty item: %+v", in)
	}
	// Infers wait for a load in flight; a failed load fails them, and
	// the next Infer loads again.
	r.ask(5*sec, infer(7, 9, ""))
	r.ask(5*sec, infer(9, 9, ""))
	lw9 := r.took(n+1, workerapi.LoadWeightsType)[0]
	r.answer(6*sec, &workerapi.ErrorResult{ID: lw9.ActionID(), ActionType: workerapi.LoadWeightsType, Code: 52, Message: "no model 9"})
	for _, rsp := range r.replies[2:] {
		if h := rsp.Head(); h.Status != clientapi.StatusError || h.Message != "no model 9" {
			t.Errorf("waiting on a failed load: %s", rsp)
		}
	}
	if len(r.replies) != 4 {
		t.Errorf("%d replies, want 4", len(r.replies))
	}
	r.ask(7*sec, infer(11, 9, ""))
	r.took(n+2, workerapi.LoadWeightsType)

	for _, want := range []string{
		fmt.Sprintf("Client  -> Req4:Infer model=3 b=1 input=%d\n", len(lz4Item("even"))),
		"Worker <-  A1:LoadWeights model=3 gpu=1 [0.0, 10000.0]\n",
		fmt.Sprintf("Worker <-  A2:Infer model=3 gpu=0 batch=1 input=%d [0.0, 10000.0]\n", len(lz4Item("odd"))),
		"Worker  -> R1:LoadWeights",
		"Client <-  Rsp5:Infer model_id=3 b=1 output=4\n",
		"Client <-  Rsp4:Infer error 1: evicted meanwhile\n",
	} {
		wantOutput(t, r.out.String(), want)
	}
}

// TestDirectChecksRequests: an Infer for a model worker 0 does not hold
// is answered 1 and one whose input does not decompress to the model's
// input size 6, as the schedulers answer them, without a word to the
// worker (the original sent them on: an id past 2^31 as model -1, and any
// input, which worker_dummy answered with success); what DIRECT does not
// do is named in its answer.
func TestDirectChecksRequests(t *testing.T) {
	r := newDirectRig(t)
	r.d.begin(0)
	r.answer(0, twoGPUs())
	n := len(r.sent)
	for _, c := range []struct {
		req    clientapi.Request
		status int32
		msg    string
	}{
		{infer(1, 1<<31, "x"), clientapi.StatusError, "Invalid model ID"},
		{&clientapi.InferRequest{ModelID: 3, BatchSize: 1, Input: []byte("garbage, not LZ4")}, clientapi.StatusInvalidRequest, "does not decompress"},
		{&clientapi.InferRequest{ModelID: 3, BatchSize: 1, Input: lz4Item("x")[:3]}, clientapi.StatusInvalidRequest, "does not decompress"},
		{&clientapi.EvictRequest{ModelID: 3}, clientapi.StatusInvalidRequest, "Evict is not supported by the DIRECT controller"},
	} {
		r.ask(sec, c.req)
		if h := r.last().Head(); h.Status != c.status || !strings.Contains(h.Message, c.msg) {
			t.Errorf("%s: answered %s, want status %d saying %q", c.req, r.last(), c.status, c.msg)
		}
	}
	if len(r.sent) != n {
		t.Errorf("sent %v", r.sent[n:])
	}
}

// TestDirectGPUs: requests alternate between GPUs as the original's did
// on its two (GPU 1 for even ids), and spread over any other number.
func TestDirectGPUs(t *testing.T) {
	for _, tc := range []struct {
		gpus int
		ids  []int32
		want []uint32
	}{
		{1, []int32{0, 1, -1}, []uint32{0, 0, 0}},
		{2, []int32{0, 1, 2, -1, -2}, []uint32{1, 0, 1, 0, 1}},
		{3, []int32{0, 1, 2, 3, -2}, []uint32{1, 2, 0, 1, 2}},
	} {
		r := newDirectRig(t)
		r.d.begin(0)
		st := &workerapi.GetWorkerStateResult{ID: 0}
		st.Memory.Models = []workerapi.ModelInfo{{ID: 0}}
		for g := range tc.gpus {
			st.Memory.GPUs = append(st.Memory.GPUs, workerapi.GPUInfo{ID: int32(g), Models: []uint32{0}})
		}
		r.answer(0, st)
		for i, id := range tc.ids {
			r.ask(sec, infer(id, 0, ""))
			if in := r.sent[len(r.sent)-1].(*workerapi.Infer); in.GPU != tc.want[i] {
				t.Errorf("%d GPUs: request %d went to GPU %d, want %d", tc.gpus, id, in.GPU, tc.want[i])
			}
		}
	}
}

func TestDirectLoadsAndLists(t *testing.T) {
	r := newDirectRig(t)
	r.d.begin(0)
	st := twoGPUs()
	r.answer(0, st)

	// New model ids follow those worker 0 holds.
	r.ask(sec, &clientapi.LoadModelRequest{RequestHeader: clientapi.RequestHeader{UserRequestID: 1}, Path: "/z/a/model", Copies: 2})
	load := r.took(1, workerapi.LoadModelFromDiskType)[0].(*workerapi.LoadModelFromDisk)
	if load.ModelID != 4 || load.Copies != 2 || load.Path != "/z/a/model" || load.MaxBatchSize != 1 || load.Latest != workerapi.NoLatest {
		t.Fatalf("load %+v", load)
	}
	r.answer(2*sec, loadOK(load.ID, 2))
	if rsp := r.last().(*clientapi.LoadModelResponse); rsp.Status != 0 || rsp.ModelID != 4 || rsp.CopiesCreated != 2 || rsp.InputSize != 100 {
		t.Fatalf("load response %+v", rsp)
	}
	// A failed load gives its ids back (the original used them up).
	r.ask(3*sec, &clientapi.LoadModelRequest{Path: "/nope", Copies: 1})
	bad := r.took(2, workerapi.LoadModelFromDiskType)[0].(*workerapi.LoadModelFromDisk)
	r.answer(3*sec, &workerapi.ErrorResult{ID: bad.ID, ActionType: workerapi.LoadModelFromDiskType, Code: 51, Message: "no such file"})
	if rsp := r.last().(*clientapi.LoadModelResponse); rsp.Status != clientapi.StatusError || rsp.Message != "no such file" {
		t.Fatalf("failed load %+v", rsp)
	}
	r.ask(4*sec, &clientapi.LoadModelRequest{Path: "/z/b/model", Copies: 1})
	if next := r.took(3, workerapi.LoadModelFromDiskType)[0].(*workerapi.LoadModelFromDisk); next.ModelID != 6 {
		t.Errorf("next load got id %d, want 6", next.ModelID)
	}

	r.ask(5*sec, &clientapi.LSRequest{})
	ls := r.last().(*clientapi.LSResponse)
	var ids []uint32
	for _, m := range ls.Models {
		ids = append(ids, m.ModelID)
	}
	if ls.Status != 0 || len(ids) != 3 || ids[0] != 3 || ids[1] != 4 || ids[2] != 5 || ls.Models[1].Path != "/z/a/model" {
		t.Errorf("LS %+v", ls)
	}

	// What DIRECT cannot do is refused, never answered with a false success.
	for _, req := range []clientapi.Request{
		&clientapi.LoadModelRequest{Path: "/p", Copies: 0},
		&clientapi.LoadModelRequest{Path: "/p", Copies: math.MaxInt32 - 6},
		&clientapi.EvictRequest{ModelID: 3},
		&clientapi.UploadModelRequest{},
	} {
		n := len(r.sent)
		r.ask(6*sec, req)
		if len(r.sent) != n || r.last().Head().Status != clientapi.StatusInvalidRequest {
			t.Errorf("%s: sent %v, answered %s", req, r.sent[n:], r.last())
		}
	}
}

// TestDirectFailedLoadGivesIDsBack: a failed load of every id left gives
// them back, so that later loads still get ids (the original used them up,
// and past 65,536 every later load failed at the worker); a load of more
// ids than are left is refused with 6.
func TestDirectFailedLoadGivesIDsBack(t *testing.T) {
	r := newDirectRig(t)
	r.d.begin(0)
	r.answer(0, twoGPUs()) // worker 0 holds ids up to 3
	r.ask(sec, &clientapi.LoadModelRequest{Path: "/p", Copies: workerapi.MaxModels - 3})
	if len(r.sent) != 1 || r.last().Head().Status != clientapi.StatusInvalidRequest {
		t.Fatalf("a load of more ids than are left: sent %v, answered %s", r.sent[1:], r.last())
	}
	r.ask(sec, &clientapi.LoadModelRequest{Path: "/typo", Copies: workerapi.MaxModels - 4})
	bad := r.took(1, workerapi.LoadModelFromDiskType)[0]
	r.answer(sec, &workerapi.ErrorResult{ID: bad.ActionID(), ActionType: workerapi.LoadModelFromDiskType, Code: 12, Message: "too many"})
	r.ask(2*sec, &clientapi.LoadModelRequest{Path: "/z/a/model", Copies: 40})
	if next := r.took(2, workerapi.LoadModelFromDiskType)[0].(*workerapi.LoadModelFromDisk); next.ModelID != 4 {
		t.Errorf("next load got id %d, want 4", next.ModelID)
	}
}

// TestDirectWorkerLost: what worker 0 was asked fails when it is lost,
// requests meanwhile are refused, and once it is back DIRECT starts over
// with its state.
func TestDirectWorkerLost(t *testing.T) {
	r := newDirectRig(t)
	r.d.begin(0)
	r.answer(0, twoGPUs())
	r.ask(sec, infer(1, 3, ""))
	r.ask(sec, &clientapi.LoadModelRequest{Path: "/p", Copies: 1})
	lost := errors.New("closed by worker")
	r.d.lost(2*sec, 0, lost)
	if len(r.replies) != 2 {
		t.Fatalf("%d replies to the 2 requests in flight", len(r.replies))
	}
	for _, rsp := range r.replies {
		if h := rsp.Head(); h.Status != clientapi.StatusError || !strings.Contains(h.Message, "worker connection lost") {
			t.Errorf("in flight: %s", rsp)
		}
	}
	n := len(r.sent)
	r.ask(3*sec, infer(2, 3, ""))
	if len(r.sent) != n || r.last().Head().Status != clientapi.StatusError || !strings.Contains(r.last().Head().Message, "worker 0 is lost") {
		t.Errorf("while lost: sent %v, answered %s", r.sent[n:], r.last())
	}

	r.d.back(4*sec, 0)
	st := r.took(n, workerapi.GetWorkerStateType)[0]
	r.ask(4*sec, infer(3, 3, ""))
	if len(r.sent) != n+1 {
		t.Fatal("request not held for the returned worker's state")
	}
	fresh := &workerapi.GetWorkerStateResult{ID: st.ActionID()}
	fresh.Memory.GPUs = []workerapi.GPUInfo{{ID: 0}}
	fresh.Memory.Models = []workerapi.ModelInfo{{ID: 3, InputSize: testInputSize}}
	r.answer(5*sec, fresh)
	// Another process, which has the model: nothing is resident, so the
	// weights are loaded.
	r.took(n+1, workerapi.LoadWeightsType)

	// Results of actions nobody sent are logged and dropped.
	r.answer(6*sec, &workerapi.InferResult{ID: 999})
	if !strings.Contains(r.out.String(), "Ignoring result for unknown action from worker 0: R999:Infer") {
		t.Errorf("unknown result not reported:\n%s", r.out.String())
	}
}

// TestDirectGivesUpOnSilentWorker: a worker 0 that owes its state 30 s has
// its connection closed; once the loss comes through, the requests held
// for its state are answered, where they were held for ever.
func TestDirectGivesUpOnSilentWorker(t *testing.T) {
	r := newDirectRig(t)
	refused := 0
	r.d.refuse = func() { refused++ }
	r.d.begin(0)
	r.ask(sec, infer(1, 3, ""))
	if w := r.d.tick(stateSilence - 1); w != stateSilence || refused != 0 {
		t.Fatalf("wake %d, refused %d times before the silence was over", w, refused)
	}
	if w := r.d.tick(stateSilence); w != 0 || refused != 1 {
		t.Fatalf("wake %d, refused %d times at the end of the silence", w, refused)
	}
	r.d.tick(stateSilence + sec)
	if refused != 1 || !strings.Contains(r.out.String(), "DIRECT: worker 0 has not answered its state for 30 s") {
		t.Fatalf("refused %d times; output:\n%s", refused, r.out.String())
	}
	r.d.lost(stateSilence+sec, 0, errors.New("closed"))
	if len(r.replies) != 1 || r.last().Head().Status != clientapi.StatusError {
		t.Fatalf("replies %v", r.replies)
	}
	// Dialled again, it owes its state anew.
	r.d.back(stateSilence+2*sec, 0)
	if w := r.d.tick(stateSilence + 2*sec); w != 2*stateSilence+2*sec {
		t.Errorf("wake %d after the worker came back", w)
	}
}
