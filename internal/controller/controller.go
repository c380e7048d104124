// Package controller is Clockwork's controller: it connects to every
// worker, runs the startup phases (query worker state, load the models
// clients ask for), then hands inference requests to a scheduler and carries
// out its decisions. All decisions are the scheduler's (a deterministic
// state machine, package scheduler); this package does the I/O around it,
// from one goroutine that owns the scheduler. It also runs the original's
// two test controllers, DIRECT and STRESS, which schedule nothing
// (mode.go).
package controller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/telemetry"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Options configure a controller.
type Options struct {
	Workers    []string // host:port of each worker; the index is the worker id
	ClientAddr string   // where clients connect (":12346")
	Console    io.Writer

	// NewScheduler builds the scheduler once startup has found the cluster.
	NewScheduler func(state *scheduler.State) (scheduler.Scheduler, error)

	// Limits sent with every LoadModelFromDisk during startup.
	MaxBatch uint32
	MaxExec  uint64
	// LoadStageTimeout is how long startup's load stage waits for another
	// LoadModel before it ends (default 1 s; the original's ECHO: 10 s).
	LoadStageTimeout time.Duration

	// Telemetry receives every response and completed action after startup
	// (nil: none). Run closes it when it returns, whatever ended it.
	Telemetry Telemetry

	// ConnectTimeout bounds the wait for each worker (default 30 s).
	ConnectTimeout time.Duration

	// MaxClients bounds the client connections served at once (0:
	// wire.DefaultConnLimit); past it new ones are closed (wire.Gate).
	MaxClients int

	// Test, when set, runs one of the original's test controllers instead
	// of the startup phase and a scheduler: TestDirect or TestStress
	// (mode.go). NewScheduler is then unused, and Telemetry only closed.
	Test   string
	Stress StressOptions // TestStress's
}

// Telemetry is where the controller reports what happened.
type Telemetry interface {
	// Response records one answered inference request.
	Response(r *scheduler.Response)
	// Actions records completed actions.
	Actions(recs []telemetry.ActionRecord)
	// Tick lets periodic summaries print; net is the traffic to and from
	// the workers so far. It returns when it next wants to be called. The
	// first call comes as the scheduler starts.
	Tick(now int64, net wire.Stats) int64
	// Close flushes and closes the logs.
	Close() error
}

// Controller is a running controller.
type Controller struct {
	opts    Options
	out     io.Writer
	events  chan event
	workers []*workerConn
	clients *clientServer

	stop    <-chan struct{} // closed when Run returns
	startup *startup
	sched   scheduler.Scheduler
	state   *scheduler.State
	output  scheduler.Output
	// refused is set when an action of the scheduler's is failed back to
	// it while its output is carried out (sendScheduled).
	refused bool
	// inputSizes are the models' input sizes by id, after startup.
	inputSizes map[int]uint64

	rejoinSeq int32      // the last rejoin action's id (rejoin.go)
	retired   wire.Stats // traffic of worker connections replaced by rejoins

	// gone are the clients that left with requests unanswered, for the
	// scheduler's next ClientGone (goneRound) no sooner than goneAt.
	gone   map[*clientConn]bool
	goneAt int64
}

type eventKind int

const (
	evClientRequest eventKind = iota
	evWorkerResult
	evWorkerSent
	evWorkerDown
	evWorkerBack  // a lost worker answered again (rejoin.go)
	evClientsDown // clients can no longer connect (err)
	evClientGone  // a client's connection closed (client)
)

type event struct {
	kind     eventKind
	client   *clientConn
	msgID    uint64
	held     int64 // what the request counts against its client's hold limit
	req      clientapi.Request
	worker   int
	result   workerapi.Result
	at       int64 // when result was read off its connection
	actionID int32
	err      error
	conn     net.Conn // evWorkerBack
	// An Infer's input as its reader checked it (badInput), once the
	// scheduler runs.
	inputChecked bool
	badInput     string
}

// Run starts the controller and serves until ctx is done or the cluster
// cannot be served (a worker unreachable at start, or every worker lost
// during startup). It closes opts.Telemetry as it returns, so that what
// was measured reaches the logs on an error too.
func Run(ctx context.Context, opts Options) (err error) {
	if opts.Telemetry != nil {
		defer func() { err = errors.Join(err, opts.Telemetry.Close()) }()
	}
	if len(opts.Workers) == 0 {
		return errors.New("controller: no workers")
	}
	if opts.Test != "" && opts.Test != TestDirect && opts.Test != TestStress {
		return fmt.Errorf("controller: no test controller %q", opts.Test)
	}
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = 30 * time.Second
	}
	c := &Controller{opts: opts, out: opts.Console, events: make(chan event, 4096)}
	l, err := net.Listen("tcp4", opts.ClientAddr)
	if err != nil {
		return fmt.Errorf("controller: listening for clients on %s: %w", opts.ClientAddr, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c.stop = ctx.Done()
	if opts.MaxClients == 0 {
		opts.MaxClients = wire.DefaultConnLimit()
	}
	c.clients = newClientServer(l, c.events, wire.NewGate(opts.MaxClients, c.out), c.out)
	for i, addr := range opts.Workers {
		fmt.Fprintf(c.out, "Connecting to worker %s\n", addr)
		if i == 0 {
			fmt.Fprintf(c.out, "IO service thread listening for clients on %s\n", wire.ListenAddr(l))
		}
		w, err := dialWorker(ctx, i, addr, opts.ConnectTimeout, c.events)
		if err != nil {
			l.Close()
			c.closeWorkers()
			return err
		}
		c.workers = append(c.workers, w)
		fmt.Fprintln(c.out, "Connection established")
	}
	go c.clients.serve(ctx)
	defer c.closeWorkers()
	defer c.clients.close()
	if opts.Test != "" {
		return c.testLoop(ctx)
	}
	return c.loop(ctx)
}

func (c *Controller) closeWorkers() {
	for _, w := range c.workers {
		w.conn.Close()
	}
}

func (c *Controller) loop(ctx context.Context) error {
	c.startup = newStartup(c.out, len(c.workers), c.opts.MaxBatch, c.opts.MaxExec, c.sendStartup)
	if c.opts.LoadStageTimeout > 0 {
		c.startup.loadStage = int64(c.opts.LoadStageTimeout)
	}
	// A worker the startup leaves out is dropped as a lost one: its reader
	// reports the closed connection, and it is dialled again later.
	c.startup.refuse = func(w int) { c.workers[w].conn.Close() }
	c.startup.begin(clock.Now())
	alarm := clock.NewAlarm()
	defer alarm.Stop()
	alarm.Set(c.startup.wake()) // the workers' silences, should nothing else come
	for {
		select {
		case ev := <-c.events:
			if err := c.handle(clock.Now(), ev); err != nil {
				return err
			}
			// Take what else is queued before deciding, so that a burst of
			// requests is scheduled together.
			for n := 0; n < 256; n++ {
				select {
				case ev := <-c.events:
					if err := c.handle(clock.Now(), ev); err != nil {
						return err
					}
					continue
				default:
				}
				break
			}
		case <-alarm.C:
		case <-ctx.Done():
			return nil
		}
		now := clock.Now()
		wake := int64(0)
		if c.sched == nil {
			if c.startup.tick(now) {
				if err := c.transition(now); err != nil {
					return err
				}
			} else {
				wake = c.startup.wake()
			}
		}
		if c.sched != nil {
			c.goneRound(now)
			c.sched.Tick(now)
			wake = c.flush(now)
			if len(c.gone) > 0 && (wake == 0 || c.goneAt < wake) {
				wake = c.goneAt
			}
			if t := c.hushRejoins(now); t != 0 && (wake == 0 || t < wake) {
				wake = t
			}
		}
		if c.opts.Telemetry != nil && c.sched != nil {
			if t := c.opts.Telemetry.Tick(now, c.networkStats()); t != 0 && (wake == 0 || t < wake) {
				wake = t
			}
		}
		alarm.Set(wake)
	}
}

// handle processes one event at now.
func (c *Controller) handle(now int64, ev event) error {
	switch ev.kind {
	case evClientRequest:
		c.clientRequest(now, ev)
	case evWorkerResult:
		w := c.workers[ev.worker]
		if c.sched == nil {
			return c.startup.result(now, ev.worker, ev.result)
		}
		if w.rejoin != nil {
			c.rejoinResult(now, w, ev.result)
			return nil
		}
		if !w.answered(ev.result.ActionID()) {
			fmt.Fprintf(c.out, "Ignoring result for unknown action from worker %d: %s\n", ev.worker, workerapi.Brief(ev.result))
			return nil
		}
		c.sched.Result(now, ev.at, ev.worker, ev.result)
	case evWorkerSent:
		w := c.workers[ev.worker]
		if ev.err != nil {
			w.forget(ev.actionID)
			c.sched.Sent(now, ev.worker, ev.actionID, ev.err)
			return nil
		}
		c.sched.Sent(now, ev.worker, ev.actionID, nil)
		if typ, ok := w.written(ev.actionID); ok && w.down != nil {
			// Written just before the connection died: it will get no
			// result, so fail it here.
			w.forget(ev.actionID)
			c.sched.Result(now, now, ev.worker, lostResult(ev.actionID, typ, w.down))
		}
	case evWorkerDown:
		w := c.workers[ev.worker]
		if !c.workerDown(ev) {
			return nil
		}
		if c.sched == nil {
			// Dialled again once the startup is over (transition).
			if err := c.startup.lost(now, ev.worker); err != nil {
				return fmt.Errorf("controller: %w", err)
			}
			return nil
		}
		c.sched.WorkerLost(now, ev.worker)
		for id, typ := range w.takeWritten() {
			c.sched.Result(now, now, ev.worker, lostResult(id, typ, ev.err))
		}
		if w.rejoin != nil && !w.rejoin.failed {
			w.refusals++ // a rejoin cut off midway failed too (a worker that accepts and hangs up)
		}
		c.redialLater(ev.worker)
	case evWorkerBack:
		c.startRejoin(now, ev.worker, ev.conn)
	case evClientsDown:
		return clientsDown(ev)
	case evClientGone:
		// Its requests are all answered unless it holds some (their events
		// came before this one).
		if c.sched != nil && ev.client.conn.Held() > 0 {
			if c.gone == nil {
				c.gone = make(map[*clientConn]bool)
			}
			c.gone[ev.client] = true
		}
	}
	return nil
}

// goneRound answers the unplaced requests of the clients gone since the
// last round (ClientGone), in one pass over the scheduler's requests. The
// pass is linear in what is queued (140 ms for 4.6 million requests), so
// rounds are at least 100 ms and four passes' time apart: clients that
// connect and leave in a storm cannot hold the loop (100 of them froze it
// for 14 s when each had its own pass).
func (c *Controller) goneRound(now int64) {
	if len(c.gone) == 0 || now < c.goneAt {
		return
	}
	gone := c.gone
	c.gone = nil
	c.sched.ClientGone(now, func(r *scheduler.Request) bool {
		ref, ok := r.Tag.(clientRef)
		return ok && gone[ref.conn]
	})
	end := clock.Now()
	c.goneAt = end + max(goneRoundGap, 4*(end-now))
}

// goneRoundGap is the least time between two ClientGone passes.
const goneRoundGap = 100 * 1000 * 1000

// workerDown marks a worker's connection lost; false if it already was.
func (c *Controller) workerDown(ev event) bool {
	w := c.workers[ev.worker]
	if w.down != nil {
		return false
	}
	w.down = ev.err
	fmt.Fprintf(c.out, "Lost connection to worker %d (%s): %v\n", ev.worker, w.addr, ev.err)
	return true
}

func clientsDown(ev event) error {
	return fmt.Errorf("controller: accepting clients: %w", ev.err)
}

// lostResult is the error result of an action lost with its worker.
func lostResult(id int32, typ workerapi.ActionType, err error) workerapi.Result {
	return &workerapi.ErrorResult{ID: id, ActionType: typ, Code: workerapi.ErrRuntimeError,
		Message: fmt.Sprintf("worker connection lost: %v", err)}
}

// transition ends startup and starts the scheduler.
func (c *Controller) transition(now int64) error {
	c.state = c.startup.finish()
	sched, err := c.opts.NewScheduler(c.state)
	if err != nil {
		return fmt.Errorf("controller: starting the scheduler: %w", err)
	}
	c.sched = sched
	c.clients.ls.Store(lsResponse(c.state))
	c.inputSizes = make(map[int]uint64)
	if len(c.state.Workers) > 0 {
		for _, m := range c.state.Workers[0].Models {
			c.inputSizes[m.ID] = m.InputSize
		}
	}
	c.clients.inputSizes.Store(&c.inputSizes)
	for _, pl := range c.startup.queuedLoads {
		c.startup.respond(pl.reply, &clientapi.LoadModelResponse{ResponseHeader: errHeader(pl.req.Head(),
			clientapi.StatusInvalidRequest, "loadModel phase has completed")})
	}
	fmt.Fprintln(c.out, " * Admitting inference requests")
	for id, w := range c.workers {
		if w.down != nil {
			c.redialLater(id)
		}
	}
	return nil
}

// redialLater dials lost worker id again every redialPeriod until it
// answers, first after redialDelay (rejoin.go).
func (c *Controller) redialLater(id int) {
	w := c.workers[id]
	first := redialDelay(w.refusals)
	if first == redialPeriod {
		fmt.Fprintf(c.out, "Reconnecting to worker %d (%s) every %v\n", id, w.addr, redialPeriod)
	} else {
		times := fmt.Sprintf("%d times in a row", w.refusals)
		if w.refusals == 1 {
			times = "once"
		}
		fmt.Fprintf(c.out, "Reconnecting to worker %d (%s) in %v (it could not rejoin %s), then every %v\n",
			id, w.addr, first, times, redialPeriod)
	}
	go c.redial(id, w.addr, first)
}

// flush carries out what the scheduler decided and returns its wake time.
// An action refused at once (for a worker rejoining, say) is reported to
// the scheduler then, so what that decides is carried out too.
func (c *Controller) flush(now int64) int64 {
	for {
		c.refused = false
		wake := c.flushOnce(now)
		if !c.refused {
			return wake
		}
	}
}

func (c *Controller) flushOnce(now int64) int64 {
	out := &c.output
	out.Reset()
	c.sched.Ready(out)
	for _, s := range out.Sends {
		c.sendScheduled(s.Worker, s.Action)
	}
	for i := range out.Responses {
		r := &out.Responses[i]
		if r.Departure == 0 {
			r.Departure = now
		}
		c.answer(r)
	}
	if c.opts.Telemetry != nil && len(out.Actions) > 0 {
		c.opts.Telemetry.Actions(out.Actions)
	}
	return out.Wake
}

// networkStats sums the traffic of every worker connection, those
// replaced by a rejoin included, so that it never goes down.
func (c *Controller) networkStats() wire.Stats {
	t := c.retired
	for _, w := range c.workers {
		addStats(&t, w.conn.Stats())
	}
	return t
}

func addStats(t *wire.Stats, s wire.Stats) {
	t.MsgsSent += s.MsgsSent
	t.BytesSent += s.BytesSent
	t.MsgsRecv += s.MsgsRecv
	t.BytesRecv += s.BytesRecv
}
