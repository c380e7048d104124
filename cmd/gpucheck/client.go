package main

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// client speaks the worker protocol as a controller does, one action at a
// time: the caller of do writes the action and reads until its result
// arrives, so that no goroutine hand-off (a wake-up, tens of
// microseconds) lies between the worker's result and the time taken.
type client struct {
	conn     *wire.Conn
	next     int32
	err      error       // the connection is unusable
	timedOut atomic.Bool // set by the timer that closes the connection

	mu sync.Mutex
	// written holds when each Infer's message was written whole, until its
	// reply takes it. A writer that reports after the reply was taken (a
	// rare race) leaves its entry behind: one int64 each, so it stays.
	written map[int32]int64
}

// reply is a result and when it arrived (clock.Now, the clock the
// worker's timestamps are converted into).
type reply struct {
	r       workerapi.Result
	at      int64
	written int64         // when the action's message was written whole (Infers; 0 if not known)
	msg     *wire.Message // the result's; its body (an InferResult's Output) is from the wire's pools
}

// How long to wait for a result: a model load chooses algorithms and
// times every batch size; anything else takes milliseconds.
const (
	loadTimeout   = 3 * time.Minute
	actionTimeout = 30 * time.Second
)

// minSpinProcs is the fewest processors with which dial's reads poll.
const minSpinProcs = 8

// dial connects to the worker at addr. With spin > 0, reads poll the
// socket for that long before parking (wire.WithSpinReads), where there
// are minSpinProcs processors or more.
func dial(addr string, spin time.Duration) (*client, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	// Result bodies come from the wire's pools (the harness's own
	// garbage collections would show in the end-to-end tails): the timed
	// paths give them back (release), the others leave them to the
	// collector. Actions are written by the caller of do, which waits
	// anyway.
	opts := []wire.Option{wire.WithBodyPool(), wire.WithDirectWrites(math.MaxInt)}
	// A polling reader holds a processor: on a small machine it would
	// take one from the worker.
	if spin > 0 && goruntime.GOMAXPROCS(0) >= minSpinProcs {
		opts = append(opts, wire.WithSpinReads(spin))
	}
	c := &client{conn: wire.NewConn(nc, opts...)}
	if v := os.Getenv(wire.EnvSocketBuffer); v != "" {
		// Say what the kernel gave, since a limit can leave it out.
		snd, rcv, err := wire.SocketBuffers(nc)
		fmt.Printf("gpucheck: %s=%s: this end's buffers %d (send) and %d (receive) bytes, as the kernel counts them%s\n",
			wire.EnvSocketBuffer, v, snd, rcv, errSuffix(err))
	}
	return c, nil
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return " (" + err.Error() + ")"
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
// time of the send (0 if a could not be sent). A result that does not
// come within the action's timeout closes the connection.
func (c *client) doStamped(a workerapi.Action) (rep reply, sent int64, err error) {
	id, sent, err := c.send(a)
	if err != nil {
		return reply{}, 0, err
	}
	rep, err = c.await(timeoutOf(a), fmt.Sprintf("%T", a), func(got int32) bool { return got == id })
	written := c.takeWritten(id)
	if err != nil {
		return reply{at: rep.at}, sent, err
	}
	rep.written = written
	return rep, sent, nil
}

// await reads results until one for an action awaiting says it waits for
// comes, passing over others (earlier actions', given up on). An
// ErrorResult is returned as an error (*workerError) with its arrival
// time.
func (c *client) await(timeout time.Duration, what string, awaiting func(id int32) bool) (reply, error) {
	for {
		rep, err := c.receive(timeout, what)
		if err != nil {
			return reply{}, err
		}
		if !awaiting(rep.r.ActionID()) {
			rep.release()
			continue
		}
		if e, isErr := rep.r.(*workerapi.ErrorResult); isErr {
			rep.release()
			return reply{r: rep.r, at: rep.at}, &workerError{e.Code, e.Message}
		}
		return rep, nil
	}
}

// timeoutOf is how long to wait for a's result.
func timeoutOf(a workerapi.Action) time.Duration {
	if _, ok := a.(*workerapi.LoadModelFromDisk); ok {
		return loadTimeout
	}
	return actionTimeout
}

// send numbers a, writes it and returns its id and the clock.Now time it
// was sent; receive reads the results (in whatever order they come).
func (c *client) send(a workerapi.Action) (id int32, sent int64, err error) {
	if c.err != nil {
		return 0, 0, c.err
	}
	c.next++
	id = c.next
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
		return 0, 0, err
	}
	if _, ok := a.(*workerapi.Infer); ok {
		// The write's end splits the way to the worker into gpucheck's
		// write and the worker's read.
		msg.Sent = func(err error) {
			if err == nil {
				c.noteWritten(id, clock.Now())
			}
		}
	}
	sent = clock.Now()
	if err := c.conn.Send(msg); err != nil {
		return 0, 0, c.fail(err, fmt.Sprintf("sending %T", a), 0)
	}
	return id, sent, nil
}

func (c *client) noteWritten(id int32, at int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.written == nil {
		c.written = make(map[int32]int64)
	}
	c.written[id] = at
}

// takeWritten returns when Infer id's message was written whole, 0 if
// that is not known (yet).
func (c *client) takeWritten(id int32) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	at := c.written[id]
	delete(c.written, id)
	return at
}

// receive reads the next result; if none comes within timeout, the
// connection is closed. what names the wait for errors.
func (c *client) receive(timeout time.Duration, what string) (reply, error) {
	if c.err != nil {
		return reply{}, c.err
	}
	timer := time.AfterFunc(timeout, func() {
		c.timedOut.Store(true)
		c.conn.Close()
	})
	defer timer.Stop()
	m, err := c.conn.Receive()
	at := clock.Now()
	if err != nil {
		return reply{}, c.fail(err, what, timeout)
	}
	r, err := workerapi.DecodeResult(m)
	if err != nil {
		return reply{}, c.fail(err, what, timeout)
	}
	return reply{r: r, at: at, msg: m}, nil
}

// fail marks the connection unusable after err while waiting for what.
func (c *client) fail(err error, what string, timeout time.Duration) error {
	if c.timedOut.Load() {
		err = fmt.Errorf("no result for %s after %v", what, timeout)
	} else if !errors.Is(err, wire.ErrClosed) {
		err = fmt.Errorf("connection to the worker: %w", err)
	}
	c.err = err
	c.conn.Close()
	return err
}

func (c *client) close() { c.conn.Close() }

type workerError struct {
	code int32
	msg  string
}

func (e *workerError) Error() string { return fmt.Sprintf("worker error %d: %s", e.code, e.msg) }
