package controller

import (
	"bytes"
	"errors"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// rejoinRig is a controller whose worker 0 is rejoining over a pipe; the
// cluster serves models 0 and 1 (one load of two copies of /a), 2 (/b)
// and 4 (/a).
type rejoinRig struct {
	c    *Controller
	w    *workerConn
	peer *wire.Conn
	out  bytes.Buffer
}

func newRejoinRig(t *testing.T) *rejoinRig {
	r := &rejoinRig{}
	ours, theirs := net.Pipe()
	t.Cleanup(func() { ours.Close(); theirs.Close() })
	r.peer = wire.NewConn(theirs)
	models := []scheduler.Model{{ID: 0, Path: "/a"}, {ID: 1, Path: "/a"}, {ID: 2, Path: "/b"}, {ID: 4, Path: "/a"}}
	r.c = &Controller{out: &r.out, events: make(chan event, 16), opts: Options{MaxBatch: 8, MaxExec: 250e6},
		state: &scheduler.State{PageSize: 16 << 20, Workers: []scheduler.Worker{{ID: 0, Models: models}}}}
	r.w = &workerConn{id: 0, addr: "pipe", conn: wire.NewConn(ours), outstanding: map[int32]*outAction{},
		rejoin: &rejoin{pending: map[int32]workerapi.ActionType{}}}
	r.c.workers = []*workerConn{r.w}
	return r
}

// drain has the worker end of the pipe take what it is sent, unread.
func (r *rejoinRig) drain() {
	go func() {
		for {
			if _, err := r.peer.Receive(); err != nil {
				return
			}
		}
	}()
}

// received is the next action the worker end of the pipe got.
func (r *rejoinRig) received(t *testing.T) workerapi.Action {
	t.Helper()
	msg, err := r.peer.Receive()
	if err != nil {
		t.Fatal(err)
	}
	a, err := workerapi.DecodeAction(msg)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestRejoinLoadsWhatIsMissing: a worker that has model 2 gets the other
// models, consecutive ids of one path in one LoadModelFromDisk, with the
// controller's limits and negative action ids.
func TestRejoinLoadsWhatIsMissing(t *testing.T) {
	r := newRejoinRig(t)
	mem := &workerapi.WorkerMemoryInfo{PageSize: 16 << 20, Models: []workerapi.ModelInfo{{ID: 2, Source: "/b"}}}
	done := make(chan error, 1)
	go func() { done <- r.c.loadMissing(r.w, mem) }()
	want := []workerapi.LoadModelFromDisk{
		{ModelID: 0, Path: "/a", Copies: 2, Latest: workerapi.NoLatest, MaxBatchSize: 8, MaxExecDuration: 250e6},
		{ModelID: 4, Path: "/a", Copies: 1, Latest: workerapi.NoLatest, MaxBatchSize: 8, MaxExecDuration: 250e6},
	}
	for i, w := range want {
		a, ok := r.received(t).(*workerapi.LoadModelFromDisk)
		if !ok || a.ID >= 0 || a.ModelID != w.ModelID || a.Path != w.Path || a.Copies != w.Copies ||
			a.Latest != w.Latest || a.MaxBatchSize != w.MaxBatchSize || a.MaxExecDuration != w.MaxExecDuration {
			t.Fatalf("load %d: %+v, want %+v with a negative id", i, a, w)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(r.w.rejoin.pending) != 2 {
		t.Errorf("%d actions pending, want the two loads", len(r.w.rejoin.pending))
	}
}

// TestRejoinRefusesAnotherCluster: a worker with another page size, or a
// model id under another path, cannot rejoin.
func TestRejoinRefusesAnotherCluster(t *testing.T) {
	for _, tc := range []struct {
		mem  workerapi.WorkerMemoryInfo
		want string
	}{
		{workerapi.WorkerMemoryInfo{PageSize: 8 << 20}, "page size 8388608, not the cluster's 16777216"},
		{workerapi.WorkerMemoryInfo{PageSize: 16 << 20, Models: []workerapi.ModelInfo{{ID: 1, Source: "/c"}}}, "model 1 is /c there, not /a"},
	} {
		r := newRejoinRig(t)
		if err := r.c.loadMissing(r.w, &tc.mem); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("loadMissing = %v, want %q", err, tc.want)
		}
	}
}

// TestRejoinGivesUpOnSilence: a rejoining worker that owes its state 30 s,
// or loads 600 s after its last answer, is given up on (dialled again
// later), where it stayed rejoining for ever.
func TestRejoinGivesUpOnSilence(t *testing.T) {
	r := newRejoinRig(t)
	r.drain()
	r.w.rejoin.heard = 5 * sec
	if next := r.c.hushRejoins(sec); next != 0 {
		t.Fatalf("a worker owing nothing: next %d", next)
	}
	r.c.sendRejoin(r.w, &workerapi.GetWorkerState{ID: -1})
	if next := r.c.hushRejoins(5*sec + stateSilence - 1); next != 5*sec+stateSilence || r.w.rejoin.failed {
		t.Fatalf("next %d, failed %v, before its state was owed %d s", next, r.w.rejoin.failed, stateSilence/sec)
	}
	// Its state answered at 10 s, two loads owed since.
	r.c.rejoinResult(10*sec, r.w, &workerapi.GetWorkerStateResult{ID: -1,
		Memory: workerapi.WorkerMemoryInfo{PageSize: 16 << 20, Models: []workerapi.ModelInfo{{ID: 2, Source: "/b"}}}})
	if len(r.w.rejoin.pending) != 2 {
		t.Fatalf("%d actions pending, want the two loads", len(r.w.rejoin.pending))
	}
	if next := r.c.hushRejoins(10*sec + loadSilence - 1); next != 10*sec+loadSilence || r.w.rejoin.failed {
		t.Fatalf("next %d, failed %v, owing loads", next, r.w.rejoin.failed)
	}
	if next := r.c.hushRejoins(10*sec + loadSilence); next != 0 || !r.w.rejoin.failed || r.w.refusals != 1 {
		t.Fatalf("next %d, failed %v, refusals %d after %d s of silence", next, r.w.rejoin.failed, r.w.refusals, loadSilence/sec)
	}
	if !strings.Contains(r.out.String(), "Worker 0 (pipe) cannot rejoin: it has not answered for 600 s") {
		t.Errorf("output:\n%s", r.out.String())
	}
}

// TestTrafficSurvivesRejoins: the traffic counted for the network line
// keeps what a replaced connection carried (a smaller total underflowed
// the line's differences).
func TestTrafficSurvivesRejoins(t *testing.T) {
	r := newRejoinRig(t)
	r.drain()
	for id := range int32(3) {
		r.c.sendRejoin(r.w, &workerapi.GetWorkerState{ID: -1 - id})
	}
	for r.c.networkStats().MsgsSent < 3 {
		runtime.Gosched()
	}
	before := r.c.networkStats()
	ours, theirs := net.Pipe()
	t.Cleanup(func() { ours.Close(); theirs.Close() })
	r.c.startRejoin(0, 0, ours)
	if after := r.c.networkStats(); after.MsgsSent < before.MsgsSent || after.BytesSent < before.BytesSent {
		t.Errorf("traffic %+v after the rejoin, %+v before", after, before)
	}
}

// refusingSched sends one Infer to worker 0 at its first Ready and counts
// the calls; the refusal of the Infer asks for another.
type refusingSched struct {
	readies int
	refused []int32
}

func (s *refusingSched) Infer(int64, *scheduler.Request)                 {}
func (s *refusingSched) Result(int64, int64, int, workerapi.Result)      {}
func (s *refusingSched) WorkerLost(int64, int)                           {}
func (s *refusingSched) WorkerRejoined(int64, *scheduler.Worker)         {}
func (s *refusingSched) ClientGone(int64, func(*scheduler.Request) bool) {}
func (s *refusingSched) Tick(int64)                                      {}
func (s *refusingSched) Sent(_ int64, _ int, id int32, err error) {
	if err != nil {
		s.refused = append(s.refused, id)
	}
}
func (s *refusingSched) Ready(out *scheduler.Output) {
	s.readies++
	if s.readies == 1 {
		out.Sends = append(out.Sends, scheduler.Send{Worker: 0, Action: &workerapi.Infer{ID: 7}})
	}
	out.Wake = int64(s.readies)
}

// TestFlushHearsRefusalsAtOnce: an action for a rejoining worker is
// refused while the scheduler's output is carried out; the scheduler is
// asked again before the controller waits, so that what the refusal
// decides (answers, other sends) does not wait for the next event.
func TestFlushHearsRefusalsAtOnce(t *testing.T) {
	r := newRejoinRig(t)
	s := &refusingSched{}
	r.c.sched = s
	if wake := r.c.flush(1); s.readies != 2 || len(s.refused) != 1 || s.refused[0] != 7 || wake != 2 {
		t.Errorf("Ready called %d times, refused %v, wake %d; want 2 calls, action 7 refused, the second wake", s.readies, s.refused, wake)
	}
}

// rejoinedSched records the workers that rejoined.
type rejoinedSched struct {
	refusingSched
	rejoined []int
}

func (s *rejoinedSched) WorkerRejoined(_ int64, w *scheduler.Worker) {
	s.rejoined = append(s.rejoined, w.ID)
}

// TestRejoinTakesOnlyItsAnswers: a rejoining worker that answers its
// GetWorkerState with another action's result is dropped (that result
// used to end the rejoin with no state, and the controller panicked); one
// that answers it holding every model rejoins.
func TestRejoinTakesOnlyItsAnswers(t *testing.T) {
	for _, tc := range []struct {
		res  workerapi.Result
		want bool
	}{
		{&workerapi.LoadModelFromDiskResult{ID: -1, CopiesCreated: 1}, false},
		{&workerapi.InferResult{ID: -1}, false},
		{&workerapi.ErrorResult{ID: -1, Code: 1, Message: "no"}, false},
		{&workerapi.GetWorkerStateResult{ID: -1, Memory: workerapi.WorkerMemoryInfo{PageSize: 16 << 20, Models: []workerapi.ModelInfo{
			{ID: 0, Source: "/a"}, {ID: 1, Source: "/a"}, {ID: 2, Source: "/b"}, {ID: 4, Source: "/a"}}}}, true},
	} {
		r := newRejoinRig(t)
		s := &rejoinedSched{}
		r.c.sched = s
		r.w.rejoin.pending[-1] = workerapi.GetWorkerStateType
		r.c.rejoinResult(0, r.w, tc.res)
		if got := len(s.rejoined) == 1; got != tc.want {
			t.Errorf("%s: rejoined %v, want %v; console %q", tc.res, got, tc.want, r.out.String())
		}
		if !tc.want && (r.w.rejoin == nil || !r.w.rejoin.failed) {
			t.Errorf("%s: rejoin not given up", tc.res)
		}
	}
}

// TestRefusedRejoinsBackOff: each rejoin that ends without the worker back
// doubles the wait before the next dial (up to 64 s); the count survives
// the reconnection.
func TestRefusedRejoinsBackOff(t *testing.T) {
	for n, want := range []time.Duration{1, 2, 4, 8, 16, 32, 64, 64, 64} {
		if got := redialDelay(n); got != want*time.Second {
			t.Errorf("redialDelay(%d) = %v, want %v", n, got, want*time.Second)
		}
	}
	r := newRejoinRig(t)
	stop := make(chan struct{})
	defer close(stop)
	r.c.stop = stop
	for range 3 {
		r.w.rejoin.failed = false
		r.c.dropRejoin(r.w, errors.New("page size 8388608, not the cluster's 16777216"))
	}
	if r.w.refusals != 3 {
		t.Fatalf("%d refusals counted, want 3", r.w.refusals)
	}
	r.c.redialLater(0)
	if want := "Reconnecting to worker 0 (pipe) in 8s (it could not rejoin 3 times in a row), then every 1s\n"; !strings.Contains(r.out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, r.out.String())
	}
	ours, theirs := net.Pipe()
	defer ours.Close()
	defer theirs.Close()
	if w := r.c.reconnect(0, ours, &rejoin{pending: map[int32]workerapi.ActionType{}}); w.refusals != 3 {
		t.Errorf("the reconnected worker carries %d refusals, want 3", w.refusals)
	}
}

// TestCutOffRejoinsCount: a rejoin whose connection is lost before it ends
// (a worker that accepts and hangs up) counts as failed too, and one that
// ends with the worker back clears the count.
func TestCutOffRejoinsCount(t *testing.T) {
	r := newRejoinRig(t)
	r.c.sched = &refusingSched{}
	stop := make(chan struct{})
	defer close(stop)
	r.c.stop = stop
	r.w.refusals = 1
	if err := r.c.handle(0, event{kind: evWorkerDown, worker: 0, err: errors.New("closed by worker")}); err != nil {
		t.Fatal(err)
	}
	if want := "Reconnecting to worker 0 (pipe) in 4s (it could not rejoin 2 times in a row), then every 1s\n"; r.w.refusals != 2 || !strings.Contains(r.out.String(), want) {
		t.Errorf("%d refusals; output lacks %q:\n%s", r.w.refusals, want, r.out.String())
	}

	r = newRejoinRig(t)
	s := &rejoinedSched{}
	r.c.sched = s
	r.w.refusals = 5
	r.w.rejoin.pending[-1] = workerapi.GetWorkerStateType
	r.c.rejoinResult(0, r.w, &workerapi.GetWorkerStateResult{ID: -1, Memory: workerapi.WorkerMemoryInfo{PageSize: 16 << 20, Models: []workerapi.ModelInfo{
		{ID: 0, Source: "/a"}, {ID: 1, Source: "/a"}, {ID: 2, Source: "/b"}, {ID: 4, Source: "/a"}}}})
	if len(s.rejoined) != 1 || r.w.refusals != 0 {
		t.Errorf("rejoined %v with %d refusals left, want worker 0 back and none", s.rejoined, r.w.refusals)
	}
}
