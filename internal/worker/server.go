package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// StatusInterval is the period of each connection's status line.
const StatusInterval = 10 * time.Second

// Server is the worker's network side and the driver of its Engine: it
// accepts controller connections, converts action windows into the worker
// clock, feeds the engine, runs the runtime operations it decides, and
// sends each result back on the connection its action came from, converted
// into that controller's clock. When a connection closes, its actions
// still queued are cancelled (Engine.Cancel).
type Server struct {
	rt      runtime.Runtime
	engine  *Engine
	out     io.Writer // console
	now     func() int64
	instant bool
	status  time.Duration
	// spinReads is Options.SpinReads.
	spinReads time.Duration

	actions     chan incoming
	completions chan Completion
	// idle runners take operations from ops (runOff); running counts the
	// operations being run.
	ops     chan *Op
	running sync.WaitGroup
	// sending counts the results sent off the engine's goroutine (send).
	sending sync.WaitGroup

	mu    sync.Mutex
	conns map[*peer]struct{}
	gate  *wire.Gate

	metrics *metrics // nil unless Options.Metrics
	// lines prints the console lines about results off the engine's
	// goroutine, while Serve runs.
	lines *resultLines

	firstInfer atomic.Bool
}

// incoming is an action for the engine, or the news that a connection
// closed (action nil), which follows every action read from it.
type incoming struct {
	action   workerapi.Action
	received int64 // when it finished arriving: the original's receipt stamp
	tag      *tag
	closed   *peer
}

// tag travels with an action through the engine.
type tag struct {
	peer  *peer
	delta int64 // worker clock − controller clock when the action arrived
	// msg is the action's frame: its body (an Infer's input) goes back to
	// the wire's buffer pools once the action's result is sent, when no
	// stage can read it any more.
	msg *wire.Message
	// typ and gpu (-1: none) are the action's, for the metrics.
	typ workerapi.ActionType
	gpu int
}

// peer is one controller connection.
type peer struct {
	conn *wire.Conn

	loads, infers, evicts, errors atomic.Int64 // since the last status line
	pending                       atomic.Int64

	states stateQueue
}

// stateQueue is a peer's GetWorkerState answers waiting to be encoded
// and sent, one at a time and in order, on a goroutine of their own while
// there are any: encoding the state of thousands of models takes
// milliseconds, during which no GPU would get its next operation, and
// with a goroutine for each answer a peer asking again and again (400
// times, of 65,536 models) had as many encodings made at once, 4.7 GB.
type stateQueue struct {
	mu      sync.Mutex
	answers []stateAnswer
	running bool // a goroutine is delivering them
}

type stateAnswer struct {
	r  workerapi.Result
	tg *tag
}

// Options configure a Server.
type Options struct {
	Console        io.Writer     // the original's console lines (required)
	StatusInterval time.Duration // default StatusInterval
	// SpinReads makes the connections' reads poll their sockets this long
	// before parking (wire.WithSpinReads; 0: park at once).
	SpinReads time.Duration
	// Metrics makes the server count what it answers and holds, for
	// WriteMetrics.
	Metrics bool
	// MaxConns bounds the controller connections served at once (0:
	// wire.DefaultConnLimit); past it new ones are closed (wire.Gate).
	MaxConns int
}

// NewServer returns a server for an engine configured by cfg on rt.
func NewServer(cfg Config, rt runtime.Runtime, opts Options) *Server {
	cfg.GPUs = rt.NumGPUs()
	cfg.InputStage = rt.InputStage()
	if p, ok := rt.(runtime.Paged); ok {
		cfg.GPUPages = make([]int, cfg.GPUs)
		for g := range cfg.GPUPages {
			cfg.GPUPages[g] = min(cfg.Pages, p.Pages(g))
		}
	}
	s := &Server{
		rt:          rt,
		engine:      NewEngine(cfg),
		out:         opts.Console,
		now:         clock.Now,
		status:      opts.StatusInterval,
		spinReads:   opts.SpinReads,
		actions:     make(chan incoming, 1024),
		completions: make(chan Completion, 1024),
		ops:         make(chan *Op),
		conns:       make(map[*peer]struct{}),
	}
	if s.status == 0 {
		s.status = StatusInterval
	}
	if opts.MaxConns == 0 {
		opts.MaxConns = wire.DefaultConnLimit()
	}
	s.gate = wire.NewGate(opts.MaxConns, s.out)
	if in, ok := rt.(runtime.Instant); ok {
		s.instant = in.Instant()
	}
	if opts.Metrics {
		s.metrics = newMetrics(cfg.GPUs)
		s.metrics.memory(s.engine)
	}
	return s
}

// WriteMetrics writes what the server answered and holds in Prometheus's
// text format (nothing unless Options.Metrics). Safe to call from any
// goroutine.
func (s *Server) WriteMetrics(w io.Writer) {
	if s.metrics == nil {
		return
	}
	s.mu.Lock()
	conns := len(s.conns)
	s.mu.Unlock()
	s.metrics.write(w, conns)
}

// Serve accepts controller connections on l and runs the engine until ctx
// is done; then it cancels queued actions, closes l and every connection.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	if s.engine.cfg.InputStage {
		// The real worker's executors, named as the original's threads.
		fmt.Fprintln(s.out, "CPU-0 started")
		for g := 0; g < s.engine.cfg.GPUs; g++ {
			for _, stage := range []string{"GPU", "PCIe_H2D_Inputs", "PCIe_H2D_Weights", "PCIe_D2H_Output"} {
				fmt.Fprintf(s.out, "GPU%d-%s-0 started\n", g, stage)
			}
			fmt.Fprintln(s.out, "AsyncTaskChecker-0 started") // one a GPU, all -0
		}
	}
	fmt.Fprintf(s.out, "IO service thread listening on %s\n", wire.ListenAddr(l))
	s.lines = newResultLines(s.out)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	done := make(chan struct{})
	go func() {
		s.run(ctx)
		close(done)
	}()
	for {
		nc, err := wire.Accept(l, s.out)
		if err != nil {
			stopped := ctx.Err() != nil || errors.Is(err, net.ErrClosed)
			cancel()
			<-done
			// Operations still running use the runtime, which the caller
			// closes once Serve returns.
			s.running.Wait()
			s.sending.Wait()
			s.closeAll()
			s.lines.close()
			if stopped {
				return nil
			}
			return fmt.Errorf("accepting connections: %w", err)
		}
		if s.gate.Admit(nc) {
			go s.handle(ctx, nc)
		}
	}
}

func (s *Server) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.conns {
		p.conn.Close()
	}
}

// resultDirectMax is the largest result the serving loop writes itself.
const resultDirectMax = 4 << 20

// peerSendLimit is the most the worker queues for a controller that does
// not read its results; past it, that connection is closed.
const peerSendLimit = 256 << 20

func (s *Server) handle(ctx context.Context, nc net.Conn) {
	// Every action's body goes back where it came from once its result is
	// sent: an Infer's to the runtime's pinned memory (inputBuffers), any
	// other to the pools. The loop writes results itself (no hand-off to
	// the connection's writer), up to resultDirectMax bytes: an Infer's
	// output at batch size 16 is 64 KB.
	opts := []wire.Option{wire.WithBodyAllocator(newInputBuffers(s.rt)), wire.WithDirectWrites(resultDirectMax),
		wire.WithSendLimit(peerSendLimit)}
	if s.spinReads > 0 {
		opts = append(opts, wire.WithSpinReads(s.spinReads))
	}
	p := &peer{conn: wire.NewConn(nc, opts...)}
	s.mu.Lock()
	s.conns[p] = struct{}{}
	s.mu.Unlock()
	stop := make(chan struct{})
	go s.printStatus(p, stop)
	defer func() {
		close(stop)
		p.conn.Close()
		s.mu.Lock()
		delete(s.conns, p)
		s.mu.Unlock()
		s.gate.Leave()
		if p.pending.Load() == 0 {
			return // nothing of its in the engine (its reads are over)
		}
		select { // its queued actions are cancelled (Engine.Cancel)
		case s.actions <- incoming{closed: p}:
		case <-ctx.Done():
		}
	}()
	for {
		msg, err := p.conn.Receive()
		received := s.now()
		if err != nil {
			switch {
			case errors.Is(err, net.ErrClosed): // the worker's own shutdown
			case errors.Is(err, io.EOF): // the peer closed it; asio's words
				fmt.Fprintf(s.out, "Closing connection %s, reason: End of file\n", p.conn.RemoteAddr())
			default:
				fmt.Fprintf(s.out, "Closing connection %s, reason: %v\n", p.conn.RemoteAddr(), err)
			}
			return
		}
		a, err := workerapi.DecodeAction(msg)
		if err != nil {
			// The stream cannot be trusted past a frame we do not
			// understand: drop this connection, keep serving. Its body
			// may be the runtime's pinned memory, which must go back.
			msg.Release()
			fmt.Fprintf(s.out, "Closing connection %s, reason: %v\n", p.conn.RemoteAddr(), err)
			slog.Warn("bad action frame", "peer", p.conn.RemoteAddr(), "err", err)
			return
		}
		// Decoded, the header is read no more, and only an Infer reads
		// its body (its input): what a peer sent beside them is not held
		// until the action's result.
		msg.Header = nil
		if _, infer := a.(*workerapi.Infer); !infer {
			msg.Release()
		}
		switch a.(type) {
		case *workerapi.LoadModelFromDisk, *workerapi.GetWorkerState:
			fmt.Fprintf(s.out, "Received %s\n", a.Describe(uint64(s.now())))
		case *workerapi.LoadWeights:
			p.loads.Add(1)
		case *workerapi.Infer:
			p.infers.Add(1)
			s.networkStatus(a.(*workerapi.Infer))
		case *workerapi.EvictWeights:
			p.evicts.Add(1)
		}
		delta := p.conn.ClockDelta()
		if w, ok := a.(workerapi.Windowed); ok {
			e, l := w.Window()
			w.SetWindow(wire.Adjust(e, delta), wire.Adjust(l, delta))
		}
		gpu := -1
		if g, ok := a.(workerapi.OnGPU); ok {
			gpu = int(min(g.GPUID(), 1<<20)) // beyond any GPU: counted as invalid
		}
		p.pending.Add(1)
		select {
		case s.actions <- incoming{action: a, received: received, tag: &tag{peer: p, delta: delta, msg: msg, typ: a.Type(), gpu: gpu}}:
		case <-ctx.Done():
			msg.Release()
			return
		}
	}
}

// networkStatus prints, once, where the real worker's inputs come from.
func (s *Server) networkStatus(a *workerapi.Infer) {
	if !s.engine.cfg.InputStage || s.firstInfer.Swap(true) {
		return
	}
	if a.InputLen() == 0 {
		fmt.Fprintln(s.out, "Network Status: Controller ✘✘✘✘✘ Worker (inputs generated by worker)")
	} else {
		fmt.Fprintln(s.out, "Network Status: Controller ✔✔✔✔✔ Worker (inputs forwarded by controller)")
	}
}

func (s *Server) printStatus(p *peer, stop <-chan struct{}) {
	t := time.NewTicker(s.status)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			fmt.Fprintf(s.out, "Clock Skew=%d  RTT=%d  LdWts=%d  Inf=%d  Evct=%d  || Total Pending=%d  Errors=%d\n",
				p.conn.ClockDelta(), p.conn.RTT(), p.loads.Swap(0), p.infers.Swap(0), p.evicts.Swap(0),
				p.pending.Load(), p.errors.Swap(0))
		}
	}
}

// take hands the engine in and what else has arrived (up to 256 in all),
// and cancels the actions of the connections among them that closed in
// one pass over the engine's queues, not a pass each. (A connection's
// actions come before its close, and so are cancelled.) A connection with
// nothing in the engine sends no close at all: a storm of connections
// opened and closed beside 20,000 queued Infers, a pass over them each,
// held another connection's Infers 0.88 s at p50 and 5.2 s at most, and
// the worker at 1.3 GB; now 0.35 ms, 141 ms and 116 MB.
func (s *Server) take(in incoming, tick func() int64) {
	var closed map[*peer]bool
	for n := 0; ; n++ {
		if in.closed != nil {
			if closed == nil {
				closed = make(map[*peer]bool)
			}
			closed[in.closed] = true
		} else {
			s.engine.Submit(tick(), in.received, in.action, in.tag)
		}
		if n == 255 {
			break
		}
		var more bool
		select {
		case in, more = <-s.actions:
		default:
		}
		if !more {
			break
		}
	}
	if closed != nil {
		s.engine.Cancel(func(t any) bool { tg, _ := t.(*tag); return tg != nil && closed[tg.peer] }, "its connection closed")
	}
}

// run is the engine's goroutine.
func (s *Server) run(ctx context.Context) {
	var (
		due   completions // those whose end lies in the future
		out   Output
		last  int64
		alarm = clock.NewAlarm()
	)
	defer alarm.Stop()
	tick := func() int64 {
		// The engine's clock never runs backwards, even when a due
		// completion is processed after an action that arrived later.
		if n := s.now(); n > last {
			last = n
		}
		return last
	}
	for {
		select {
		case in := <-s.actions:
			s.take(in, tick)
		case c := <-s.completions:
			due.Push(c)
		case <-alarm.C:
		case <-ctx.Done():
			s.engine.Shutdown()
			out.Ops, out.Results, out.Evictions = out.Ops[:0], out.Results[:0], out.Evictions[:0]
			s.engine.Ready(tick(), &out)
			s.send(out.Results)
			deliver(out.Evictions)
			return
		}
		for {
			now := tick()
			for due.Len() > 0 && due.Min().Done() <= now {
				c := due.Pop()
				s.engine.Complete(max(c.Done(), last), &c)
			}
			out.Ops, out.Results, out.Evictions = out.Ops[:0], out.Results[:0], out.Evictions[:0]
			s.engine.Ready(now, &out)
			s.send(out.Results)
			deliver(out.Evictions)
			ran := false
			for _, op := range out.Ops {
				// Model loads read files: never on this goroutine (the
				// original's dummy stalled every GPU while loading).
				if s.instant && op.Kind != OpLoadModel {
					due.Push(op.Run(s.rt))
					ran = true
				} else {
					s.runOff(ctx, op)
				}
			}
			if !ran || due.Len() == 0 || due.Min().Done() > s.now() {
				break
			}
		}
		if s.metrics != nil {
			s.metrics.inputs(s.engine)
		}
		wake := out.Wake
		if due.Len() > 0 && (wake == 0 || due.Min().Done() < wake) {
			wake = due.Min().Done()
		}
		alarm.Set(wake)
	}
}

// runOff runs op off the engine's goroutine, on an idle runner or, if
// none is idle, a new one: runners are kept, as the original keeps its
// executor threads, because a goroutine an operation (three an Infer)
// was two allocations each.
func (s *Server) runOff(ctx context.Context, op *Op) {
	s.running.Add(1)
	select {
	case s.ops <- op: // taken only by a runner waiting for one
	default:
		go s.runner(ctx, op)
	}
}

// runner runs op, hands its completion to the engine, and waits for the
// next operation until ctx is done.
func (s *Server) runner(ctx context.Context, op *Op) {
	for {
		c := op.Run(s.rt)
		s.running.Done()
		select {
		case s.completions <- c:
		case <-ctx.Done(): // shutting down: nobody reads
			return
		}
		select {
		case op = <-s.ops:
		case <-ctx.Done():
			return
		}
	}
}

// deliver tells the runtime's models of their evictions; the evictions
// are cleared (they hold models).
func deliver(evictions []Eviction) {
	for i, x := range evictions {
		x.Deliver()
		evictions[i] = Eviction{}
	}
}

// send converts results into their controller's clock and sends them.
func (s *Server) send(results []Outcome) {
	if s.metrics != nil && len(results) > 0 {
		s.count(results)
	}
	for _, o := range results {
		tg, _ := o.Tag.(*tag)
		if tg == nil {
			continue
		}
		r := o.Result
		sentDelta := toController(r, tg.delta)
		received, _ := r.Stamps()
		r.SetStamps(received, uint64(s.now()-sentDelta))
		p := tg.peer
		p.pending.Add(-1)
		if r.Status() != workerapi.Success {
			p.errors.Add(1)
		}
		switch r.(type) {
		case *workerapi.LoadModelFromDiskResult, *workerapi.GetWorkerStateResult:
			select {
			case <-p.conn.Done(): // closed: only "Dropping result", as the original
			default:
				s.lines.add("Sending", r)
			}
		}
		if _, state := r.(*workerapi.GetWorkerStateResult); state {
			s.queueState(p, stateAnswer{r, tg}) // results are matched by id, not order
			continue
		}
		s.deliver(p, r, tg)
	}
}

// queueState has a delivered to p after p's state answers before it.
func (s *Server) queueState(p *peer, a stateAnswer) {
	q := &p.states
	q.mu.Lock()
	defer q.mu.Unlock()
	q.answers = append(q.answers, a)
	if !q.running {
		q.running = true
		s.sending.Add(1)
		go s.deliverStates(p)
	}
}

// deliverStates delivers p's state answers until none is left; those of a
// closed connection are dropped without being encoded.
func (s *Server) deliverStates(p *peer) {
	defer s.sending.Done()
	q := &p.states
	for {
		q.mu.Lock()
		if len(q.answers) == 0 {
			q.running = false
			q.answers = nil
			q.mu.Unlock()
			return
		}
		a := q.answers[0]
		q.answers[0] = stateAnswer{}
		q.answers = q.answers[1:]
		q.mu.Unlock()
		select {
		case <-p.conn.Done():
			s.lines.add("Dropping result", a.r)
			a.tg.msg.Release()
		default:
			s.deliver(p, a.r, a.tg)
		}
	}
}

// deliver encodes r and sends it to p, then gives back its action's body.
func (s *Server) deliver(p *peer, r workerapi.Result, tg *tag) {
	msg, err := workerapi.EncodeResult(r)
	if ir, ok := r.(*workerapi.InferResult); ok && err == nil && len(ir.Output) > 0 {
		// The output buffer (Op.Run) is reused once written.
		out := ir.Output
		msg.Sent = func(error) { wire.PutBuffer(out) }
	}
	if err == nil {
		err = p.conn.Send(msg)
	}
	if err != nil {
		s.lines.add("Dropping result", r)
	}
	// After the result is on its way: nothing can read the action's
	// body (an Infer's input) any more.
	tg.msg.Release()
}

// count counts results in the metrics, and takes the engine's memory
// again after any but a successful Infer (the others may change pages,
// models or a GPU's state).
func (s *Server) count(results []Outcome) {
	changed := false
	for _, o := range results {
		if tg, _ := o.Tag.(*tag); tg != nil {
			s.metrics.result(tg.typ, tg.gpu, o.Result)
		}
		if _, infer := o.Result.(*workerapi.InferResult); !infer {
			changed = true
		}
	}
	if changed {
		s.metrics.memory(s.engine)
	}
}

// toController converts a result's worker-clock timestamps (spec/worker.md
// §2.7); durations stay as they are. It returns the delta that converts the
// result's result_sent.
func toController(r workerapi.Result, delta int64) int64 {
	conv := func(t *workerapi.Timing) {
		t.Begin, t.End = wire.Adjust(t.Begin, -delta), wire.Adjust(t.End, -delta)
	}
	switch r := r.(type) {
	case *workerapi.LoadModelFromDiskResult:
		conv(&r.Timing)
	case *workerapi.LoadWeightsResult:
		conv(&r.Timing)
	case *workerapi.EvictWeightsResult:
		conv(&r.Timing)
	case *workerapi.InferResult:
		conv(&r.CopyInput)
		conv(&r.Exec)
		conv(&r.CopyOutput)
	case *workerapi.ClearCacheResult, *workerapi.GetWorkerStateResult:
		// The original reports no receipt time for these, and their
		// result_sent in the worker's own clock (spec/worker.md §1.3).
		r.SetStamps(0, 0)
		return 0
	}
	received, sent := r.Stamps()
	r.SetStamps(wire.Adjust(received, -delta), sent)
	return delta
}

// completions are ordered by their end.
type completions = minHeap[Completion]

func (c Completion) before(o Completion) bool { return c.Done() < o.Done() }
