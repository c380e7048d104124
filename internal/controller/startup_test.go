package controller

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/scheduler/infer5"
	"github.com/clockwork-go/clockwork/internal/scheduler/schedtest"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

const sec = int64(1e9)

// startupRig drives a startup with two workers in virtual time.
type startupRig struct {
	t       *testing.T
	s       *startup
	out     bytes.Buffer
	sent    [][]workerapi.Action // per worker
	replies []clientapi.Response
}

func newRig(t *testing.T) *startupRig {
	r := &startupRig{t: t, sent: make([][]workerapi.Action, 2)}
	r.s = newStartup(&r.out, 2, 8, 250e6, func(w int, a workerapi.Action) { r.sent[w] = append(r.sent[w], a) })
	return r
}

func (r *startupRig) reply() reply {
	return func(rsp clientapi.Response) { r.replies = append(r.replies, rsp) }
}

func state(pages int32, models ...int32) *workerapi.GetWorkerStateResult {
	m := workerapi.WorkerMemoryInfo{PageSize: 16 << 20, GPUs: []workerapi.GPUInfo{{ID: 0, WeightsCacheSize: uint64(pages) << 24, WeightsCacheTotalPages: pages}}}
	for _, id := range models {
		m.Models = append(m.Models, workerapi.ModelInfo{ID: id, Source: "/old", BatchSizes: []uint32{1}, ExecTimes: []uint64{1e6}, NumWeightsPages: 1})
	}
	return &workerapi.GetWorkerStateResult{Memory: m}
}

func loadOK(id int32, copies int32) *workerapi.LoadModelFromDiskResult {
	return &workerapi.LoadModelFromDiskResult{ID: id, InputSize: 100, OutputSize: 10, BatchSizes: []uint32{1, 2}, ExecTimes: []uint64{1e6, 2e6},
		WeightsSizeInCache: 16 << 20, NumWeightsPages: 1, WeightsLoadTime: 5e6, CopiesCreated: copies}
}

// loadingRig is a rig whose two workers have answered their state (10
// pages each, no models): the load stage has begun.
func loadingRig(t *testing.T) *startupRig {
	r := newRig(t)
	r.s.begin(0)
	w1 := state(10)
	w1.ID = 1
	r.s.result(0, 0, state(10))
	r.s.result(0, 1, w1)
	return r
}

func TestStartupPhases(t *testing.T) {
	r := newRig(t)
	r.s.begin(0)
	if len(r.sent[0]) != 1 || len(r.sent[1]) != 1 {
		t.Fatal("GetWorkerState not sent to every worker")
	}
	// Requests before the state is known: LS is held, LoadModel queued.
	r.s.request(1*sec, &clientapi.LSRequest{RequestHeader: clientapi.RequestHeader{UserRequestID: 7}}, r.reply())
	r.s.request(1*sec, &clientapi.LoadModelRequest{Path: "/z/a/model", Copies: 2}, r.reply())
	w0 := state(100, 3)
	w0.ID = 0
	w1 := state(100, 3)
	w1.ID = 1
	r.s.result(2*sec, 0, w0)
	if len(r.sent[0]) != 1 {
		t.Fatal("load forwarded before every worker answered")
	}
	r.s.result(2*sec, 1, w1)
	// The queued load goes to both workers with ids after the existing model 3.
	for w := 0; w < 2; w++ {
		a, ok := r.sent[w][1].(*workerapi.LoadModelFromDisk)
		if !ok || a.ModelID != 4 || a.Copies != 2 || a.MaxBatchSize != 8 || a.Latest != workerapi.NoLatest {
			t.Fatalf("worker %d got %+v", w, r.sent[w][1])
		}
	}
	if r.s.tick(10 * sec) {
		t.Fatal("load stage ended with loads outstanding")
	}
	r.s.result(3*sec, 0, loadOK(0, 2))
	r.s.result(3*sec, 1, loadOK(1, 2))
	rsp := r.replies[len(r.replies)-1].(*clientapi.LoadModelResponse)
	if rsp.Status != 0 || rsp.ModelID != 4 || rsp.CopiesCreated != 2 {
		t.Fatalf("load response %+v", rsp)
	}
	// The held LS is bounced 12 s after it arrived.
	if r.s.tick(3*sec + 6*sec/10) {
		t.Fatal("ended before the idle timeout")
	}
	if !r.s.tick(4*sec + 1) {
		t.Fatal("load stage did not end after 1 s idle")
	}
	st := r.s.finish()
	if len(st.Workers) != 2 || len(st.Workers[1].Models) != 3 || st.Workers[1].Models[2].ID != 5 {
		t.Fatalf("state %+v", st)
	}
	ls := r.replies[len(r.replies)-1].(*clientapi.LSResponse)
	if ls.Status != clientapi.StatusInitializing || ls.UserRequestID != 7 || ls.Message != "Controller initializing" {
		t.Fatalf("bounced LS %+v", ls)
	}
	for _, want := range []string{
		"(Startup-2) Querying current worker state",
		"Worker 1 1 GPUs 1 models",
		"(Startup-3) Awaiting LoadModel requests from clients",
		"(Startup-4) LoadModelStage has begun",
		"Client <--  Rsp0:LoadModel model_id=[4->5] input=100 output=10",
		"(Startup-5) LoadModelStage ending in 0 seconds...\r",
		"(Startup-6) LoadModelStage complete.",
		"M-5 src=/z/a/model input=100 output=10 weights=16.0 MB (1 pages) xfer=5.0 b1=1.0 b2=2.0",
		"(Startup-end) Transitioning to scheduler",
		"Client <--  Rsp7:LS error 5: Controller initializing",
	} {
		wantOutput(t, r.out.String(), want)
	}
}

// wantOutput fails the test unless out contains want.
func wantOutput(t *testing.T, out, want string) {
	t.Helper()
	if !strings.Contains(out, want) {
		t.Errorf("output lacks %q\n%s", want, out)
	}
}

func TestStartupBouncesAfter12s(t *testing.T) {
	r := newRig(t)
	r.s.begin(0)
	r.s.request(0, &clientapi.InferRequest{ModelID: 1, BatchSize: 1}, r.reply())
	if w := r.s.wake(); w != 12*sec {
		t.Fatalf("wake %d", w)
	}
	r.s.tick(12*sec - 1)
	if len(r.replies) != 0 {
		t.Fatal("bounced early")
	}
	r.s.tick(12 * sec)
	if rsp := r.replies[0].(*clientapi.InferResponse); rsp.Status != 5 || rsp.ModelID != 1 {
		t.Fatalf("bounce %+v", rsp)
	}
}

// TestStartupRefusesWeightsRequests: Evict and UploadModel, which the
// controller never serves, are answered 6 at once during the startup
// too, not held 12 s and bounced with 5 (retry later).
func TestStartupRefusesWeightsRequests(t *testing.T) {
	r := newRig(t)
	r.s.begin(0)
	r.s.request(0, &clientapi.EvictRequest{ModelID: 1}, r.reply())
	r.s.request(0, &clientapi.UploadModelRequest{}, r.reply())
	if len(r.replies) != 2 || len(r.s.held) != 0 {
		t.Fatalf("%d answers, %d held", len(r.replies), len(r.s.held))
	}
	if rsp := r.replies[0].(*clientapi.EvictResponse); rsp.Status != clientapi.StatusInvalidRequest ||
		rsp.Message != "Evict is not supported by this controller: the scheduler manages weights" {
		t.Errorf("Evict: %+v", rsp)
	}
	if rsp := r.replies[1].(*clientapi.UploadModelResponse); rsp.Status != clientapi.StatusInvalidRequest {
		t.Errorf("UploadModel: %+v", rsp)
	}
}

func TestStartupLoadFailures(t *testing.T) {
	r := loadingRig(t)
	// Mixed success and failure is an error answer, not a crash.
	r.s.request(sec, &clientapi.LoadModelRequest{Path: "/p", Copies: 1}, r.reply())
	r.s.result(sec, 0, loadOK(0, 1))
	r.s.result(sec, 1, &workerapi.ErrorResult{ID: 1, Code: 41, Message: "no model"})
	if rsp := r.replies[0].(*clientapi.LoadModelResponse); rsp.Status != clientapi.StatusError || !strings.Contains(rsp.Message, "no model") {
		t.Fatalf("mixed response %+v", rsp)
	}
	r.s.request(sec, &clientapi.LoadModelRequest{Path: "/p", Copies: 0}, r.reply())
	if rsp := r.replies[1].(*clientapi.LoadModelResponse); rsp.Status != clientapi.StatusInvalidRequest {
		t.Fatalf("zero copies %+v", rsp)
	}
	// More copies than a cluster serves (id 0 is taken), and a
	// worker that says it created a number of copies not asked for (-1
	// panicked the controller): error answers.
	r.s.request(sec, &clientapi.LoadModelRequest{Path: "/p", Copies: workerapi.MaxModels}, r.reply())
	if rsp := r.replies[2].(*clientapi.LoadModelResponse); rsp.Status != clientapi.StatusInvalidRequest ||
		!strings.Contains(rsp.Message, "at most 65536 models, and 65535 more") {
		t.Fatalf("too many copies %+v", rsp)
	}
	r.s.request(sec, &clientapi.LoadModelRequest{Path: "/p", Copies: 2}, r.reply())
	r.s.result(sec, 0, loadOK(2, -1))
	r.s.result(sec, 1, loadOK(3, 2))
	if rsp := r.replies[3].(*clientapi.LoadModelResponse); rsp.Status != clientapi.StatusError ||
		!strings.Contains(rsp.Message, "created -1 copies of the 2 asked for") {
		t.Fatalf("copies_created -1: %+v", rsp)
	}
	// Inputs no message could carry: an error answer.
	r.s.request(sec, &clientapi.LoadModelRequest{Path: "/p", Copies: 1}, r.reply())
	huge0, huge1 := loadOK(4, 1), loadOK(5, 1)
	huge0.InputSize, huge1.InputSize = 1<<50, 1<<50
	r.s.result(sec, 0, huge0)
	r.s.result(sec, 1, huge1)
	if rsp := r.replies[4].(*clientapi.LoadModelResponse); rsp.Status != clientapi.StatusError ||
		!strings.Contains(rsp.Message, "a message carries at most 268435456") {
		t.Fatalf("2^50-byte inputs: %+v", rsp)
	}
	// Batch sizes a scheduler cannot take, or more than a worker
	// prepares (each copied for every copy of the model): error answers.
	for i, sizes := range [][]uint32{{1, 1}, {2, 1}, {0, 1}, make([]uint32, scheduler.MaxBatchSizes+1)} {
		if len(sizes) > scheduler.MaxBatchSizes {
			for j := range sizes {
				sizes[j] = uint32(j + 1)
			}
		}
		r.s.request(sec, &clientapi.LoadModelRequest{Path: "/p", Copies: 1}, r.reply())
		for w := range 2 {
			res := loadOK(int32(6+2*i+w), 1)
			res.BatchSizes = sizes
			r.s.result(sec, w, res)
		}
		if rsp := r.replies[5+i].(*clientapi.LoadModelResponse); rsp.Status != clientapi.StatusError ||
			!strings.Contains(rsp.Message, "a worker answered with") {
			t.Fatalf("batch sizes %v: %+v", sizes, rsp)
		}
	}
}

// TestStartupFailedLoadGivesIDsBack: a load that every worker refused
// (a mistyped path with many copies) gives its model ids back, so that
// other clients' loads still get ids (the original used them up); one
// that some worker created keeps them, and so does one that a later load
// has ids above, until that one fails too.
func TestStartupFailedLoadGivesIDsBack(t *testing.T) {
	r := loadingRig(t)
	loadID := func(n int) int32 { // the model id of the nth load sent to worker 0
		return r.sent[0][n].(*workerapi.LoadModelFromDisk).ModelID
	}
	fail := func(id int32) *workerapi.ErrorResult {
		return &workerapi.ErrorResult{ID: id, ActionType: workerapi.LoadModelFromDiskType, Code: 41, Message: "no model"}
	}
	r.s.request(sec, &clientapi.LoadModelRequest{Path: "/typo", Copies: workerapi.MaxModels - 1}, r.reply())
	r.s.request(sec, &clientapi.LoadModelRequest{Path: "/p", Copies: 1}, r.reply())
	if loadID(1) != 0 || loadID(2) != workerapi.MaxModels-1 {
		t.Fatalf("model ids %d and %d", loadID(1), loadID(2))
	}
	r.s.result(sec, 0, fail(0)) // the first fails everywhere, under the second's id
	r.s.result(sec, 1, fail(1))
	r.s.result(sec, 0, fail(2)) // the second fails everywhere too: all ids are back
	r.s.result(sec, 1, fail(3))
	r.s.request(sec, &clientapi.LoadModelRequest{Path: "/p", Copies: workerapi.MaxModels}, r.reply())
	if loadID(3) != 0 {
		t.Fatalf("after two failed loads, a load of every id got id %d", loadID(3))
	}
	r.s.result(sec, 0, loadOK(4, workerapi.MaxModels)) // created on worker 0 only: the ids stay taken
	r.s.result(sec, 1, fail(5))
	r.s.request(sec, &clientapi.LoadModelRequest{Path: "/p", Copies: 1}, r.reply())
	if rsp := r.replies[len(r.replies)-1].(*clientapi.LoadModelResponse); rsp.Status != clientapi.StatusInvalidRequest ||
		!strings.Contains(rsp.Message, "and 0 more") {
		t.Fatalf("a load after one created somewhere took every id: %+v", rsp)
	}
}

// TestStartupRefusesControlCharacters: a LoadModel path with a control
// character is refused with 6 and printed quoted, so that it cannot forge
// console lines (a newline then "Lost connection to worker 0" did).
func TestStartupRefusesControlCharacters(t *testing.T) {
	r := newRig(t)
	r.s.begin(0)
	r.s.request(sec, &clientapi.LoadModelRequest{Path: "/x\nLost connection to worker 0", Copies: 1}, r.reply())
	if rsp := r.replies[0].(*clientapi.LoadModelResponse); rsp.Status != clientapi.StatusInvalidRequest ||
		!strings.Contains(rsp.Message, "holds a control character") {
		t.Fatalf("response %+v", rsp)
	}
	if out := r.out.String(); strings.Contains(out, "\nLost connection") ||
		!strings.Contains(out, `LoadModel path="/x\nLost connection to worker 0"`) {
		t.Errorf("console:\n%s", out)
	}
}

// TestStartupLeavesOutMisfits: a worker whose state the cluster cannot
// take is left out, as a lost one (the original ended), with its
// connection closed; the first good worker sets the page size and the
// models. Only when no worker is good does the startup fail.
func TestStartupLeavesOutMisfits(t *testing.T) {
	otherPages := func(s *workerapi.GetWorkerStateResult) { s.Memory.PageSize = 8 << 20 }
	noPages := func(s *workerapi.GetWorkerStateResult) { s.Memory.PageSize = 0 }
	badID := func(s *workerapi.GetWorkerStateResult) { s.Memory.Models[0].ID = workerapi.MaxModels }
	otherFile := func(s *workerapi.GetWorkerStateResult) { s.Memory.Models[0].Source = "/other" }
	lacks := func(s *workerapi.GetWorkerStateResult) { s.Memory.Models = s.Memory.Models[:0] }
	for _, tc := range []struct {
		name   string
		w0, w1 func(*workerapi.GetWorkerStateResult)
		out    int    // the worker left out, -1 if both
		why    string // what the output says
	}{
		{"another page size", nil, otherPages, 1, "its pages are 8388608 bytes, worker 0's 16777216"},
		{"pages of 0 bytes", noPages, nil, 0, "it reports pages of 0 bytes"},
		{"model id out of range", badID, nil, 0, "its model id 65536 is out of range (0 to 65535)"},
		{"a model from another file", nil, otherFile, 1, "its model 3 is /other, worker 0's /old"},
		{"a model missing", nil, lacks, 1, "it lacks model 3 (/old) of worker 0"},
		{"both", badID, noPages, -1, "no worker is left to serve"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			var refused []int
			r.s.refuse = func(w int) { refused = append(refused, w) }
			r.s.begin(0)
			r.s.request(0, &clientapi.LoadModelRequest{Path: "/z/a/model", Copies: 1}, r.reply())
			states := []*workerapi.GetWorkerStateResult{state(10, 3), state(10, 3)}
			for w, f := range []func(*workerapi.GetWorkerStateResult){tc.w0, tc.w1} {
				states[w].ID = int32(w)
				if f != nil {
					f(states[w])
				}
			}
			if err := r.s.result(sec, 0, states[0]); err != nil {
				t.Fatal(err)
			}
			err := r.s.result(sec, 1, states[1])
			if tc.out < 0 {
				if err == nil || !strings.Contains(err.Error(), tc.why) {
					t.Fatalf("error %v, want %q", err, tc.why)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("(Startup) Leaving out worker %d: %s; it may rejoin once startup is complete", tc.out, tc.why)
			if !strings.Contains(r.out.String(), want) || !slices.Equal(refused, []int{tc.out}) {
				t.Fatalf("refused %v; output:\n%s\nwant %q", refused, r.out.String(), want)
			}
			good := 1 - tc.out
			if len(r.sent[good]) != 2 || len(r.sent[tc.out]) != 1 {
				t.Fatalf("sent %v, want the queued load to worker %d only", r.sent, good)
			}
			r.s.result(2*sec, good, loadOK(r.sent[good][1].ActionID(), 1))
			if rsp := r.replies[0].(*clientapi.LoadModelResponse); rsp.Status != 0 || rsp.ModelID != 4 {
				t.Fatalf("load response %+v, want model 4 from worker %d", rsp, good)
			}
			// Its connection closed, the worker is reported lost: nothing more.
			if err := r.s.lost(2*sec, tc.out); err != nil {
				t.Fatal(err)
			}
			if !r.s.tick(4 * sec) {
				t.Fatal("load stage did not end")
			}
			st := r.s.finish()
			if st.PageSize != 16<<20 || len(st.Workers[tc.out].GPUs) != 0 ||
				!slices.EqualFunc(st.Workers[tc.out].Models, st.Workers[good].Models, func(a, b scheduler.Model) bool { return a.ID == b.ID && a.Path == b.Path }) {
				t.Errorf("state %+v: the worker left out should hold the good worker's models and no GPUs", st)
			}
		})
	}
}

func TestLoadsInFlightPerWorker(t *testing.T) {
	r := loadingRig(t)
	for i := 0; i < 6; i++ {
		r.s.request(sec, &clientapi.LoadModelRequest{Path: "/p", Copies: 1}, r.reply())
	}
	if n := len(r.sent[0]) - 1; n != maxStartupInFlight {
		t.Fatalf("%d loads in flight to worker 0, want %d", n, maxStartupInFlight)
	}
	r.s.result(sec, 0, loadOK(0, 1))
	if n := len(r.sent[0]) - 1; n != maxStartupInFlight+1 {
		t.Fatalf("%d loads sent after one completed", n)
	}
}

// TestStartupLeavesOutSilentWorkers: a worker that owes its state 30 s
// (stateSilence), or owes loads 600 s after its last answer
// (loadSilence), has its connection closed, and the startup goes on
// without it once its loss comes through, where it waited for ever; one
// that answers within those times is waited for.
func TestStartupLeavesOutSilentWorkers(t *testing.T) {
	r := newRig(t)
	var refused []int
	r.s.refuse = func(w int) { refused = append(refused, w) }
	r.s.begin(0)
	w0 := state(100)
	r.s.result(sec, 0, w0)
	if w := r.s.wake(); w != stateSilence {
		t.Fatalf("wake at %d, want %d, when worker 1 owes its state", w, stateSilence)
	}
	r.s.result(20*sec, 1, &workerapi.InferResult{ID: 99}) // not what it owes: the silence goes on
	r.s.tick(stateSilence - 1)
	if len(refused) != 0 {
		t.Fatalf("refused %v before the silence was over", refused)
	}
	r.s.tick(stateSilence)
	if !slices.Equal(refused, []int{1}) || !strings.Contains(r.out.String(), "(Startup) Worker 1 has not answered for 30 s\n") {
		t.Fatalf("refused %v; output:\n%s", refused, r.out.String())
	}
	r.s.tick(stateSilence + sec) // once
	if err := r.s.lost(stateSilence+sec, 1); err != nil {
		t.Fatal(err)
	}
	if !r.s.loading {
		t.Fatal("the load stage did not begin without the silent worker")
	}

	// Loads: the silence counts from the first owed, then from each answer.
	start := stateSilence + 2*sec
	r.s.request(start, &clientapi.LoadModelRequest{Path: "/z/a/model", Copies: 1}, r.reply())
	r.s.request(start+sec, &clientapi.LoadModelRequest{Path: "/z/b/model", Copies: 1}, r.reply())
	if w := r.s.wake(); w != start+loadSilence {
		t.Fatalf("wake at %d, want %d, when worker 0 owes loads", w, start+loadSilence)
	}
	answered := start + loadSilence - 1
	r.s.result(answered, 0, loadOK(r.sent[0][1].ActionID(), 1))
	r.s.tick(answered + loadSilence - 1)
	if len(refused) != 1 {
		t.Fatalf("refused %v: worker 0 answered a load %d s before", refused, (loadSilence-1)/sec)
	}
	r.s.tick(answered + loadSilence)
	if !slices.Equal(refused, []int{1, 0}) {
		t.Fatalf("refused %v, want worker 0 too after %d s without an answer", refused, loadSilence/sec)
	}
	if err := r.s.lost(answered+loadSilence, 0); err == nil {
		t.Fatal("no error once every worker was lost")
	}
}

// TestStartupGoesOnWithoutALostWorker: a worker lost before it answered
// GetWorkerState, or with a load outstanding, is left out; the loads are
// answered from the other worker, and the lost one ends with the
// cluster's models and no GPUs (it joins when it rejoins). Once every
// worker is lost, startup fails.
func TestStartupGoesOnWithoutALostWorker(t *testing.T) {
	w0 := state(100)
	w0.ID = 0

	// Lost while the state is queried.
	r := newRig(t)
	r.s.begin(0)
	r.s.request(sec, &clientapi.LoadModelRequest{Path: "/z/a/model", Copies: 1}, r.reply())
	r.s.result(sec, 0, w0)
	if err := r.s.lost(2*sec, 1); err != nil {
		t.Fatal(err)
	}
	if len(r.sent[0]) != 2 || len(r.sent[1]) != 1 {
		t.Fatalf("sent %v, want the load to worker 0 only", r.sent)
	}
	r.s.result(3*sec, 0, loadOK(r.sent[0][1].ActionID(), 1))
	if rsp := r.replies[len(r.replies)-1].(*clientapi.LoadModelResponse); rsp.Status != 0 || rsp.ModelID != 0 {
		t.Fatalf("load response %+v, want success from worker 0", rsp)
	}
	if !r.s.tick(4*sec + 1) {
		t.Fatal("load stage did not end")
	}
	st := r.s.finish()
	if w := st.Workers[1]; w.ID != 1 || len(w.GPUs) != 0 || len(w.Models) != 1 || w.Models[0].Path != "/z/a/model" {
		t.Fatalf("the lost worker's state %+v, want the cluster's model and no GPUs", w)
	}
	if !strings.Contains(r.out.String(), "(Startup) Going on without worker 1; it may rejoin once startup is complete") {
		t.Errorf("output:\n%s", r.out.String())
	}

	// Lost with a load outstanding, after worker 0 answered it.
	r = newRig(t)
	r.s.begin(0)
	w1 := state(100)
	w1.ID = 1
	r.s.result(sec, 0, w0)
	r.s.result(sec, 1, w1)
	r.s.request(2*sec, &clientapi.LoadModelRequest{Path: "/z/a/model", Copies: 1}, r.reply())
	r.s.result(3*sec, 0, loadOK(r.sent[0][1].ActionID(), 1))
	if len(r.replies) != 0 {
		t.Fatal("answered before worker 1")
	}
	if err := r.s.lost(4*sec, 1); err != nil {
		t.Fatal(err)
	}
	if len(r.replies) != 1 || r.replies[0].(*clientapi.LoadModelResponse).Status != 0 {
		t.Fatalf("replies %v, want the load answered once worker 1 was lost", r.replies)
	}
	if err := r.s.lost(4*sec, 0); err == nil {
		t.Error("every worker lost, and startup goes on")
	}
}

// TestStartupStateServesAfterLosses: whatever workers hold more models
// than the first good one and whichever of them is lost, the state the
// startup ends with is one INFER5 takes (it ended the controller: a worker
// lost after vet left its place to another's extra model).
func TestStartupStateServesAfterLosses(t *testing.T) {
	for lost := range 3 {
		var out bytes.Buffer
		sent := make([][]workerapi.Action, 3)
		s := newStartup(&out, 3, 8, 250e6, func(w int, a workerapi.Action) { sent[w] = append(sent[w], a) })
		s.begin(0)
		s.request(0, &clientapi.LoadModelRequest{Path: "/z/a/model", Copies: 1}, func(clientapi.Response) {})
		for w, ids := range [][]int32{{3}, {3, 9}, {3}} {
			st := state(10, ids...)
			st.ID = int32(w)
			if err := s.result(sec, w, st); err != nil {
				t.Fatal(err)
			}
		}
		for w := range 3 {
			s.result(2*sec, w, loadOK(sent[w][1].ActionID(), 1))
		}
		if err := s.lost(2*sec, lost); err != nil {
			t.Fatal(err)
		}
		if !s.tick(4 * sec) {
			t.Fatal("load stage did not end")
		}
		st := s.finish()
		// The load took id 10, after worker 1's model 9.
		if got := st.Workers[lost].Models; len(got) != 2 || got[0].ID != 3 || got[1].ID != 10 {
			t.Errorf("worker %d lost: it holds %+v, want models 3 and 10, those every other holds", lost, got)
		}
		if _, err := infer5.New(schedtest.Config(), st); err != nil {
			t.Errorf("worker %d lost: INFER5 refuses the state: %v", lost, err)
		}
	}
}

// TestStartupTakesOnlyLoadAnswers: a second GetWorkerState answer in the
// load stage has a load's id (its worker's index) but does not answer it.
func TestStartupTakesOnlyLoadAnswers(t *testing.T) {
	r := newRig(t)
	r.s.begin(0)
	r.s.request(0, &clientapi.LoadModelRequest{Path: "/z/a/model", Copies: 1}, r.reply())
	for w := range 2 {
		st := state(10, 3)
		st.ID = int32(w)
		r.s.result(sec, w, st)
	}
	if id := r.sent[1][1].ActionID(); id != 1 {
		t.Fatalf("worker 1's load has id %d; the test wants 1, its GetWorkerState's", id)
	}
	again := state(10, 3)
	again.ID = 1
	r.s.result(sec, 1, again)
	r.s.result(sec, 1, &workerapi.ErrorResult{ID: 1, ActionType: workerapi.GetWorkerStateType, Code: 1, Message: "late"})
	if len(r.replies) != 0 || !strings.Contains(r.out.String(), "Ignoring unexpected result from worker 1: ") {
		t.Fatalf("replies %v; output:\n%s", r.replies, r.out.String())
	}
	r.s.result(2*sec, 0, loadOK(r.sent[0][1].ActionID(), 1))
	r.s.result(2*sec, 1, loadOK(r.sent[1][1].ActionID(), 1))
	if !r.s.tick(4 * sec) {
		t.Fatal("load stage did not end")
	}
	if _, err := infer5.New(schedtest.Config(), r.s.finish()); err != nil {
		t.Fatalf("INFER5 refuses the state: %v", err)
	}
}
