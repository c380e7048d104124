package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/pierrec/lz4/v4"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/lz4size"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/wire"
)

// clientServer accepts client connections and turns their requests into
// events for the controller's loop.
type clientServer struct {
	l      net.Listener
	events chan<- event
	log    io.Writer // the console
	gate   *wire.Gate
	mu     sync.Mutex
	conns  map[*clientConn]struct{}
	// inputSizes is each model's input size once the scheduler runs
	// (nil before): the readers check inputs against it.
	inputSizes atomic.Pointer[map[int]uint64]
	// ls is the answer to LS once the scheduler runs (nil before), with
	// which the readers answer LS themselves: the models never change
	// after the startup, and a client sending LS after LS (a copy of
	// 65,536 models' list each) would otherwise keep the loop from every
	// other client's requests.
	ls atomic.Pointer[clientapi.LSResponse]
}

// clientSendLimit is the most the controller queues for a client that
// does not read its responses; past it, that connection is closed. Before
// that, past clientReadPause, the controller stops reading the client's
// requests until it reads (a flood of LS requests never read from took
// the controller's loop and 829 MB).
//
// clientHoldLimit bounds what the controller keeps of one client's
// requests until it answers them (their bytes and requestOverhead each):
// past it, it reads no more from that client until it answers some.
// Without it a client's requests with far deadlines (a huge slo_factor,
// or held during startup) took 4 GB in a minute.
const (
	clientSendLimit = 256 << 20
	clientReadPause = 16 << 20
	clientHoldLimit = 256 << 20
	requestOverhead = 512
)

type clientConn struct {
	conn *wire.Conn
}

func newClientServer(l net.Listener, events chan<- event, gate *wire.Gate, log io.Writer) *clientServer {
	return &clientServer{l: l, events: events, gate: gate, log: log, conns: make(map[*clientConn]struct{})}
}

// serve accepts clients until the listener is closed; an error that does
// not pass ends the controller (evClientsDown) rather than leave it
// running deaf.
func (s *clientServer) serve(ctx context.Context) {
	for {
		nc, err := wire.Accept(s.l, s.log)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && ctx.Err() == nil {
				s.events <- event{kind: evClientsDown, err: err}
			}
			return
		}
		if !s.gate.Admit(nc) {
			continue
		}
		c := &clientConn{conn: wire.NewConn(nc, wire.WithSendLimit(clientSendLimit), wire.WithReceivePause(clientReadPause),
			wire.WithHoldLimit(clientHoldLimit))}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		go s.read(ctx, c)
	}
}

func (s *clientServer) close() {
	s.l.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.conn.Close()
	}
}

func (s *clientServer) read(ctx context.Context, c *clientConn) {
	defer func() {
		c.conn.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.gate.Leave()
		// Its requests that have not run yet will not (ClientGone).
		select {
		case s.events <- event{kind: evClientGone, client: c}:
		case <-ctx.Done():
		}
	}()
	for {
		msg, err := c.conn.Receive()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				slog.Warn("closing client connection", "peer", c.conn.RemoteAddr(), "err", err)
			}
			return
		}
		req, err := clientapi.DecodeRequest(msg)
		if err != nil {
			// Past a frame we cannot parse the stream is not trustworthy.
			slog.Warn("closing client connection after a bad request", "peer", c.conn.RemoteAddr(), "err", err)
			return
		}
		if ls := s.ls.Load(); ls != nil {
			if req, ok := req.(*clientapi.LSRequest); ok {
				c.send(lsAnswer(ls, req), msg.ID)
				continue
			}
		}
		ev := event{kind: evClientRequest, client: c, msgID: msg.ID, req: req,
			held: int64(len(msg.Header)+msg.BodyLen()) + requestOverhead}
		c.conn.Hold(ev.held) // until its answer (replier, respondInfer)
		if sizes := s.inputSizes.Load(); sizes != nil {
			ev.inputChecked = true
			if in, ok := req.(*clientapi.InferRequest); ok {
				ev.badInput = badInput(*sizes, int(in.ModelID), in.Input)
			}
		}
		select {
		case s.events <- ev:
		case <-ctx.Done():
			return
		}
	}
}

// replier is the reply to ev's request: its response sent, and what the
// request held given up.
func (c *clientConn) replier(ev event) reply {
	return func(rsp clientapi.Response) {
		c.send(rsp, ev.msgID)
		c.conn.Unhold(ev.held)
	}
}

// send writes a response to the client; a failure only means the client
// has gone.
func (c *clientConn) send(rsp clientapi.Response, msgID uint64) {
	msg, err := clientapi.EncodeResponse(rsp, msgID)
	if err != nil {
		slog.Error("encoding a response", "err", err)
		return
	}
	c.conn.Send(msg)
}

// clientRef routes an inference response (scheduler.Request.Tag).
type clientRef struct {
	conn  *clientConn
	msgID uint64
	held  int64 // event.held
}

// clientRequest handles a client request at now.
func (c *Controller) clientRequest(now int64, ev event) {
	r := ev.client.replier(ev)
	if c.sched == nil {
		c.startup.request(now, ev.req, r)
		return
	}
	h := ev.req.Head()
	switch req := ev.req.(type) {
	case *clientapi.InferRequest:
		sr := &scheduler.Request{
			UserRequestID: h.UserRequestID, UserID: h.UserID, ModelID: int(req.ModelID),
			BatchSize: req.BatchSize, SLOFactor: req.SLOFactor, Input: req.Input, Arrival: now,
			Tag: clientRef{conn: ev.client, msgID: ev.msgID, held: ev.held},
		}
		msg := ev.badInput
		if !ev.inputChecked { // read before the scheduler started
			msg = badInput(c.inputSizes, sr.ModelID, sr.Input)
		}
		if msg != "" {
			c.answer(&scheduler.Response{Req: sr, Status: clientapi.StatusInvalidRequest, Message: msg, Departure: now})
			return
		}
		c.sched.Infer(now, sr)
	case *clientapi.LSRequest: // read before the scheduler started
		r(lsAnswer(c.clients.ls.Load(), req))
	case *clientapi.LoadModelRequest:
		r(&clientapi.LoadModelResponse{ResponseHeader: errHeader(h, clientapi.StatusInvalidRequest, "Controller startup phase has completed")})
	default:
		r(refuseWeights(ev.req, schedulerWeights))
	}
}

// refuseWeights answers req, an Evict or UploadModel request, with status
// 6: not supported by who. (The original crashed on both.)
func refuseWeights(req clientapi.Request, who string) clientapi.Response {
	name := "UploadModel"
	if _, ok := req.(*clientapi.EvictRequest); ok {
		name = "Evict"
	}
	return bounceResponse(req, errHeader(req.Head(), clientapi.StatusInvalidRequest, name+" is not supported by "+who))
}

// schedulerWeights is who refuses Evict and UploadModel in a controller
// with a scheduler, before its startup is over too.
const schedulerWeights = "this controller: the scheduler manages weights"

// badInput says why input cannot be model's, or "". Inputs go to workers
// as LZ4 blocks, each of which must decompress to the model's input size
// (or be empty), and a batch's inputs go to the worker in one action: one
// that does not decompress failed the whole batch with status 78, the
// other clients' requests with it, and one of hundreds of MB took the
// batch's frame past the worker's limit, which then dropped the connection
// and every action on it. Walking the block costs about 0.1 ms for a
// ResNet input (lz4size's benchmark), so the connections' readers do it,
// in parallel, rather than the controller's loop.
func badInput(sizes map[int]uint64, model int, input []byte) string {
	size, ok := sizes[model]
	if !ok {
		return ""
	}
	return badInputOf(size, model, input)
}

// badInputOf is badInput for a model whose inputs are size bytes.
func badInputOf(size uint64, model int, input []byte) string {
	if len(input) == 0 {
		return ""
	}
	if bound := lz4.CompressBlockBound(int(size)); len(input) > bound {
		return fmt.Sprintf("Input of %d bytes for model %d, whose inputs are %d bytes (LZ4 blocks of at most %d)",
			len(input), model, size, bound)
	}
	if n, err := lz4size.Decoded(input, int(size)); err != nil || n != int(size) {
		why := fmt.Sprintf("decompresses to %d bytes", n)
		if err != nil {
			why = err.Error()
		}
		return fmt.Sprintf("Input of %d bytes for model %d does not decompress to its %d bytes (%s)", len(input), model, size, why)
	}
	return ""
}

// answer sends a response decided by the controller or the scheduler and
// records it. The request then lets go of its input and its client: a
// scheduler may keep an answered request for a while (INFER5 leaves a
// timed-out one in its model's queue until the queue drains past it, and
// allocates requests 256 at a time), and with a long queue the inputs it
// kept grew by about 7 MB a second.
func (c *Controller) answer(r *scheduler.Response) {
	c.respondInfer(r)
	if c.opts.Telemetry != nil {
		c.opts.Telemetry.Response(r)
	}
	r.Req.Input, r.Req.Tag = nil, nil
}

// respondInfer sends the scheduler's answer to an inference request.
func (c *Controller) respondInfer(r *scheduler.Response) {
	ref, ok := r.Req.Tag.(clientRef)
	if !ok {
		return
	}
	ref.conn.send(&clientapi.InferResponse{
		ResponseHeader: clientapi.ResponseHeader{UserRequestID: r.Req.UserRequestID, Status: r.Status, Message: r.Message},
		ModelID:        uint32(r.Req.ModelID),
		BatchSize:      r.Req.BatchSize,
		Output:         r.Output,
	}, ref.msgID)
	ref.conn.conn.Unhold(ref.held)
}

// lsAnswer is req's answer from ls, lsResponse's.
func lsAnswer(ls *clientapi.LSResponse, req *clientapi.LSRequest) *clientapi.LSResponse {
	rsp := *ls
	rsp.UserRequestID = req.UserRequestID
	return &rsp
}

// lsResponse lists every model the workers hold, each id once, ascending,
// encoded once for all the answers copied from it.
func lsResponse(s *scheduler.State) *clientapi.LSResponse {
	seen := map[int]bool{}
	var ms []clientapi.ModelInfo
	for _, w := range s.Workers {
		for _, m := range w.Models {
			if !seen[m.ID] {
				seen[m.ID] = true
				ms = append(ms, clientapi.ModelInfo{ModelID: uint32(m.ID), Path: m.Path, InputSize: m.InputSize, OutputSize: m.OutputSize})
			}
		}
	}
	sortModels(ms)
	ls := &clientapi.LSResponse{Models: ms}
	if err := ls.Freeze(); err != nil { // each answer then encodes the list
		slog.Error("encoding the answer to LS", "err", err)
	}
	return ls
}
