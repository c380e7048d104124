package controller

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/console"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Startup timing (spec/controller.md §2.3, §11).
const (
	loadStageTimeout   = int64(1e9)  // idle time that ends the load stage, by default
	bounceHold         = int64(12e9) // how long LS/Infer are held before "initializing"
	maxStartupInFlight = 4           // LoadModelFromDisk actions in flight per worker
)

// Silences that leave a worker out of the startup: a worker that has owed
// its state this long, or owed loads this long since its last answer (a
// worker loads one model at a time), is taken for hung, reading but never
// answering, and the startup goes on without it as without a worker lost,
// where it waited for it for ever, holding every client. A worker of the
// original's answers its state at once; a load on a GPU took up to 7 s
// (ResNet-50, on an H200, choosing its kernels), longer on a CPU worker
// that times each batch size.
const (
	stateSilence = int64(30e9)
	loadSilence  = int64(600e9)
)

// reply routes a response to the client that asked.
type reply func(clientapi.Response)

// startup runs the controller's startup phases: query every worker's
// state, forward clients' LoadModel requests to every worker until none has
// arrived for a second, and meanwhile hold LS and Infer requests, answering
// them "Controller initializing" after 12 s (or at the end of startup) so
// that retrying clients slow down. It is driven by the controller's event
// loop with the time, and acts through send and the reply of each request.
type startup struct {
	out     io.Writer
	send    func(worker int, a workerapi.Action)
	refuse  func(worker int) // closes the connection of a worker left out (vet); may be nil
	workers int
	// Limits forwarded with every LoadModelFromDisk.
	maxBatch uint32
	maxExec  uint64
	// loadStage is the idle time that ends the load stage.
	loadStage int64

	state     scheduler.State
	queried   int      // workers whose state is known (or that were lost)
	answered  []bool   // by worker: its state is known
	absent    []bool   // by worker: lost or left out during startup (lost, vet)
	pageSizes []uint64 // by worker, as it answered
	loading   bool     // the load stage has begun (state known)
	done      bool

	held []heldRequest // LS/Infer waiting to be bounced

	queuedLoads []pendingLoad // LoadModel requests before the load stage
	ids         modelIDs
	actionSeed  int32
	lastAction  int64
	warnAt      int64
	perWorker   [][]*workerapi.LoadModelFromDisk // not yet sent
	inFlight    []int
	loads       map[int32]*loadRequest // by action id
	// heard is, by worker, when the silence that leaves it out began: its
	// last answer, or the sending of what it owes if it owed nothing.
	heard  []int64
	silent []bool // by worker: left out for its silence, its loss not yet come through
}

type heldRequest struct {
	req     clientapi.Request
	reply   reply
	arrived int64
}

type pendingLoad struct {
	req   *clientapi.LoadModelRequest
	reply reply
}

// loadRequest is one client LoadModel forwarded to every worker.
type loadRequest struct {
	pendingLoad
	firstID int
	results []workerapi.Result // per worker
	missing int
	asked   int // workers it was sent to
}

func newStartup(out io.Writer, workers int, maxBatch uint32, maxExec uint64, send func(int, workerapi.Action)) *startup {
	return &startup{
		out: out, send: send, workers: workers, maxBatch: maxBatch, maxExec: maxExec, loadStage: loadStageTimeout,
		perWorker: make([][]*workerapi.LoadModelFromDisk, workers),
		inFlight:  make([]int, workers),
		answered:  make([]bool, workers),
		absent:    make([]bool, workers),
		pageSizes: make([]uint64, workers),
		loads:     make(map[int32]*loadRequest),
		heard:     make([]int64, workers),
		silent:    make([]bool, workers),
	}
}

// begin prints the first phases and queries the workers at now.
func (s *startup) begin(now int64) {
	fmt.Fprintln(s.out, "(Startup) Running ControllerStartup")
	fmt.Fprintln(s.out, "(Startup-1) Bouncing LS and Infer requests until startup is complete")
	fmt.Fprintln(s.out, "(Startup-2) Querying current worker state")
	s.state.Workers = make([]scheduler.Worker, s.workers)
	for w := 0; w < s.workers; w++ {
		s.heard[w] = now
		s.send(w, &workerapi.GetWorkerState{ID: int32(w)})
	}
}

// owes reports whether worker w owes the startup an answer: its state, or
// a load's; and from when the silence that leaves it out counts.
func (s *startup) owes(w int) (bool, int64) {
	switch {
	case s.absent[w] || s.silent[w]:
		return false, 0
	case !s.loading:
		return !s.answered[w], s.heard[w] + stateSilence
	}
	return s.inFlight[w] > 0, s.heard[w] + loadSilence
}

// hush leaves out the workers silent too long at now: their connections
// are closed, and the startup goes on without them once their loss comes
// through (lost), as for a worker lost.
func (s *startup) hush(now int64) {
	for w := range s.workers {
		if owes, until := s.owes(w); owes && now >= until && s.refuse != nil {
			fmt.Fprintf(s.out, "(Startup) Worker %d has not answered for %d s\n", w, (now-s.heard[w])/1e9)
			s.silent[w] = true
			s.refuse(w)
		}
	}
}

// request handles a client request during startup.
func (s *startup) request(now int64, req clientapi.Request, r reply) {
	fmt.Fprintf(s.out, "Client  --> %s\n", req)
	switch req := req.(type) {
	case *clientapi.LoadModelRequest:
		if msg := badLoad(req); msg != "" {
			s.respond(r, &clientapi.LoadModelResponse{ResponseHeader: errHeader(req.Head(), clientapi.StatusInvalidRequest, msg)})
			return
		}
		if left := s.ids.room() - s.queuedCopies(); int(req.Copies) > left {
			s.tooMany(r, req, left)
			return
		}
		if !s.loading {
			s.queuedLoads = append(s.queuedLoads, pendingLoad{req, r})
			return
		}
		s.forward(now, pendingLoad{req, r})
	case *clientapi.EvictRequest, *clientapi.UploadModelRequest:
		s.respond(r, refuseWeights(req, schedulerWeights))
	default:
		s.held = append(s.held, heldRequest{req: req, reply: r, arrived: now})
	}
}

// badLoad says why req cannot be forwarded to workers, or "": no copies,
// or a path with a control character, which no model file has and which
// would break the console lines that print it.
func badLoad(req *clientapi.LoadModelRequest) string {
	switch {
	case req.Copies < 1:
		return fmt.Sprintf("no_of_copies must be at least 1, not %d", req.Copies)
	case strings.ContainsFunc(req.Path, unicode.IsControl):
		return fmt.Sprintf("the path %s holds a control character", console.Safe(req.Path))
	}
	return ""
}

// tooMany refuses req, which asks for more consecutive model ids than
// the cluster has left (left).
func (s *startup) tooMany(r reply, req *clientapi.LoadModelRequest, left int) {
	s.respond(r, &clientapi.LoadModelResponse{ResponseHeader: errHeader(req.Head(), clientapi.StatusInvalidRequest,
		fmt.Sprintf("no_of_copies %d: a cluster serves at most %d models, and %d more may be asked for", req.Copies, workerapi.MaxModels, max(left, 0)))})
}

// queuedCopies are the copies asked for by the LoadModel requests that
// wait for the load stage (model ids are given them then).
func (s *startup) queuedCopies() int {
	n := 0
	for _, pl := range s.queuedLoads {
		n += int(pl.req.Copies)
	}
	return n
}

func errHeader(h *clientapi.RequestHeader, status int32, msg string) clientapi.ResponseHeader {
	return clientapi.ResponseHeader{UserRequestID: h.UserRequestID, Status: status, Message: msg}
}

func (s *startup) respond(r reply, rsp clientapi.Response) {
	fmt.Fprintf(s.out, "Client <--  %s\n", rsp)
	r(rsp)
}

// bounce answers a held request with status 5.
func (s *startup) bounce(h heldRequest) {
	hdr := errHeader(h.req.Head(), clientapi.StatusInitializing, clientapi.MessageControllerInitializing)
	s.respond(h.reply, bounceResponse(h.req, hdr))
}

// bounceResponse builds the response of req's type carrying hdr.
func bounceResponse(req clientapi.Request, hdr clientapi.ResponseHeader) clientapi.Response {
	switch req := req.(type) {
	case *clientapi.InferRequest:
		return &clientapi.InferResponse{ResponseHeader: hdr, ModelID: req.ModelID, BatchSize: req.BatchSize}
	case *clientapi.LSRequest:
		return &clientapi.LSResponse{ResponseHeader: hdr}
	case *clientapi.LoadModelRequest:
		return &clientapi.LoadModelResponse{ResponseHeader: hdr}
	case *clientapi.EvictRequest:
		return &clientapi.EvictResponse{ResponseHeader: hdr}
	default:
		return &clientapi.UploadModelResponse{ResponseHeader: hdr}
	}
}

// result handles a worker result during startup. It returns an error for a
// cluster that cannot be served (no worker's state can be, vet).
func (s *startup) result(now int64, worker int, r workerapi.Result) error {
	if s.absent[worker] || s.silent[worker] {
		return nil // what a lost worker sent before the loss came through
	}
	if !s.loading {
		gws, ok := r.(*workerapi.GetWorkerStateResult)
		if !ok || int(gws.ID) != worker || s.answered[worker] {
			fmt.Fprintf(s.out, "Ignoring unexpected result from worker %d while querying state: %s\n", worker, workerapi.Brief(r))
			return nil // nor does it end a silence
		}
		s.heard[worker] = now
		s.state.Workers[worker] = scheduler.WorkerFromMemory(worker, &gws.Memory)
		s.pageSizes[worker] = gws.Memory.PageSize
		s.answered[worker] = true
		if s.queried++; s.queried == s.workers {
			return s.startLoading(now)
		}
		return nil
	}
	lr := s.loads[r.ActionID()]
	if lr == nil || lr.results[worker] != nil || !loadAnswer(r) {
		fmt.Fprintf(s.out, "Ignoring unexpected result from worker %d: %s\n", worker, workerapi.Brief(r))
		return nil
	}
	s.heard[worker] = now
	fmt.Fprintf(s.out, "Worker  --> %s\n", workerapi.Brief(r))
	s.activity(now)
	lr.results[worker] = r
	s.inFlight[worker]--
	s.pump(now, worker)
	if lr.missing--; lr.missing == 0 {
		s.finishLoad(lr)
	}
	return nil
}

// startLoading begins the load stage once every worker's state is known.
func (s *startup) startLoading(now int64) error {
	ref, err := s.vet()
	if err != nil {
		return err
	}
	s.state.PageSize = s.pageSizes[ref]
	fmt.Fprint(s.out, describeState(&s.state)+"\n")
	for w, st := range s.state.Workers {
		for _, m := range st.Models {
			if !s.absent[w] {
				s.ids.reserve(m.ID + 1)
			}
		}
	}
	fmt.Fprintln(s.out, "(Startup-3) Awaiting LoadModel requests from clients")
	s.loading = true
	for _, pl := range s.queuedLoads {
		s.forward(now, pl)
	}
	s.queuedLoads = nil
	return nil
}

// vet leaves out the workers whose state the cluster cannot take, where
// the original ended: a page size of 0 or other than the first good
// worker's, a model id outside 0 to workerapi.MaxModels-1, or a model of
// that worker missing or from another file. A worker left out is absent,
// as a lost one is, and its connection is closed: it is dialled again once
// the startup is over and rejoins as a lost worker does, loading the
// cluster's models it lacks (rejoin.go). vet returns the first good
// worker, or an error if there is none.
func (s *startup) vet() (int, error) {
	ref := -1
	for w := range s.state.Workers {
		if s.absent[w] {
			continue
		}
		if why := s.misfit(w, ref); why != "" {
			fmt.Fprintf(s.out, "(Startup) Leaving out worker %d: %s; it may rejoin once startup is complete\n", w, why)
			s.absent[w] = true
			s.state.Workers[w] = scheduler.Worker{ID: w}
			if s.refuse != nil {
				s.refuse(w)
			}
			continue
		}
		if ref < 0 {
			ref = w
		}
	}
	if ref < 0 {
		return 0, errors.New("no worker is left to serve")
	}
	return ref, nil
}

// misfit says why worker w's state does not fit the cluster, whose first
// good worker is ref (-1 if none is yet), or "" if it fits.
func (s *startup) misfit(w, ref int) string {
	st := &s.state.Workers[w]
	if s.pageSizes[w] == 0 {
		return "it reports pages of 0 bytes"
	}
	for _, m := range st.Models {
		if m.ID < 0 || m.ID >= workerapi.MaxModels {
			return fmt.Sprintf("its model id %d is out of range (0 to %d)", m.ID, workerapi.MaxModels-1)
		}
	}
	if ref < 0 {
		return ""
	}
	if s.pageSizes[w] != s.pageSizes[ref] {
		return fmt.Sprintf("its pages are %d bytes, worker %d's %d", s.pageSizes[w], ref, s.pageSizes[ref])
	}
	held := paths(st.Models)
	for _, m := range s.state.Workers[ref].Models {
		path, ok := held[m.ID]
		switch {
		case !ok:
			return fmt.Sprintf("it lacks model %d (%s) of worker %d", m.ID, m.Path, ref)
		case path != m.Path:
			return fmt.Sprintf("its model %d is %s, worker %d's %s", m.ID, path, ref, m.Path)
		}
	}
	return ""
}

// paths maps the ids of ms to their paths (the first of an id listed
// twice), for lookups in lists of up to 65,536 models.
func paths(ms []scheduler.Model) map[int]string {
	out := make(map[int]string, len(ms))
	for _, m := range ms {
		if _, ok := out[m.ID]; !ok {
			out[m.ID] = m.Path
		}
	}
	return out
}

func (s *startup) activity(now int64) {
	s.lastAction = now
	s.warnAt = max(s.warnAt, now+s.loadStage/2)
}

// forward sends one LoadModel request to every worker.
func (s *startup) forward(now int64, pl pendingLoad) {
	if s.lastAction == 0 {
		fmt.Fprintln(s.out, "(Startup-4) LoadModelStage has begun")
	}
	s.activity(now)
	first, ok := s.ids.take(int(pl.req.Copies))
	if !ok { // the loads before it took the ids it was checked against
		s.tooMany(pl.reply, pl.req, s.ids.room())
		return
	}
	lr := &loadRequest{pendingLoad: pl, firstID: first, results: make([]workerapi.Result, s.workers), missing: s.present(), asked: s.present()}
	for w := 0; w < s.workers; w++ {
		if s.absent[w] {
			continue
		}
		a := &workerapi.LoadModelFromDisk{
			ID: s.actionSeed, ModelID: int32(lr.firstID), Path: pl.req.Path, Earliest: 0, Latest: workerapi.NoLatest,
			Copies: pl.req.Copies, MaxBatchSize: s.maxBatch, MaxExecDuration: s.maxExec,
		}
		s.loads[a.ID] = lr
		s.actionSeed++
		s.perWorker[w] = append(s.perWorker[w], a)
		s.pump(now, w)
	}
}

// pump sends worker w's queued loads while fewer than 4 are in flight.
func (s *startup) pump(now int64, w int) {
	for s.inFlight[w] < maxStartupInFlight && len(s.perWorker[w]) > 0 {
		a := s.perWorker[w][0]
		s.perWorker[w] = s.perWorker[w][1:]
		if s.inFlight[w] == 0 { // it owed nothing until now
			s.heard[w] = now
		}
		s.inFlight[w]++
		fmt.Fprintf(s.out, "Worker <--  %s\n", a.Describe(uint64(now)))
		s.send(w, a)
	}
}

// finishLoad answers a LoadModel once every worker has. Unlike the
// original, workers that disagree (some failed, or different sizes) are an
// error answer, not a crash.
func (s *startup) finishLoad(lr *loadRequest) {
	for id, l := range s.loads {
		if l == lr {
			delete(s.loads, id)
		}
	}
	h := lr.req.Head()
	var ok []*workerapi.LoadModelFromDiskResult
	var firstErr *workerapi.ErrorResult
	errs := 0
	for _, r := range lr.results {
		switch r := r.(type) {
		case *workerapi.LoadModelFromDiskResult:
			ok = append(ok, r)
		case *workerapi.ErrorResult:
			errs++
			if firstErr == nil {
				firstErr = r
			}
		}
	}
	if errs == lr.asked { // no worker holds any of its models: the ids come back
		s.ids.give(lr.firstID, int(lr.req.Copies))
	}
	fail := func(msg string) {
		s.respond(lr.reply, &clientapi.LoadModelResponse{ResponseHeader: errHeader(h, clientapi.StatusError, msg)})
	}
	switch {
	case firstErr != nil && len(ok) == 0:
		fail(firstErr.Message)
		return
	case firstErr != nil:
		fail(fmt.Sprintf("model loaded on %d of %d workers; error: %s", len(ok), s.workers, firstErr.Message))
		return
	case len(ok) == 0:
		fail("every worker was lost")
		return
	}
	r0 := ok[0]
	for _, r := range ok {
		if r.CopiesCreated != lr.req.Copies {
			fail(fmt.Sprintf("a worker created %d copies of the %d asked for", r.CopiesCreated, lr.req.Copies))
			return
		}
		if err := scheduler.CheckBatchSizes(r.BatchSizes); err != nil {
			fail("a worker answered with " + err.Error())
			return
		}
	}
	if r0.InputSize > wire.DefaultMaxBodySize || r0.OutputSize > wire.DefaultMaxBodySize {
		fail(fmt.Sprintf("inputs of %d bytes and outputs of %d: a message carries at most %d", r0.InputSize, r0.OutputSize, wire.DefaultMaxBodySize))
		return
	}
	for _, r := range ok[1:] {
		if r.InputSize != r0.InputSize || r.OutputSize != r0.OutputSize || r.WeightsSizeInCache != r0.WeightsSizeInCache ||
			fmt.Sprint(r.BatchSizes) != fmt.Sprint(r0.BatchSizes) {
			fail("workers disagree on the model's sizes or batch sizes")
			return
		}
	}
	for w, r := range lr.results {
		if r, isOK := r.(*workerapi.LoadModelFromDiskResult); isOK {
			s.state.Workers[w].AddModels(scheduler.ModelsFromLoad(lr.firstID, lr.req.Path, r))
		}
	}
	s.respond(lr.reply, &clientapi.LoadModelResponse{
		ResponseHeader: clientapi.ResponseHeader{UserRequestID: h.UserRequestID},
		ModelID:        uint32(lr.firstID), InputSize: r0.InputSize, OutputSize: r0.OutputSize, CopiesCreated: r0.CopiesCreated,
	})
}

// tick bounces requests held 12 s, prints the countdown, and reports
// whether the load stage is complete.
func (s *startup) tick(now int64) bool {
	s.hush(now)
	n := 0
	for _, h := range s.held {
		if now-h.arrived >= bounceHold {
			s.bounce(h)
		} else {
			s.held[n] = h
			n++
		}
	}
	clear(s.held[n:])
	s.held = s.held[:n]
	if !s.loading || s.lastAction == 0 {
		return false
	}
	idle := len(s.loads) == 0
	if idle && s.warnAt != 0 && now < s.lastAction+s.loadStage && s.warnAt < now {
		fmt.Fprintf(s.out, "(Startup-5) LoadModelStage ending in %d seconds...\r", (s.lastAction+s.loadStage-now)/1e9)
		s.warnAt += 1e9
	}
	return idle && now > s.lastAction+s.loadStage
}

// wake is when tick next has something to do (0: nothing time-driven).
func (s *startup) wake() int64 {
	w := int64(0)
	for _, h := range s.held {
		if t := h.arrived + bounceHold; w == 0 || t < w {
			w = t
		}
	}
	if s.loading && s.lastAction != 0 && len(s.loads) == 0 {
		end := s.lastAction + s.loadStage + 1
		if w == 0 || end < w {
			w = end
		}
		if s.warnAt != 0 && s.warnAt+1 < end && s.warnAt+1 < w {
			w = s.warnAt + 1
		}
	}
	for worker := range s.workers {
		if owes, until := s.owes(worker); owes && (w == 0 || until < w) {
			w = until
		}
	}
	return w
}

// commonModels are the models every worker still present holds (those of
// the first, by id and path, that each other has too): what a worker
// absent at the end of the startup holds for the scheduler, which takes
// its model table from worker 0 and wants every worker to hold it. (A
// worker may hold more than the first good one, vet; if the first good one
// is lost after, its models are not the cluster's.)
func (s *startup) commonModels() []scheduler.Model {
	var models []scheduler.Model
	first := true
	for w := range s.state.Workers {
		if s.absent[w] {
			continue
		}
		if first {
			models, first = slices.Clone(s.state.Workers[w].Models), false
			continue
		}
		held := paths(s.state.Workers[w].Models)
		models = slices.DeleteFunc(models, func(m scheduler.Model) bool {
			path, ok := held[m.ID]
			return !ok || path != m.Path
		})
	}
	return models
}

// present is how many workers are not lost.
func (s *startup) present() int {
	n := 0
	for _, a := range s.absent {
		if !a {
			n++
		}
	}
	return n
}

// lost takes worker, whose connection was lost, out of the startup, which
// goes on without it (the original ended): it gets no more actions, what
// it owed counts as not needed, and the scheduler starts with it holding
// the cluster's models and no GPUs, so that it joins with its GPUs when
// it rejoins. It returns an error once every worker is lost.
func (s *startup) lost(now int64, worker int) error {
	if s.absent[worker] {
		return nil
	}
	s.absent[worker] = true
	if s.present() == 0 {
		return errors.New("every worker was lost during startup")
	}
	fmt.Fprintf(s.out, "(Startup) Going on without worker %d; it may rejoin once startup is complete\n", worker)
	s.perWorker[worker], s.inFlight[worker] = nil, 0
	if !s.loading {
		if !s.answered[worker] {
			s.state.Workers[worker] = scheduler.Worker{ID: worker}
			s.queried++
		}
		if s.queried == s.workers {
			return s.startLoading(now)
		}
		return nil
	}
	var owed []*loadRequest
	for _, lr := range s.loads {
		if lr.results[worker] == nil && !slices.Contains(owed, lr) {
			owed = append(owed, lr)
		}
	}
	for _, lr := range owed {
		if lr.missing--; lr.missing == 0 {
			s.finishLoad(lr)
		}
	}
	return nil
}

// finish ends startup: it prints the loaded models, bounces every held
// request, and returns the cluster state for the scheduler. A worker lost
// or left out during startup has no GPUs there and the models every other
// worker holds (commonModels).
func (s *startup) finish() *scheduler.State {
	models := s.commonModels()
	for w := range s.state.Workers {
		if s.absent[w] {
			s.state.Workers[w] = scheduler.Worker{ID: w, Models: slices.Clone(models)}
		}
	}
	fmt.Fprintln(s.out, "(Startup-6) LoadModelStage complete.  Printing loaded models: ")
	fmt.Fprint(s.out, describeState(&s.state)+"\n")
	fmt.Fprintln(s.out, "(Startup-end) Transitioning to scheduler")
	for _, h := range s.held {
		s.bounce(h)
	}
	s.held = nil
	s.done = true
	return &s.state
}

// loadAnswer reports whether r can answer a LoadModelFromDisk: a result of
// that type or an error about one. Another result with a load's id (a
// second GetWorkerState answer, whose id is its worker's index, as the
// first loads' are) would be taken for the load's answer.
func loadAnswer(r workerapi.Result) bool {
	switch r := r.(type) {
	case *workerapi.LoadModelFromDiskResult:
		return true
	case *workerapi.ErrorResult:
		return r.ActionType == workerapi.LoadModelFromDiskType
	}
	return false
}
