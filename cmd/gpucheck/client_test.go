package main

import (
	"errors"
	"net"
	"slices"
	"testing"

	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// fakeWorker answers every Infer with an InferResult whose output is its
// action id, holding back `hold` results and answering them in reverse
// order; the Infer of batch size 0 gets an ErrorResult, and a stale
// result for action 1000 goes out before the first answer.
func fakeWorker(t *testing.T, hold int) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		c := wire.NewConn(nc)
		defer c.Close()
		send := func(r workerapi.Result) {
			if m, err := workerapi.EncodeResult(r); err == nil {
				c.Send(m)
			}
		}
		send(&workerapi.InferResult{ID: 1000, Output: []byte{0}})
		var held []int32
		for {
			m, err := c.Receive()
			if err != nil {
				return
			}
			a, err := workerapi.DecodeAction(m)
			if err != nil {
				return
			}
			in := a.(*workerapi.Infer)
			if in.BatchSize == 0 {
				send(&workerapi.ErrorResult{ID: in.ID, Code: 73, Message: "batch size 0"})
				continue
			}
			held = append(held, in.ID)
			if len(held) < hold {
				continue
			}
			for _, id := range slices.Backward(held) {
				send(&workerapi.InferResult{ID: id, Output: []byte{byte(id)}})
			}
			held = held[:0]
		}
	}()
	return l.Addr().String()
}

// dialFake connects a client to a fakeWorker that holds back hold
// results; the client is closed when the test ends.
func dialFake(t *testing.T, hold int) *client {
	t.Helper()
	c, err := dial(fakeWorker(t, hold), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

func TestClientOneAtATime(t *testing.T) {
	c := dialFake(t, 1)
	for want := int32(1); want <= 3; want++ {
		rep, sent, err := c.doStamped(&workerapi.Infer{BatchSize: 1, Input: []byte{1}})
		if err != nil {
			t.Fatal(err)
		}
		r := rep.r.(*workerapi.InferResult)
		if r.ID != want || r.Output[0] != byte(want) || sent == 0 || rep.at < sent {
			t.Fatalf("result %+v sent %d at %d, want action %d", r, sent, rep.at, want)
		}
		// Written whole between the send and the result's arrival (or
		// not known, if the writer's callback lost the race).
		if rep.written != 0 && (rep.written < sent || rep.written > rep.at) {
			t.Errorf("written at %d, outside [%d, %d]", rep.written, sent, rep.at)
		}
		rep.release()
	}
	var we *workerError
	if _, _, err := c.doStamped(&workerapi.Infer{BatchSize: 0}); !errors.As(err, &we) || we.code != 73 {
		t.Fatalf("ErrorResult: %v", err)
	}
}

func TestClientPipeline(t *testing.T) {
	c := dialFake(t, 3)
	// The stale result for action 1000 comes first and is passed over;
	// then the worker answers actions 3, 2, 1, and so on.
	p := &pipeline{c: c, k: 3, infer: func() *workerapi.Infer { return &workerapi.Infer{BatchSize: 1, Input: []byte{1}} }}
	var got []int32
	for range 6 {
		x, err := p.next()
		if err != nil {
			t.Fatal(err)
		}
		if r := x.res; x.sent == 0 || x.arrived <= x.sent || r.Output[0] != byte(r.ID) {
			t.Fatalf("result %+v sent %d arrived %d", r, x.sent, x.arrived)
		}
		if x.written != 0 && (x.written < x.sent || x.written > x.arrived) {
			t.Errorf("written at %d, outside [%d, %d]", x.written, x.sent, x.arrived)
		}
		if x.a == nil || x.a.ID != x.res.ID {
			t.Fatalf("result of action %d returned with %+v", x.res.ID, x.a)
		}
		got = append(got, x.res.ID)
		x.release()
	}
	// Actions 7 and 8 are outstanding; a ninth completes the worker's
	// batch, and drain reads all three.
	if err := p.send(); err != nil {
		t.Fatal(err)
	}
	p.drain()
	if len(p.out) != 0 {
		t.Errorf("outstanding after drain: %v", p.out)
	}
	if len(c.written) != 0 {
		t.Errorf("write stamps kept after drain: %v", c.written)
	}
	if want := []int32{3, 2, 1, 6, 5, 4}; !slices.Equal(got, want) {
		t.Errorf("results of actions %v, want %v", got, want)
	}
}

func TestClientPipelineError(t *testing.T) {
	c := dialFake(t, 1)
	p := &pipeline{c: c, k: 1, infer: func() *workerapi.Infer { return &workerapi.Infer{BatchSize: 0} }}
	var we *workerError
	if _, err := p.next(); !errors.As(err, &we) || we.code != 73 {
		t.Fatalf("ErrorResult: %v", err)
	}
	if len(p.out) != 0 {
		t.Errorf("the failed action is still outstanding: %v", p.out)
	}
}
