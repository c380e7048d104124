package main

import (
	"fmt"
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
	r  workerapi.Result
	at int64
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
	c := &client{conn: wire.NewConn(nc), waiting: map[int32]chan reply{}}
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
					ch <- reply{r, at}
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
	r, sent, at, err := c.doStamped(a)
	return r, time.Duration(at - sent), err
}

// doStamped is do with the clock.Now times of the send and of the result's
// arrival (both 0 if a could not be sent).
func (c *client) doStamped(a workerapi.Action) (r workerapi.Result, sent, at int64, err error) {
	c.mu.Lock()
	if c.err != nil {
		defer c.mu.Unlock()
		return nil, 0, 0, c.err
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
		return nil, 0, 0, err
	}
	timeout := actionTimeout
	if _, ok := a.(*workerapi.LoadModelFromDisk); ok {
		timeout = loadTimeout
	}
	sent = clock.Now()
	if err := c.conn.Send(msg); err != nil {
		return nil, 0, 0, err
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case rep, ok := <-ch:
		if !ok {
			c.mu.Lock()
			defer c.mu.Unlock()
			return nil, 0, 0, c.err
		}
		if e, isErr := rep.r.(*workerapi.ErrorResult); isErr {
			return nil, sent, rep.at, &workerError{e.Code, e.Message}
		}
		return rep.r, sent, rep.at, nil
	case <-timer.C:
		return nil, 0, 0, fmt.Errorf("no result for %T after %v", a, timeout)
	}
}

func (c *client) close() { c.conn.Close() }

type workerError struct {
	code int32
	msg  string
}

func (e *workerError) Error() string { return fmt.Sprintf("worker error %d: %s", e.code, e.msg) }
