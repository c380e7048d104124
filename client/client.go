// Package client is the Go client library for Clockwork. A Client holds one
// connection to a controller; it loads models (during the controller's load
// stage), lists them, and sends inference requests for them. Every call is
// safe for concurrent use; requests are pipelined on the one connection and
// matched to responses by the frame's message id.
//
//	c, err := client.Connect("localhost:12346")
//	models, err := c.LoadRemoteModels("/zoo/resnet50_v2/model", 2)
//	// ... after the controller's load stage ends:
//	out, err := models[0].Infer(input)
//
// Until the controller has finished starting up it answers LS and Infer with
// status 5 (ErrInitializing); AwaitReady retries LS once a second, as the
// original client does.
package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/wire"
)

// Client is a connection to a Clockwork controller.
type Client struct {
	conn   *wire.Conn
	userID int32
	log    io.Writer
	sum    *Summary

	nextMsg atomic.Uint64 // frame message ids, for RPC matching
	nextReq atomic.Int32  // user_request_id seed, shared by all calls

	mu      sync.Mutex
	pending map[uint64]func(clientapi.Response, error)
	err     error // set once the connection failed
	models  map[uint32]*Model

	done chan struct{}
}

// Option configures Connect.
type Option func(*Client)

// WithLog makes the client print the original client's connection lines
// ("Connecting to clockwork @ …", "Connection established") to w.
func WithLog(w io.Writer) Option { return func(c *Client) { c.log = w } }

// WithSummary records every inference in s (see Summary).
func WithSummary(s *Summary) Option { return func(c *Client) { c.sum = s } }

// WithUserID sets the user id sent with requests (default 0); models
// inherit it.
func WithUserID(id int32) Option { return func(c *Client) { c.userID = id } }

// Connect dials a controller at addr (host:port).
func Connect(addr string, opts ...Option) (*Client, error) {
	c := &Client{
		pending: make(map[uint64]func(clientapi.Response, error)),
		models:  make(map[uint32]*Model),
		done:    make(chan struct{}),
	}
	for _, o := range opts {
		o(c)
	}
	if c.log != nil {
		fmt.Fprintf(c.log, "Connecting to clockwork @ %s\n", addr)
	}
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("client: connecting to %s: %w", addr, err)
	}
	c.conn = wire.NewConn(nc)
	if c.log != nil {
		fmt.Fprintln(c.log, "Connection established")
	}
	go c.readLoop()
	return c, nil
}

// Close closes the connection; outstanding calls fail with ErrClosed.
func (c *Client) Close() error {
	err := c.conn.Close()
	<-c.done
	return err
}

// ErrClosed is the error of calls on a closed or failed connection.
var ErrClosed = errors.New("client: connection closed")

func (c *Client) readLoop() {
	defer close(c.done)
	for {
		msg, err := c.conn.Receive()
		if err != nil {
			c.fail(err)
			return
		}
		rsp, err := clientapi.DecodeResponse(msg)
		if err != nil {
			// A response we cannot parse leaves its caller waiting forever;
			// the stream may be corrupt, so give up on the connection.
			c.fail(err)
			return
		}
		c.mu.Lock()
		cb := c.pending[msg.ID]
		delete(c.pending, msg.ID)
		c.mu.Unlock()
		if cb != nil {
			cb(rsp, nil)
		}
	}
}

func (c *Client) fail(err error) {
	c.conn.Close()
	c.mu.Lock()
	if c.err == nil {
		if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
			c.err = ErrClosed
		} else {
			c.err = fmt.Errorf("%w: %v", ErrClosed, err)
		}
	}
	pending := c.pending
	c.pending = make(map[uint64]func(clientapi.Response, error))
	cerr := c.err
	c.mu.Unlock()
	for _, cb := range pending {
		cb(nil, cerr)
	}
}

// call sends req and arranges for cb to receive its response.
func (c *Client) call(req clientapi.Request, cb func(clientapi.Response, error)) {
	id := c.nextMsg.Add(1)
	msg, err := clientapi.EncodeRequest(req, id)
	if err != nil {
		cb(nil, err)
		return
	}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		cb(nil, err)
		return
	}
	c.pending[id] = cb
	c.mu.Unlock()
	if err := c.conn.Send(msg); err != nil {
		c.mu.Lock()
		_, mine := c.pending[id]
		delete(c.pending, id)
		c.mu.Unlock()
		if mine {
			cb(nil, ErrClosed)
		}
	}
}

// callSync is call, waiting for the response.
func (c *Client) callSync(req clientapi.Request) (clientapi.Response, error) {
	type reply struct {
		rsp clientapi.Response
		err error
	}
	ch := make(chan reply, 1)
	c.call(req, func(r clientapi.Response, err error) { ch <- reply{r, err} })
	r := <-ch
	if r.err != nil {
		return nil, r.err
	}
	if h := r.rsp.Head(); h.Status != clientapi.Success {
		return r.rsp, &StatusError{Status: h.Status, Message: h.Message}
	}
	return r.rsp, nil
}

func (c *Client) header() clientapi.RequestHeader {
	return clientapi.RequestHeader{UserID: c.userID, UserRequestID: c.nextReq.Add(1) - 1}
}

// LoadRemoteModel loads one instance of the model at path (a path prefix on
// the workers, e.g. /zoo/resnet50_v2/model).
func (c *Client) LoadRemoteModel(path string) (*Model, error) {
	ms, err := c.LoadRemoteModels(path, 1)
	if err != nil {
		return nil, err
	}
	return ms[0], nil
}

// LoadRemoteModels loads copies instances of the model at path; they get
// consecutive model ids. The controller accepts this only during its load
// stage, before the first LS or Infer is answered.
func (c *Client) LoadRemoteModels(path string, copies int) ([]*Model, error) {
	if copies < 1 || copies > math.MaxInt32 {
		return nil, fmt.Errorf("client: copies must be from 1 to %d, not %d", math.MaxInt32, copies)
	}
	rsp, err := c.callSync(&clientapi.LoadModelRequest{RequestHeader: c.header(), Path: path, Copies: int32(copies)})
	if err != nil {
		return nil, err
	}
	r := rsp.(*clientapi.LoadModelResponse)
	models := make([]*Model, 0, r.CopiesCreated)
	for i := int32(0); i < r.CopiesCreated; i++ {
		models = append(models, c.model(r.ModelID+uint32(i), path, r.InputSize, r.OutputSize))
	}
	return models, nil
}

// LS lists every model the controller knows, in ascending id order.
func (c *Client) LS() ([]*Model, error) {
	rsp, err := c.callSync(&clientapi.LSRequest{RequestHeader: c.header()})
	if err != nil {
		return nil, err
	}
	r := rsp.(*clientapi.LSResponse)
	models := make([]*Model, 0, len(r.Models))
	for _, m := range r.Models {
		models = append(models, c.model(m.ModelID, m.Path, m.InputSize, m.OutputSize))
	}
	return models, nil
}

// GetModel returns the model with the given id, asking the controller (LS)
// if it is not known yet.
func (c *Client) GetModel(id uint32) (*Model, error) {
	c.mu.Lock()
	m := c.models[id]
	c.mu.Unlock()
	if m != nil {
		return m, nil
	}
	if _, err := c.LS(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	m = c.models[id]
	c.mu.Unlock()
	if m == nil {
		return nil, fmt.Errorf("client: model %d does not exist", id)
	}
	return m, nil
}

// AwaitReady calls LS until the controller has finished starting up,
// printing the original's retry line to log (if non-nil) and waiting one
// second between tries. It returns the models LS reported.
func (c *Client) AwaitReady(ctx context.Context, log io.Writer) ([]*Model, error) {
	for {
		models, err := c.LS()
		if !IsInitializing(err) {
			return models, err
		}
		if log != nil {
			fmt.Fprintf(log, "Clockwork initializing, retrying %s\n", err.(*StatusError).Message)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// model returns the cached Model for id, creating it.
func (c *Client) model(id uint32, path string, in, out uint64) *Model {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.models[id]; m != nil {
		return m
	}
	m := &Model{c: c, id: id, path: path, inputSize: in, outputSize: out}
	m.noInputs.Store(os.Getenv("CLOCKWORK_DISABLE_INPUTS") == "1")
	m.userID.Store(c.userID)
	c.models[id] = m
	return m
}
