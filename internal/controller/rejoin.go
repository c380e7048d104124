package controller

import (
	"fmt"
	"net"
	"time"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Rejoining. The original did not reconnect to a worker it lost (nor
// survive losing one). Here the controller dials a lost worker's address
// again every redialPeriod, and once it answers, brings it to the models
// the cluster serves before the scheduler gets its GPUs back:
// GetWorkerState, then LoadModelFromDisk for the models it lacks (a run of
// consecutive ids of one path in one action, as the startup loaded them),
// then Scheduler.WorkerRejoined. A worker that cannot rejoin (another page
// size, a model under another path, a load that fails) is dropped again and
// dialled again later, first after a longer wait each time in a row
// (redialDelay). Its actions have negative ids, which the scheduler's
// never are.
const redialPeriod = time.Second

// maxRedialDoublings bounds redialDelay: 64 s.
const maxRedialDoublings = 6

// redialDelay is how long after losing a worker the controller dials it
// first: redialPeriod, doubled for each rejoin in a row that failed, so
// that a worker that answers but cannot rejoin (another page size, say)
// is not asked every second for ever.
func redialDelay(refusals int) time.Duration {
	return redialPeriod << min(max(refusals, 0), maxRedialDoublings)
}

// rejoin is a reconnected worker's progress towards rejoining.
type rejoin struct {
	pending map[int32]workerapi.ActionType // actions sent, not answered
	state   *workerapi.WorkerMemoryInfo    // its answer to GetWorkerState
	failed  bool                           // given up: the connection is closing
	heard   int64                          // when it connected, or last answered
}

// silentUntil is when a rejoining worker owing answers since heard is
// taken for hung, as in the startup (stateSilence, loadSilence), or 0 if
// it owes none.
func (rj *rejoin) silentUntil() int64 {
	switch {
	case rj.failed || len(rj.pending) == 0:
		return 0
	case rj.state == nil:
		return rj.heard + stateSilence
	}
	return rj.heard + loadSilence
}

// hushRejoins gives up at now on the rejoining workers silent too long
// (they are dialled again later, as any that cannot rejoin), where they
// stayed rejoining for ever, and returns when the next one would be, or 0.
func (c *Controller) hushRejoins(now int64) int64 {
	next := int64(0)
	for _, w := range c.workers {
		if w.rejoin == nil {
			continue
		}
		switch until := w.rejoin.silentUntil(); {
		case until == 0:
		case now >= until:
			c.dropRejoin(w, fmt.Errorf("it has not answered for %d s", (now-w.rejoin.heard)/1e9))
		case next == 0 || until < next:
			next = until
		}
	}
	return next
}

// redial dials worker id's address after first, then every redialPeriod,
// until it answers or the controller stops, and hands the connection to
// the event loop. It runs on a goroutine of its own.
func (c *Controller) redial(id int, addr string, first time.Duration) {
	for wait := first; ; wait = redialPeriod {
		select {
		case <-c.stop:
			return
		case <-time.After(wait):
		}
		nc, err := net.DialTimeout("tcp", addr, redialPeriod)
		if err != nil {
			continue
		}
		select {
		case c.events <- event{kind: evWorkerBack, worker: id, conn: nc}:
		case <-c.stop:
			nc.Close()
		}
		return
	}
}

// startRejoin replaces lost worker id's connection with nc and asks for
// its state, at now.
func (c *Controller) startRejoin(now int64, id int, nc net.Conn) {
	w := c.reconnect(id, nc, &rejoin{pending: make(map[int32]workerapi.ActionType), heard: now})
	c.sendRejoin(w, &workerapi.GetWorkerState{ID: c.rejoinID()})
}

// reconnect replaces lost worker id's connection with nc, rejoining rj
// (nil for a test controller's worker), and starts its reader.
func (c *Controller) reconnect(id int, nc net.Conn, rj *rejoin) *workerConn {
	old := c.workers[id]
	addStats(&c.retired, old.conn.Stats())
	w := &workerConn{id: id, addr: old.addr, conn: wire.NewConn(nc), outstanding: make(map[int32]*outAction), rejoin: rj,
		refusals: old.refusals}
	c.workers[id] = w
	go w.read(c.events)
	fmt.Fprintf(c.out, "Reconnected to worker %d (%s)\n", id, w.addr)
	return w
}

func (c *Controller) rejoinID() int32 {
	c.rejoinSeq--
	return c.rejoinSeq
}

func (c *Controller) sendRejoin(w *workerConn, a workerapi.Action) {
	w.rejoin.pending[a.ActionID()] = a.Type()
	c.sendStartup(w.id, a)
}

// rejoinResult takes a result on a rejoining worker's connection.
func (c *Controller) rejoinResult(now int64, w *workerConn, r workerapi.Result) {
	rj := w.rejoin
	if rj.failed {
		return
	}
	typ, ok := rj.pending[r.ActionID()]
	if !ok {
		fmt.Fprintf(c.out, "Ignoring unexpected result from rejoining worker %d: %s\n", w.id, workerapi.Brief(r))
		return
	}
	delete(rj.pending, r.ActionID())
	rj.heard = now
	switch r := r.(type) {
	case *workerapi.GetWorkerStateResult:
		if typ != workerapi.GetWorkerStateType {
			break
		}
		if err := c.loadMissing(w, &r.Memory); err != nil {
			c.dropRejoin(w, err)
		}
		c.rejoined(now, w)
		return
	case *workerapi.LoadModelFromDiskResult:
		if typ == workerapi.LoadModelFromDiskType {
			c.rejoined(now, w)
			return
		}
	}
	// An error, or an answer of another action's type.
	c.dropRejoin(w, fmt.Errorf("%s", r))
}

// rejoined hands a rejoining worker's GPUs to the scheduler once it has
// answered everything it was asked.
func (c *Controller) rejoined(now int64, w *workerConn) {
	rj := w.rejoin
	if rj.failed || len(rj.pending) > 0 || rj.state == nil {
		return
	}
	w.rejoin, w.refusals = nil, 0
	st := scheduler.WorkerFromMemory(w.id, rj.state)
	fmt.Fprintf(c.out, "Worker %d (%s) rejoined with %d GPUs\n", w.id, w.addr, len(st.GPUs))
	c.sched.WorkerRejoined(now, &st)
}

// loadMissing checks a rejoining worker's state against the cluster's and
// sends it LoadModelFromDisk for the models it lacks.
func (c *Controller) loadMissing(w *workerConn, mem *workerapi.WorkerMemoryInfo) error {
	if mem.PageSize != c.state.PageSize {
		return fmt.Errorf("page size %d, not the cluster's %d", mem.PageSize, c.state.PageSize)
	}
	w.rejoin.state = mem
	has := make(map[int]string, len(mem.Models))
	for _, m := range mem.Models {
		has[int(m.ID)] = m.Source
	}
	loads, err := scheduler.ModelLoads(c.state.Workers[w.id].Models, has)
	if err != nil {
		return err
	}
	for _, a := range loads {
		a.ID, a.Latest, a.MaxBatchSize, a.MaxExecDuration = c.rejoinID(), workerapi.NoLatest, c.opts.MaxBatch, c.opts.MaxExec
		c.sendRejoin(w, a)
	}
	return nil
}

// dropRejoin gives up on a rejoining worker's connection; its reader then
// reports it lost, and it is dialled again.
func (c *Controller) dropRejoin(w *workerConn, err error) {
	fmt.Fprintf(c.out, "Worker %d (%s) cannot rejoin: %v\n", w.id, w.addr, err)
	w.rejoin.failed = true
	w.refusals++
	w.conn.Close()
}
