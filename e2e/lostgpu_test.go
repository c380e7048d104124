package e2e

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/client"
)

// TestLostWorker stops one of two workers while a client is served
// behind INFER5, INFER4 and BASELINE: the controller takes the worker's
// GPU out of service and loads its model onto the GPU left, and every
// request after that succeeds. (The lost GPU used to keep getting its
// share of the work, all of which failed.) Then a new worker, with a GPU more, starts
// at the lost one's address: the controller reconnects, loads the
// cluster's models there, puts its GPU back in service and the new GPU
// in; once the other worker is lost too, every request is served by the
// one that rejoined.
func TestLostWorker(t *testing.T) {
	for _, typ := range []string{"INFER5", "INFER4", "BASELINE"} {
		t.Run(typ, func(t *testing.T) {
			w0, p0 := startWorker(t, "-n", "1")
			w1, p1 := startWorker(t, "-n", "1")
			c, cport := startController(t, typ, []string{p0, p1})
			ms := loadAndServe(t, cport, filepath.Join(zoo, "resnet50_v2", "model"), 2)

			w1.Stop()
			c.waitFor(`^Lost connection to worker 1 `, 10*time.Second)
			// The two models took turns over the two GPUs, so worker 1 held
			// one; INFER5 and INFER4 may also have loaded the other there.
			c.waitFor(`^W1-GPU0 is down \(connection to its worker lost\); it gets no more work \(model copies lost: [12]\)$`, time.Second)
			c.waitFor(`^Reconnecting to worker 1 \(localhost:`+p1+`\) every 1s$`, time.Second)
			serve(t, ms, 10)

			again := start(t, nil, "worker_dummy", "-p", p1, "-n", "2")
			again.waitFor(`IO service thread listening on 0\.0\.0\.0:`+p1, 10*time.Second)
			c.waitFor(`^Reconnected to worker 1 \(localhost:`+p1+`\)$`, 10*time.Second)
			c.waitFor(`^Worker 1 \(localhost:`+p1+`\) rejoined with 2 GPUs$`, 10*time.Second)
			c.waitFor(`^W1-GPU0 is back in service \(\d+ pages, model copies resident: 0\)$`, time.Second)
			c.waitFor(`^W1-GPU1 joins the cluster \(\d+ pages, model copies resident: 0\)$`, time.Second)
			again.waitFor(`^Received A-\d+:GetWorkerState$`, time.Second)
			again.waitFor(`^Received A-\d+:LoadModelFromDisk model=0 .*/resnet50_v2/model$`, time.Second)

			w0.Stop()
			c.waitFor(`^W0-GPU0 is down \(connection to its worker lost\)`, 10*time.Second)
			serve(t, ms, 10)
		})
	}
}

// loadAndServe loads copies of the model at path through the controller
// on cport and serves each copy ten requests.
func loadAndServe(t *testing.T, cport, path string, copies int) []*client.Model {
	t.Helper()
	cl, err := client.Connect("localhost:" + cport)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	ms, err := cl.LoadRemoteModels(path, copies)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cl.AwaitReady(ctx, nil); err != nil {
		t.Fatal(err)
	}
	serve(t, ms, 10)
	return ms
}

// serve sends each model n requests in turns, one at a time, and fails
// the test unless each succeeds (at the latest on its fifth try, when it
// was answered too late to run: see inferInTime).
func serve(t *testing.T, ms []*client.Model, n int) {
	t.Helper()
	input := make([]byte, ms[0].InputSize())
	for i := range n {
		for j, m := range ms {
			if _, err := inferInTime(t, m, input); err != nil {
				t.Fatalf("request %d for model %d: %v", i, j, err)
			}
		}
	}
}

// TestWorkerRejoinsAfterANetworkFault cuts the connection between the
// controller and a worker (through a proxy here) while the worker process
// lives on: the controller reconnects through the proxy, finds the
// cluster's models still loaded there and the weights still resident,
// and puts the GPU back in service without loading anything.
func TestWorkerRejoinsAfterANetworkFault(t *testing.T) {
	w, wport := startWorker(t, "-n", "1")
	px := newProxy(t, "localhost:"+wport)
	c, cport := startController(t, "INFER5", []string{px.port})
	ms := loadAndServe(t, cport, filepath.Join(zoo, "resnet50_v2", "model"), 2)

	px.cut()
	c.waitFor(`^Lost connection to worker 0 `, 10*time.Second)
	c.waitFor(`^W0-GPU0 is down \(connection to its worker lost\); it gets no more work \(model copies lost: 2\)$`, time.Second)
	c.waitFor(`^Worker 0 \(localhost:`+px.port+`\) rejoined with 1 GPUs$`, 10*time.Second)
	c.waitFor(`^W0-GPU0 is back in service \(\d+ pages, model copies resident: 2\)$`, time.Second)
	if n := strings.Count(w.Output(), "LoadModelFromDisk model="); n != 1 {
		t.Errorf("the worker received %d LoadModelFromDisk, want the startup's one", n)
	}
	serve(t, ms, 10)
}

// proxy forwards TCP connections to an address until cut.
type proxy struct {
	port  string
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, to string) *proxy {
	l, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	_, port, _ := net.SplitHostPort(l.Addr().String())
	p := &proxy{port: port}
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", to)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

// cut closes every connection forwarded so far; new ones are accepted.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestWorkerLostDuringStartup stops one of two workers while the
// controller is starting up (the original ended there): the controller
// goes on without it, loads the client's model on the other, serves, and
// once a new worker answers at the lost one's address, its GPU joins the
// cluster; after the first worker is lost too, the one that joined serves.
func TestWorkerLostDuringStartup(t *testing.T) {
	for _, typ := range []string{"INFER5", "INFER4", "BASELINE"} {
		t.Run(typ, func(t *testing.T) {
			w0, p0 := startWorker(t, "-n", "1")
			w1, p1 := startWorker(t, "-n", "1")
			c, cport := startController(t, typ, []string{p0, p1})
			c.waitFor(`^\(Startup-3\) Awaiting LoadModel requests from clients$`, 10*time.Second)
			w1.Stop()
			c.waitFor(`^\(Startup\) Going on without worker 1; it may rejoin once startup is complete$`, 10*time.Second)
			ms := loadAndServe(t, cport, filepath.Join(zoo, "resnet50_v2", "model"), 2)
			c.waitFor(`^Reconnecting to worker 1 \(localhost:`+p1+`\) every 1s$`, time.Second)

			again := start(t, nil, "worker_dummy", "-p", p1, "-n", "1")
			again.waitFor(`IO service thread listening on 0\.0\.0\.0:`+p1, 10*time.Second)
			c.waitFor(`^Worker 1 \(localhost:`+p1+`\) rejoined with 1 GPUs$`, 10*time.Second)
			c.waitFor(`^W1-GPU0 joins the cluster \(\d+ pages, model copies resident: 0\)$`, time.Second)
			again.waitFor(`^Received A-\d+:LoadModelFromDisk model=0 .*/resnet50_v2/model$`, time.Second)

			w0.Stop()
			c.waitFor(`^W0-GPU0 is down \(connection to its worker lost\)`, 10*time.Second)
			serve(t, ms, 10)
		})
	}
}
