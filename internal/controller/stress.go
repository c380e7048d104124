package controller

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// StressOptions configure the STRESS test controller.
type StressOptions struct {
	Model  string // the model directory's model file, as LoadModelFromDisk takes it
	Copies int    // copies loaded on each worker (the original's 40)
}

// stress is the original's STRESS controller: it serves no clients and
// drives the workers itself. It loads Copies copies of one model on every
// worker; then on every GPU it keeps two LoadWeights and two Infers in
// flight, evicting the oldest model while more than 20 are resident, so
// that weights come and go as fast as the GPU takes them while it
// infers; and every second it prints, per GPU, the transfers' and then the
// inferences' measured and end-to-end times since the last print:
//
//	LoadWeights W0 GPU0 errors=0 profiled=8400000 min=… max=… mean=… e2e=… e2emax=… throughput=… utilization=…
//	Infer W0 GPU0 errors=0 profiled=3300000 …
//
// Where it differs from the original (README): the model and the copies
// are options (the original's path was a developer's home directory); the
// GPUs are the worker's own (it assumed two), and fewer than 20 models
// stay resident where 20 would not fit in the GPU's pages or the copies
// would stop coming and going; copies the worker holds already are used;
// each worker starts once it is set up; an error is printed and counted,
// and fails at most a worker's setup; after a failed LoadWeights (or
// Infer) the GPU's next ones wait, 10 ms and twice as long after each
// round of failures in a row up to 1 s (the original sent them again at
// once, a busy loop against a broken GPU); a lost worker's GPUs leave the
// stress and it is set up again when it is back; clients are answered
// status 6 (the original aborted).
type stress struct {
	out  io.Writer
	send func(worker int, a workerapi.Action)
	opts StressOptions

	workers []*stressWorker
	gpus    []*stressGPU // the GPUs being stressed, in the order they were set up
	pending map[int32]stressCall
	seq     actionIDs

	profiledLoad, profiledExec uint64 // from the last LoadModelFromDisk result
	lastPrint                  int64  // 0 until a worker is set up
	retryAt                    int64  // when a GPU waiting after failures is refilled (0: none waits)
}

const (
	stressMaxResident = 20   // models left resident per GPU (fewer where they do not fit)
	stressMaxLoads    = 2    // LoadWeights in flight per GPU
	stressMaxInfers   = 2    // Infers in flight per GPU
	stressInferSkip   = 6    // Infers skip the oldest resident models, the next to be evicted
	stressWindow      = 10e9 // ns: LoadWeights', EvictWeights' and Infers' latest start, after they are sent
	stressPrint       = int64(1e9)
	stressBackoffMin  = int64(10e6) // ns: the wait after a first failure
	stressBackoffMax  = int64(1e9)  // ns: the longest wait
)

type stressWorker struct {
	state  *workerapi.WorkerMemoryInfo
	first  int // the first copy's model id
	gpus   []*stressGPU
	failed bool // cannot be stressed
}

// stressGPU is one GPU's part in the stress and its figures since the last
// print.
type stressGPU struct {
	worker, id  int // worker and worker-local GPU id
	maxResident int
	resident    []int // oldest first
	absent      []int
	loads       int // in flight
	infers      int
	// After failures, no new LoadWeights (Infer) is sent before
	// loadRetry.at (inferRetry.at).
	loadRetry, inferRetry stressRetry

	loadErrs, inferErrs int
	load, infer         stressFigures
}

// stressRetry is the wait before the next action of a kind whose last
// ones failed.
type stressRetry struct {
	wait  int64 // ns; 0 after a success
	since int64 // when the wait began
	at    int64 // no action before
}

// failed doubles the wait, from stressBackoffMin up to stressBackoffMax,
// for an action sent at sent that failed at now. The actions sent before
// the wait began failed with the one that began it: they count once.
func (r *stressRetry) failed(now, sent int64) {
	if r.wait > 0 && sent < r.since {
		return
	}
	r.wait = min(max(2*r.wait, stressBackoffMin), stressBackoffMax)
	r.since, r.at = now, now+r.wait
}

func (r *stressRetry) succeeded() { *r = stressRetry{} }

// due says whether an action that is wanted may be sent at now; one that
// must wait tells wait when it may.
func (r *stressRetry) due(now int64, wanted bool, wait func(at int64)) bool {
	if wanted && now < r.at {
		wait(r.at)
		return false
	}
	return wanted
}

type stressFigures struct{ measured, e2e []uint64 }

func (f *stressFigures) add(measured uint64, e2e int64) {
	f.measured = append(f.measured, measured)
	f.e2e = append(f.e2e, uint64(max(e2e, 0)))
}

type stressCall struct {
	worker int
	typ    workerapi.ActionType
	gpu    *stressGPU
	model  int
	sent   int64
}

func newStress(out io.Writer, send func(int, workerapi.Action), workers int, opts StressOptions) *stress {
	s := &stress{out: out, send: send, opts: opts, pending: make(map[int32]stressCall)}
	for range workers {
		s.workers = append(s.workers, &stressWorker{})
	}
	return s
}

func (s *stress) begin(now int64) {
	fmt.Fprintf(s.out, "STRESS: %d copies of %s on every worker\n", s.opts.Copies, s.opts.Model)
	for w := range s.workers {
		s.call(now, w, &workerapi.GetWorkerState{ID: s.seq.next()}, nil, 0)
	}
}

func (s *stress) call(now int64, worker int, a workerapi.Action, g *stressGPU, model int) {
	s.pending[a.ActionID()] = stressCall{worker: worker, typ: a.Type(), gpu: g, model: model, sent: now}
	s.send(worker, a)
}

// request refuses clients: this controller serves none.
func (s *stress) request(_ int64, req clientapi.Request, r reply) {
	r(bounceResponse(req, errHeader(req.Head(), clientapi.StatusInvalidRequest, "the STRESS controller serves no clients")))
}

func (s *stress) result(now int64, worker int, res workerapi.Result) error {
	c, ok := s.pending[res.ActionID()]
	if !ok || c.worker != worker {
		fmt.Fprintf(s.out, "Ignoring result for unknown action from worker %d: %s\n", worker, workerapi.Brief(res))
		return nil
	}
	delete(s.pending, res.ActionID())
	switch c.typ {
	case workerapi.GetWorkerStateType, workerapi.LoadModelFromDiskType:
		s.setUp(now, worker, c.typ, res)
		if s.lastPrint == 0 && len(s.gpus) > 0 {
			s.lastPrint = now
		}
		if err := s.hopeless(); err != nil {
			return err
		}
	case workerapi.LoadWeightsType:
		g := c.gpu
		g.loads--
		if r, ok := res.(*workerapi.LoadWeightsResult); ok {
			g.resident = append(g.resident, c.model)
			g.load.add(r.Timing.Duration, now-c.sent)
			g.loadRetry.succeeded()
		} else {
			g.loadErrs += s.failed("LoadWeights", res)
			g.absent = append(g.absent, c.model)
			g.loadRetry.failed(now, c.sent)
		}
	case workerapi.EvictWeightsType:
		if _, ok := res.(*workerapi.EvictWeightsResult); !ok {
			s.failed("EvictWeights", res)
		}
		c.gpu.absent = append(c.gpu.absent, c.model)
	case workerapi.InferType:
		g := c.gpu
		g.infers--
		if r, ok := res.(*workerapi.InferResult); ok {
			g.infer.add(r.Exec.Duration, now-c.sent)
			g.inferRetry.succeeded()
		} else {
			g.inferErrs += s.failed("Infer", res)
			g.inferRetry.failed(now, c.sent)
		}
	}
	s.retryAt = s.refill(now)
	return nil
}

// failed prints an action's error (or a result of another action's
// type) and counts it: 1.
func (s *stress) failed(what string, res workerapi.Result) int {
	fmt.Fprintf(s.out, "%s error %s\n", what, res)
	return 1
}

// setUp takes a worker's answer during its set-up: its state, then,
// unless it already holds the copies (from an earlier stress, or from
// before it was lost), the copies' load.
func (s *stress) setUp(now int64, worker int, typ workerapi.ActionType, res workerapi.Result) {
	w := s.workers[worker]
	switch r := res.(type) {
	case *workerapi.GetWorkerStateResult:
		if typ != workerapi.GetWorkerStateType {
			break
		}
		w.state = &r.Memory
		var have []int
		var info *workerapi.ModelInfo
		for i, m := range r.Memory.Models {
			w.first = max(w.first, int(m.ID)+1)
			if m.Source == s.opts.Model && len(have) < s.opts.Copies {
				have, info = append(have, int(m.ID)), &r.Memory.Models[i]
			}
		}
		if len(have) == s.opts.Copies {
			s.start(worker, have, info.NumWeightsPages, info.WeightsLoadTime, info.ExecTimes, "already holds")
			return
		}
		if w.first+s.opts.Copies > workerapi.MaxModels {
			s.fail(worker, fmt.Sprintf("it holds models up to id %d, and %d more would pass %d", w.first-1, s.opts.Copies, workerapi.MaxModels))
			return
		}
		s.call(now, worker, &workerapi.LoadModelFromDisk{ID: s.seq.next(), ModelID: int32(w.first), Path: s.opts.Model,
			Copies: int32(s.opts.Copies), Latest: workerapi.NoLatest, MaxBatchSize: 1}, nil, 0)
		return
	case *workerapi.LoadModelFromDiskResult:
		if typ != workerapi.LoadModelFromDiskType || w.state == nil || r.CopiesCreated != int32(s.opts.Copies) {
			break
		}
		ids := make([]int, s.opts.Copies)
		for j := range ids {
			ids[j] = w.first + j
		}
		s.start(worker, ids, r.NumWeightsPages, r.WeightsLoadTime, r.ExecTimes, "holds")
		return
	}
	s.fail(worker, res.String())
}

func (s *stress) fail(worker int, why string) {
	fmt.Fprintf(s.out, "STRESS: worker %d cannot be stressed: %s\n", worker, why)
	s.workers[worker].failed = true
}

// start stresses a worker's GPUs with the copies ids, of pages pages each,
// profiled as given; those a GPU holds stay resident there.
func (s *stress) start(worker int, ids []int, pages uint32, profiledLoad uint64, execs []uint64, holds string) {
	w := s.workers[worker]
	s.profiledLoad = profiledLoad
	if len(execs) > 0 {
		s.profiledExec = execs[0]
	}
	// Room for the resident models, one more before its eviction is sent,
	// and the loads in flight; and as many absent, so that they churn.
	keep := min(stressMaxResident, len(ids)-1-stressMaxLoads)
	if keep < 1 {
		s.fail(worker, fmt.Sprintf("%d copies are too few to churn; at least %d are", len(ids), 2+stressMaxLoads))
		return
	}
	for _, g := range w.state.GPUs {
		fit := keep
		if pages > 0 {
			fit = min(fit, int(int64(g.WeightsCacheTotalPages)/int64(pages))-1-stressMaxLoads)
		}
		if fit < 1 {
			fmt.Fprintf(s.out, "STRESS: worker %d GPU %d has %d pages, too few for %d copies of %d pages\n",
				worker, g.ID, g.WeightsCacheTotalPages, len(ids), pages)
			continue
		}
		sg := &stressGPU{worker: worker, id: int(g.ID), maxResident: fit}
		for _, id := range ids {
			if slices.Contains(g.Models, uint32(id)) {
				sg.resident = append(sg.resident, id)
			} else {
				sg.absent = append(sg.absent, id)
			}
		}
		w.gpus = append(w.gpus, sg)
	}
	if len(w.gpus) == 0 {
		s.fail(worker, "no GPU has room for the copies")
		return
	}
	s.gpus = append(s.gpus, w.gpus...)
	fmt.Fprintf(s.out, "STRESS: worker %d %s %d copies (models %d-%d); stressing %d GPUs\n",
		worker, holds, len(ids), ids[0], ids[len(ids)-1], len(w.gpus))
}

// hopeless says why the stress cannot go on: every worker failed its
// set-up.
func (s *stress) hopeless() error {
	for _, w := range s.workers {
		if !w.failed {
			return nil
		}
	}
	return errors.New("STRESS: no worker can be stressed")
}

// refill keeps every GPU as busy as the stress allows, and says when a
// GPU waiting after failures may be refilled next (0: none waits).
func (s *stress) refill(now int64) (next int64) {
	later := func(at int64) {
		if next == 0 || at < next {
			next = at
		}
	}
	for _, g := range s.gpus {
		for len(g.resident) > g.maxResident {
			m := g.resident[0]
			g.resident = g.resident[1:]
			s.call(now, g.worker, &workerapi.EvictWeights{ID: s.seq.next(), ModelID: int32(m), GPU: uint32(g.id),
				Earliest: uint64(now), Latest: uint64(now + stressWindow)}, g, m)
		}
		for g.loadRetry.due(now, len(g.absent) > 0 && g.loads < stressMaxLoads, later) {
			m := g.absent[0]
			g.absent = g.absent[1:]
			g.loads++
			s.call(now, g.worker, &workerapi.LoadWeights{ID: s.seq.next(), ModelID: int32(m), GPU: uint32(g.id),
				Earliest: uint64(now), Latest: uint64(now + stressWindow)}, g, m)
		}
		skip := min(stressInferSkip, g.maxResident/2)
		for g.inferRetry.due(now, g.infers < stressMaxInfers && len(g.resident) > skip+g.infers, later) {
			m := g.resident[skip+g.infers]
			g.infers++
			// No input: the worker generates one (input_sizes full of
			// zeros, as the controller sends).
			s.call(now, g.worker, &workerapi.Infer{ID: s.seq.next(), ModelID: int32(m), GPU: uint32(g.id), BatchSize: 1,
				InputSizes: []uint32{0}, Earliest: uint64(now), Latest: uint64(now + stressWindow)}, g, m)
		}
	}
	return next
}

// lost takes a worker's GPUs out of the stress; the actions it was sent
// get no results.
func (s *stress) lost(_ int64, worker int, _ error) {
	for id, c := range s.pending {
		if c.worker == worker {
			delete(s.pending, id)
		}
	}
	w := s.workers[worker]
	s.gpus = slices.DeleteFunc(s.gpus, func(g *stressGPU) bool { return g.worker == worker })
	if len(w.gpus) > 0 {
		fmt.Fprintf(s.out, "STRESS: worker %d's GPUs leave the stress until it is back\n", worker)
	}
	s.workers[worker] = &stressWorker{}
}

// back sets a worker dialled again up anew: it may be another process.
func (s *stress) back(now int64, worker int) {
	s.call(now, worker, &workerapi.GetWorkerState{ID: s.seq.next()}, nil, 0)
}

// tick refills the GPUs whose wait after failures is over, and prints
// the figures every second once a worker is set up.
func (s *stress) tick(now int64) int64 {
	if s.retryAt != 0 && now >= s.retryAt {
		s.retryAt = s.refill(now)
	}
	if s.lastPrint == 0 {
		return s.retryAt
	}
	if now >= s.lastPrint+stressPrint {
		s.print(now - s.lastPrint)
		s.lastPrint = now
	}
	if s.retryAt != 0 {
		return min(s.retryAt, s.lastPrint+stressPrint)
	}
	return s.lastPrint + stressPrint
}

func (s *stress) print(interval int64) {
	var b strings.Builder
	for _, g := range s.gpus {
		fmt.Fprintf(&b, "LoadWeights W%d GPU%d errors=%d %s\n", g.worker, g.id, g.loadErrs, g.load.summary(s.profiledLoad, interval))
	}
	for _, g := range s.gpus {
		fmt.Fprintf(&b, "Infer W%d GPU%d errors=%d %s\n", g.worker, g.id, g.inferErrs, g.infer.summary(s.profiledExec, interval))
	}
	for _, g := range s.gpus {
		g.loadErrs, g.inferErrs = 0, 0
		g.load, g.infer = stressFigures{}, stressFigures{}
	}
	io.WriteString(s.out, b.String())
}

// summary renders the figures as the original did: times in ns, mean and
// e2e (the mean end-to-end time) to two places, throughput per second and
// utilization (measured time over the interval).
func (f *stressFigures) summary(profiled uint64, interval int64) string {
	if len(f.measured) == 0 {
		return "throughput=0"
	}
	var sum, sumE2E float64
	for i, v := range f.measured {
		sum += float64(v)
		sumE2E += float64(f.e2e[i])
	}
	n := float64(len(f.measured))
	return fmt.Sprintf("profiled=%d min=%d max=%d mean=%.2f e2e=%.2f e2emax=%d throughput=%.2f utilization=%.2f",
		profiled, slices.Min(f.measured), slices.Max(f.measured), sum/n, sumE2E/n, slices.Max(f.e2e),
		n*1e9/float64(interval), sum/float64(interval))
}
