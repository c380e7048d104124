package worker

import (
	"bytes"
	"context"
	"io"
	"net"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/promtext"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/sim"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// lendingRuntime is a simulated runtime that lends host memory (as the
// CUDA runtime lends pinned memory) and counts what is out.
type lendingRuntime struct {
	runtime.Runtime
	mu   sync.Mutex
	lend lender
}

func (r *lendingRuntime) AllocHost(n int) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lend.AllocHost(n)
}

func (r *lendingRuntime) FreeHost(b []byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lend.FreeHost(b)
}

func (r *lendingRuntime) lent() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lend.lent
}

// serveOne serves a worker of 4 pages a GPU on rt over loopback until the
// test ends, and returns it and a connection to it.
func serveOne(t *testing.T, rt runtime.Runtime, opts Options, connOpts ...wire.Option) (*Server, *wire.Conn) {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(Config{PageSize: 16 << 20, Pages: 4}, rt, opts)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	})
	nc, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := wire.NewConn(nc, connOpts...)
	t.Cleanup(func() { c.Close() })
	return srv, c
}

// roundTrip sends a and returns its result.
func roundTrip(t *testing.T, c *wire.Conn, a workerapi.Action) workerapi.Result {
	t.Helper()
	sendAction(t, c, a)
	return receiveResult(t, c)
}

func sendAction(t *testing.T, c *wire.Conn, a workerapi.Action) {
	t.Helper()
	msg, err := workerapi.EncodeAction(a)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(msg); err != nil {
		t.Fatal(err)
	}
}

// receiveResult returns the next result on c.
func receiveResult(t *testing.T, c *wire.Conn) workerapi.Result {
	t.Helper()
	reply, err := c.Receive()
	if err != nil {
		t.Fatal(err)
	}
	r, err := workerapi.DecodeResult(reply)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestResultStampsClocks: results carry action_received and result_sent in
// the controller's clock, except ClearCache's and GetWorkerState's, which
// carry no receipt time and result_sent in the worker's own clock, as the
// original's (spec/worker.md §1.3 rule 4). The controller here runs 1000 s
// behind the worker.
func TestResultStampsClocks(t *testing.T) {
	const behind = int64(1000 * time.Second)
	_, c := serveOne(t, sim.New(1), Options{Console: io.Discard}, wire.WithClock(func() int64 { return clock.Now() - behind }))
	for _, tc := range []struct {
		a        workerapi.Action
		workerTS bool
	}{
		{&workerapi.GetWorkerState{ID: 1}, true},
		{&workerapi.ClearCache{ID: 2}, true},
		{&workerapi.LoadWeights{ID: 3, ModelID: 5, Latest: workerapi.NoLatest}, false}, // no such model: an error result
	} {
		before := clock.Now()
		r := roundTrip(t, c, tc.a)
		after := clock.Now()
		received, sent := r.Stamps()
		if tc.workerTS {
			if received != 0 || int64(sent) < before || int64(sent) > after {
				t.Errorf("%s: received %d, sent %d; want 0 and within [%d, %d] (the worker's clock)", r, received, sent, before, after)
			}
			continue
		}
		// The delta estimate is off by up to half the difference between
		// the two ways' delays, in either direction (a few microseconds
		// past after−behind failed this 3 to 7 times in 200 runs): a
		// second's slack each side, against clocks 1000 s apart.
		lo, hi := before-behind-int64(time.Second), after-behind+int64(time.Second)
		if int64(received) < lo || int64(received) > hi || int64(sent) < lo || int64(sent) > hi || received > sent {
			t.Errorf("%s: received %d, sent %d; want both within [%d, %d] (the controller's clock)", r, received, sent, lo, hi)
		}
	}
}

// TestBadInferFrameGivesItsInputBack: an Infer frame whose header does not
// decode closes its connection, and the body the worker read into the
// runtime's lent memory goes back (it stayed lent, and the pinned pool,
// which frees in order, could lend nothing after it).
func TestBadInferFrameGivesItsInputBack(t *testing.T) {
	rt := &lendingRuntime{Runtime: sim.New(1), lend: lender{room: 4}}
	_, c := serveOne(t, rt, Options{Console: io.Discard})
	if err := c.Send(&wire.Message{Type: workerapi.MsgInfer, Header: []byte{0xff, 0xff, 0xff}, Body: make([]byte, 3<<20)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Receive(); err == nil {
		t.Fatal("the worker answered a frame it cannot decode")
	}
	deadline := time.Now().Add(10 * time.Second)
	for rt.lent() != 0 || rt.lend.frees == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d buffers still lent, %d given back", rt.lent(), rt.lend.frees)
		}
		time.Sleep(time.Millisecond)
	}
}

// console is a worker's console written by its goroutines and read by a test.
type console struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (c *console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.Write(p)
}

// waitFor waits up to 5 s for s on the console.
func (c *console) waitFor(t *testing.T, s string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		c.mu.Lock()
		found := strings.Contains(c.b.String(), s)
		c.mu.Unlock()
		if found {
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Fatalf("no %q on the console:\n%s", s, c.b.String())
}

// TestClosingConnectionLine: a connection the controller closes is logged
// as the original's asio did, "End of file".
func TestClosingConnectionLine(t *testing.T) {
	var out console
	_, c := serveOne(t, sim.New(1), Options{Console: &out})
	roundTrip(t, c, &workerapi.GetWorkerState{ID: 1})
	c.Close()
	out.waitFor(t, ", reason: End of file\n")
}

// TestConnectionLimit: a connection past MaxConns is closed at once (the
// peer reads EOF), the console says so, and the one admitted is served.
func TestConnectionLimit(t *testing.T) {
	var out console
	_, c := serveOne(t, sim.New(1), Options{Console: &out, MaxConns: 1})
	roundTrip(t, c, &workerapi.GetWorkerState{ID: 1}) // admitted before the next dial
	nc, err := net.Dial("tcp4", c.RemoteAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the connection past the limit reads %v, want EOF", err)
	}
	out.waitFor(t, "Refused 1 connection(s)")
	roundTrip(t, c, &workerapi.GetWorkerState{ID: 2})
}

// stuckConsole is a console whose writes of a line containing stuck
// block until release is closed.
type stuckConsole struct {
	console
	stuck   string
	release chan struct{}
}

func (c *stuckConsole) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.stuck) {
		<-c.release
	}
	return c.console.Write(p)
}

// TestResultLinesDoNotHoldTheEngine: the console lines about results are
// written off the engine's goroutine, which sends every result. With the
// console stuck on the "Sending" line of a GetWorkerState (half a megabyte
// of text at 3,600 models, 14-28 ms to format, during which no GPU got its
// next operation), that result and the next one still arrive.
func TestResultLinesDoNotHoldTheEngine(t *testing.T) {
	out := &stuckConsole{stuck: "Sending R1:", release: make(chan struct{})}
	_, c := serveOne(t, sim.New(1), Options{Console: out})
	release := sync.OnceFunc(func() { close(out.release) })
	t.Cleanup(release) // before the server stops
	for id := int32(1); id <= 2; id++ {
		msg, err := workerapi.EncodeAction(&workerapi.GetWorkerState{ID: id})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send(msg); err != nil {
			t.Fatal(err)
		}
		got := make(chan *wire.Message, 1)
		go func() {
			m, _ := c.Receive()
			got <- m
		}()
		select {
		case m := <-got:
			if r, err := workerapi.DecodeResult(m); err != nil || r.ActionID() != id {
				t.Fatalf("result %v, %v; want GetWorkerState %d's", r, err, id)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no result for GetWorkerState %d while the console is stuck", id)
		}
	}
	// The lines keep their order once the console moves again.
	release()
	out.waitFor(t, "Sending R2:")
	out.mu.Lock()
	defer out.mu.Unlock()
	if b := out.b.String(); strings.Index(b, "Sending R1:") > strings.Index(b, "Sending R2:") {
		t.Errorf("the lines out of order:\n%s", b)
	}
}

// TestResultForAClosedConnection: when a connection closes, its actions
// in flight run to their end and their results are dropped with one line
// each, as the original's ("Sending" was printed first); those still
// queued are cancelled (status 1), also dropped.
func TestResultForAClosedConnection(t *testing.T) {
	var out console
	_, c := serveOne(t, sim.New(1), Options{Console: &out})
	if r := roundTrip(t, c, &workerapi.LoadModelFromDisk{ID: 1, Path: testZoo(t), Copies: 1, MaxBatchSize: 1, Latest: workerapi.NoLatest}); r.Status() != workerapi.Success {
		t.Fatal(r)
	}
	for _, a := range []workerapi.Action{
		&workerapi.LoadWeights{ID: 8, Latest: workerapi.NoLatest}, // starts at once, runs 10 ms
		&workerapi.LoadModelFromDisk{ID: 7, ModelID: 1, Path: testZoo(t), Copies: 1, MaxBatchSize: 1,
			Earliest: uint64(clock.Now() + int64(time.Hour)), Latest: workerapi.NoLatest},
	} {
		msg, err := workerapi.EncodeAction(a)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send(msg); err != nil {
			t.Fatal(err)
		}
	}
	out.waitFor(t, "Received A7:LoadModelFromDisk")
	c.Close()
	out.waitFor(t, ", reason: End of file\n")
	out.waitFor(t, "Dropping result R7:Error 1: Action cancelled: its connection closed\n")
	out.waitFor(t, "Dropping result R8:LoadWeights")
	out.mu.Lock()
	defer out.mu.Unlock()
	if strings.Contains(out.b.String(), "Sending R7") {
		t.Errorf("a dropped result was also sent:\n%s", out.b.String())
	}
}

// TestClosedConnectionFreesItsInputs: the inputs of a closed connection's
// queued Infers count no more against the worker's bound
// (Config.MaxQueuedInput), which answers the Infer that would pass it 74.
func TestClosedConnectionFreesItsInputs(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// One Infer of 200 bytes counts 1224 (InferOverhead): one fits, two do not.
	srv := NewServer(Config{PageSize: 16 << 20, Pages: 4, MaxQueuedInput: 2000}, sim.New(1), Options{Console: io.Discard})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	dial := func() *wire.Conn {
		nc, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		return wire.NewConn(nc)
	}
	c := dial()
	defer c.Close()
	if r := roundTrip(t, c, &workerapi.LoadModelFromDisk{ID: 1, Path: testZoo(t), Copies: 1, MaxBatchSize: 2, Latest: workerapi.NoLatest}); r.Status() != workerapi.Success {
		t.Fatal(r)
	}
	later := uint64(clock.Now() + int64(time.Hour))
	send := func(c *wire.Conn, id int32) {
		msg, err := workerapi.EncodeAction(&workerapi.Infer{ID: id, BatchSize: 2, Input: make([]byte, 200), Earliest: later, Latest: workerapi.NoLatest})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send(msg); err != nil {
			t.Fatal(err)
		}
	}
	first := dial()
	send(first, 2) // held: 1224 of 2000 bytes
	// A connection's actions reach the engine in order: once it answers
	// GetWorkerState, Infer 2 is held.
	roundTrip(t, first, &workerapi.GetWorkerState{ID: 3})
	if r := roundTrip(t, c, &workerapi.Infer{ID: 4, BatchSize: 2, Input: make([]byte, 200), Earliest: later, Latest: workerapi.NoLatest}); r.Status() != workerapi.CopyInputHostAlloc {
		t.Fatalf("a second input past the bound: %v, want status 74", r)
	}
	first.Close()
	// Once the close is noticed, an Infer of the same size is held: it
	// has no answer before that of the GetWorkerState after it.
	deadline := time.Now().Add(10 * time.Second)
	for id := int32(5); ; id += 2 {
		send(c, id)
		r := roundTrip(t, c, &workerapi.GetWorkerState{ID: id + 1})
		if r.ActionID() == id+1 {
			return
		}
		if r.Status() != workerapi.CopyInputHostAlloc {
			t.Fatalf("Infer %d: %v, want status 74 or no answer", id, r)
		}
		if _, err := c.Receive(); err != nil { // GetWorkerState's
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the closed connection's input is still held after 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pagedRuntime is a simulated runtime whose GPU 1 made a smaller cache.
type pagedRuntime struct{ runtime.Runtime }

func (pagedRuntime) Pages(gpu int) int { return 4 - 2*gpu }

// TestRuntimeWithFewerPages: a GPU whose runtime made fewer pages than
// configured (runtime.Paged) is offered with those, in GetWorkerState and
// when pages are given out: a model needing more gets status 53 there.
func TestRuntimeWithFewerPages(t *testing.T) {
	_, c := serveOne(t, pagedRuntime{sim.New(2)}, Options{Console: io.Discard})
	state := roundTrip(t, c, &workerapi.GetWorkerState{ID: 1}).(*workerapi.GetWorkerStateResult)
	for g, want := range []int32{4, 2} {
		if gi := state.Memory.GPUs[g]; gi.WeightsCacheTotalPages != want || gi.WeightsCacheSize != uint64(want)<<24 {
			t.Errorf("GPU %d: %d pages, %d bytes; want %d pages", g, gi.WeightsCacheTotalPages, gi.WeightsCacheSize, want)
		}
	}
	if r := roundTrip(t, c, &workerapi.LoadModelFromDisk{ID: 2, Path: testZoo(t), Latest: workerapi.NoLatest, Copies: 1, MaxBatchSize: 1}); r.Status() != workerapi.Success {
		t.Fatal(r)
	}
	if r := roundTrip(t, c, &workerapi.LoadWeights{ID: 3, GPU: 1, Latest: workerapi.NoLatest}); r.Status() != workerapi.Success {
		t.Fatal(r)
	}
	if r := roundTrip(t, c, &workerapi.LoadModelFromDisk{ID: 4, ModelID: 1, Path: testZoo(t), Latest: workerapi.NoLatest, Copies: 1, MaxBatchSize: 1}); r.Status() != workerapi.Success {
		t.Fatal(r)
	}
	if r := roundTrip(t, c, &workerapi.LoadWeights{ID: 5, ModelID: 1, GPU: 1, Latest: workerapi.NoLatest}); r.Status() != workerapi.LoadWeightsInsufficientCache {
		t.Errorf("a second 2-page model on GPU 1's 2 pages: %s, want status 53", r)
	}
}

// TestServerMetrics: a server with Options.Metrics counts each result by
// the action's type and GPU as it sends it (a GPU id it lacks as
// invalid), and counts its connections; one without writes nothing.
func TestServerMetrics(t *testing.T) {
	srv, c := serveOne(t, sim.New(2), Options{Console: io.Discard, Metrics: true})
	for _, a := range []workerapi.Action{
		&workerapi.GetWorkerState{ID: 1},
		&workerapi.LoadWeights{ID: 2, ModelID: 5, GPU: 1, Latest: workerapi.NoLatest},
		&workerapi.EvictWeights{ID: 3, ModelID: 5, GPU: 1 << 30, Latest: workerapi.NoLatest},
	} {
		roundTrip(t, c, a)
	}
	// An Infer due in an hour holds its input; the GetWorkerState after it
	// is answered once the engine has taken it.
	if r := roundTrip(t, c, &workerapi.LoadModelFromDisk{ID: 4, Path: testZoo(t), Copies: 1, MaxBatchSize: 1, Latest: workerapi.NoLatest}); r.Status() != workerapi.Success {
		t.Fatal(r)
	}
	msg, err := workerapi.EncodeAction(&workerapi.Infer{ID: 5, BatchSize: 1, Input: make([]byte, 100),
		Earliest: uint64(clock.Now() + int64(time.Hour)), Latest: workerapi.NoLatest})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(msg); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c, &workerapi.GetWorkerState{ID: 6})
	var b bytes.Buffer
	srv.WriteMetrics(&b)
	if err := promtext.Validate(b.String()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`clockwork_worker_actions_total{action="get_worker_state",status="0"} 2`,
		`clockwork_worker_gpu_actions_total{gpu="1",action="load_weights",status="` + strconv.Itoa(int(workerapi.LoadWeightsUnknownModel)) + `"} 1`,
		`clockwork_worker_gpu_actions_total{gpu="invalid",action="evict_weights",status="` + strconv.Itoa(int(workerapi.ErrInvalidGPU)) + `"} 1`,
		`clockwork_worker_weights_cache_pages{gpu="1",state="free"} 4`,
		"clockwork_worker_queued_input_bytes 1124",
		"clockwork_worker_connections 1",
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("missing %s in:\n%s", want, b.String())
		}
	}

	b.Reset()
	NewServer(Config{PageSize: 16 << 20, Pages: 4}, sim.New(1), Options{Console: io.Discard}).WriteMetrics(&b)
	if b.Len() != 0 {
		t.Errorf("without Options.Metrics: %q", b.String())
	}
}

// TestBodiesBesideActionsAreNotHeld: a body sent with an action that
// reads none (all but Infer) goes back at once, not when the action,
// here due in an hour, is answered.
func TestBodiesBesideActionsAreNotHeld(t *testing.T) {
	_, c := serveOne(t, sim.New(1), Options{Console: io.Discard})
	if r := roundTrip(t, c, &workerapi.LoadModelFromDisk{ID: 1, Path: testZoo(t), Copies: 1, MaxBatchSize: 1, Latest: workerapi.NoLatest}); r.Status() != workerapi.Success {
		t.Fatal(r)
	}
	heap := func() uint64 {
		goruntime.GC() // twice: bodies given back to the buffer pools go with the second
		goruntime.GC()
		var ms goruntime.MemStats
		goruntime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	later := uint64(clock.Now() + int64(time.Hour))
	const n, size = 16, 16 << 20
	for i := range int32(n) {
		msg, err := workerapi.EncodeAction(&workerapi.LoadWeights{ID: 2 + i, Earliest: later, Latest: workerapi.NoLatest})
		if err != nil {
			t.Fatal(err)
		}
		msg.Body = make([]byte, size)
		// Let go of it once written: this end's writer may not have
		// dropped the last messages it wrote by the time of the answer.
		msg.Sent = func(error) { msg.Body = nil }
		if err := c.Send(msg); err != nil {
			t.Fatal(err)
		}
	}
	// A connection's actions reach the engine in order.
	roundTrip(t, c, &workerapi.GetWorkerState{ID: 100})
	if grown := int64(heap()) - int64(before); grown > n*size/2 {
		t.Errorf("the heap grew by %d MiB with %d actions of %d MiB bodies queued", grown>>20, n, size>>20)
	}
}

// TestUnchangedStateLines: a state answer the same as the last one printed
// is printed as unchanged since it; one after a change in full again.
func TestUnchangedStateLines(t *testing.T) {
	var out console
	_, c := serveOne(t, sim.New(1), Options{Console: &out})
	for _, a := range []workerapi.Action{
		&workerapi.LoadModelFromDisk{ID: 1, Path: testZoo(t), Copies: 1, MaxBatchSize: 1, Latest: workerapi.NoLatest},
		&workerapi.GetWorkerState{ID: 2},
		&workerapi.GetWorkerState{ID: 3},
		&workerapi.LoadWeights{ID: 4, Latest: workerapi.NoLatest},
		&workerapi.GetWorkerState{ID: 5},
		&workerapi.LoadModelFromDisk{ID: 6, ModelID: 1, Path: testZoo(t), Copies: 1, MaxBatchSize: 1, Latest: workerapi.NoLatest},
		&workerapi.GetWorkerState{ID: 7},
		&workerapi.GetWorkerState{ID: 8},
	} {
		if r := roundTrip(t, c, a); r.Status() != workerapi.Success {
			t.Fatal(r)
		}
	}
	out.waitFor(t, "Sending R8:")
	out.mu.Lock()
	text := out.b.String()
	out.mu.Unlock()
	var got []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "Sending R") && strings.Contains(line, "GetWorkerState") {
			got = append(got, line)
		}
	}
	want := []string{
		"Sending R2:GetWorkerState:",
		"Sending R3:GetWorkerState: unchanged since R2",
		"Sending R5:GetWorkerState:", // model 0's weights on GPU 0
		"Sending R7:GetWorkerState:", // model 1
		"Sending R8:GetWorkerState: unchanged since R7",
	}
	if !slices.Equal(got, want) {
		t.Errorf("state lines\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestUnchangedDroppedStateLines: a state answer dropped for a closed
// connection is compared with the last printed too, whatever its prefix.
func TestUnchangedDroppedStateLines(t *testing.T) {
	var out bytes.Buffer
	l := newResultLines(&out)
	models := []workerapi.ModelInfo{{ID: 0, Source: "/m"}}
	state := func(id int32) *workerapi.GetWorkerStateResult {
		return &workerapi.GetWorkerStateResult{ID: id, Memory: workerapi.WorkerMemoryInfo{PageSize: 1, Models: models}}
	}
	l.add("Sending", state(1))
	l.add("Dropping result", state(2))
	l.add("Dropping result", state(3))
	l.close()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if got := lines[len(lines)-2:]; !slices.Equal(got, []string{
		"Dropping result R2:GetWorkerState: unchanged since R1",
		"Dropping result R3:GetWorkerState: unchanged since R1",
	}) {
		t.Errorf("lines:\n%s", out.String())
	}
}
