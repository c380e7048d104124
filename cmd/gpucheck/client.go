package main

import (
	"fmt"
	"math"
	"net"
	"sync"
	"time"

	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// client speaks the worker protocol as a controller does: actions out,
// results back, matched by action id.
type client struct {
	conn *wire.Conn

	mu      sync.Mutex
	next    int32
	waiting map[int32]chan reply
	err     error
}

// reply is a result and when it arrived (clock.Now, the clock the
// worker's timestamps are converted into).
type reply struct {
	r   workerapi.Result
	at  int64
	msg *wire.Message // the result's; its body (an InferResult's Output) is from the wire's pools
}

// How long to wait for a result: a model load chooses algorithms and
// times every batch size; anything else takes milliseconds.
const (
	loadTimeout   = 3 * time.Minute
	actionTimeout = 30 * time.Second
)

func dial(addr string) (*client, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	// Result bodies come from the wire's pools (the harness's own
	// garbage collections would show in the end-to-end tails): the
	// timed paths give them back (release), the others leave them to
	// the collector.
	// Actions are written by the caller of do, which waits anyway.
	c := &client{conn: wire.NewConn(nc, wire.WithBodyPool(), wire.WithDirectWrites(math.MaxInt)), waiting: map[int32]chan reply{}}
	go c.read()
	return c, nil
}

func (c *client) read() {
	for {
		msg, err := c.conn.Receive()
		at := clock.Now()
		if err == nil {
			var r workerapi.Result
			if r, err = workerapi.DecodeResult(msg); err == nil {
				c.mu.Lock()
				ch := c.waiting[r.ActionID()]
				delete(c.waiting, r.ActionID())
				c.mu.Unlock()
				if ch != nil {
					ch <- reply{r, at, msg}
				}
				continue
			}
		}
		c.mu.Lock()
		c.err = fmt.Errorf("connection to the worker: %w", err)
		for id, ch := range c.waiting {
			close(ch)
			delete(c.waiting, id)
		}
		c.mu.Unlock()
		return
	}
}

// do sends a and waits for its result; it returns the result and the time
// from the send to its arrival. An ErrorResult is returned as an error
// (*workerError).
func (c *client) do(a workerapi.Action) (workerapi.Result, time.Duration, error) {
	rep, sent, err := c.doStamped(a)
	return rep.r, time.Duration(rep.at - sent), err
}

// release gives the reply's body back to the wire's pools: nothing may
// read the result's Output after it.
func (r reply) release() {
	if r.msg != nil {
		r.msg.Release()
	}
}

// doStamped is do with the reply (its arrival time at) and the clock.Now
// time of the send (0 if a could not be sent).
func (c *client) doStamped(a workerapi.Action) (rep reply, sent int64, err error) {
	c.mu.Lock()
	if c.err != nil {
		defer c.mu.Unlock()
		return reply{}, 0, c.err
	}
	c.next++
	id := c.next
	ch := make(chan reply, 1)
	c.waiting[id] = ch
	c.mu.Unlock()
	switch a := a.(type) {
	case *workerapi.LoadModelFromDisk:
		a.ID = id
	case *workerapi.LoadWeights:
		a.ID = id
	case *workerapi.EvictWeights:
		a.ID = id
	case *workerapi.Infer:
		a.ID = id
	case *workerapi.GetWorkerState:
		a.ID = id
	}
	msg, err := workerapi.EncodeAction(a)
	if err != nil {
		return reply{}, 0, err
	}
	timeout := actionTimeout
	if _, ok := a.(*workerapi.LoadModelFromDisk); ok {
		timeout = loadTimeout
	}
	sent = clock.Now()
	if err := c.conn.Send(msg); err != nil {
		return reply{}, 0, err
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r, ok := <-ch:
		rep = r
		if !ok {
			c.mu.Lock()
			defer c.mu.Unlock()
			return reply{}, 0, c.err
		}
		if e, isErr := rep.r.(*workerapi.ErrorResult); isErr {
			return reply{at: rep.at}, sent, &workerError{e.Code, e.Message}
		}
		return rep, sent, nil
	case <-timer.C:
		return reply{}, 0, fmt.Errorf("no result for %T after %v", a, timeout)
	}
}

func (c *client) close() { c.conn.Close() }

type workerError struct {
	code int32
	msg  string
}

func (e *workerError) Error() string { return fmt.Sprintf("worker error %d: %s", e.code, e.msg) }
