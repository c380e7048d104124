package worker

import (
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

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
func serveOne(t *testing.T, rt runtime.Runtime, opts Options) (*Server, *wire.Conn) {
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
	c := wire.NewConn(nc)
	t.Cleanup(func() { c.Close() })
	return srv, c
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
		msg, err := workerapi.EncodeAction(a)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Receive(); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	srv.WriteMetrics(&b)
	if err := promtext.Validate(b.String()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`clockwork_worker_actions_total{action="get_worker_state",status="0"} 1`,
		`clockwork_worker_gpu_actions_total{gpu="1",action="load_weights",status="` + strconv.Itoa(int(workerapi.LoadWeightsUnknownModel)) + `"} 1`,
		`clockwork_worker_gpu_actions_total{gpu="invalid",action="evict_weights",status="` + strconv.Itoa(int(workerapi.ErrInvalidGPU)) + `"} 1`,
		`clockwork_worker_weights_cache_pages{gpu="1",state="free"} 4`,
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
