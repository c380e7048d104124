package controller

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/telemetry"
	"github.com/clockwork-go/clockwork/internal/wire"
)

type closeCounter struct{ closed int }

func (c *closeCounter) Response(*scheduler.Response)     {}
func (c *closeCounter) Actions([]telemetry.ActionRecord) {}
func (c *closeCounter) Tick(int64, wire.Stats) int64     { return 0 }
func (c *closeCounter) Close() error                     { c.closed++; return nil }

// TestRunClosesTelemetry: Run closes the telemetry once whatever ends it,
// a worker it cannot reach as much as ctx, so that what was measured
// reaches the logs.
func TestRunClosesTelemetry(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()
	tel := &closeCounter{}
	err = Run(context.Background(), Options{Workers: []string{gone}, ClientAddr: "127.0.0.1:0", Console: io.Discard,
		Telemetry: tel, ConnectTimeout: 100 * time.Millisecond})
	if err == nil || tel.closed != 1 {
		t.Errorf("unreachable worker: error %v, telemetry closed %d times", err, tel.closed)
	}
}

// TestAnsweredRequestLetsGoOfItsInput: a scheduler may keep an answered
// request (INFER5 leaves a timed-out one in its model's queue until the
// queue drains past it), so answering it drops its input and its client,
// which would otherwise stay in memory for as long as the queue is long.
func TestAnsweredRequestLetsGoOfItsInput(t *testing.T) {
	c := &Controller{}
	r := &scheduler.Response{Req: &scheduler.Request{Input: make([]byte, 602112), Tag: "a client"}, Status: 4}
	c.answer(r)
	if r.Req.Input != nil || r.Req.Tag != nil {
		t.Errorf("the answered request still holds %d bytes of input and its tag %v", len(r.Req.Input), r.Req.Tag)
	}
}
