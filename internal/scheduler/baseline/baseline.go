// Package baseline is a conventional inference-serving policy behind
// Clockwork's scheduler interface, for side-by-side comparison with INFER5.
//
// It does what a Triton- or Clipper-like server does rather than what
// Clockwork does: one FIFO queue per model; dynamic batching up to a
// per-model maximum adapted by additive increase and multiplicative
// decrease (grow to the next supported batch size while batches finish
// within their requests' SLOs, halve when one does not); one Infer in
// flight per GPU, the next sent when the previous result arrives; weights
// loaded on demand onto the GPU with the fewest queued requests (of those,
// the one with the most free pages), evicting the least recently used
// models not in use to make room, and failing the
// requests waiting for a model whose load fails. Actions carry no deadline
// (earliest 0, latest ∞) so workers never reject them, and requests are
// never dropped: late requests still run and succeed, and only the request
// log's deadline_met column shows them late. Requests for unknown models,
// or for models too large for any GPU, get status 1; inputs pass through
// (or are generated) as INFER5's do.
//
// Like every scheduler here it is a deterministic state machine (see
// package scheduler) and answers every request exactly once.
package baseline

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/telemetry"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// resultTimeout is how long past its expected completion an action's
// result may be missing before the scheduler gives up on it, so that
// requests are answered even when a worker connection dies.
const resultTimeout = 1_000_000_000

// Scheduler is the baseline policy. Create it with New.
type Scheduler struct {
	cfg scheduler.Config
	log io.Writer

	models []*model // by id; nil for unknown ids
	gpus   []*gpu

	now      int64
	nextID   int32
	useSeq   uint64 // recency clock for LRU eviction
	reqSeq   uint64
	inflight map[int32]*action
	overdue  []*action         // transmitted actions, checked for lost results
	givenUp  map[int32]*action // loads whose result timed out, by id (lateLoad)

	sends     []scheduler.Send
	responses []scheduler.Response
	records   []telemetry.ActionRecord
}

var _ scheduler.Scheduler = (*Scheduler)(nil)

type model struct {
	id        int
	pages     int
	inputSize uint64
	batch     []int   // supported batch sizes ≤ max_batch, ascending
	exec      []int64 // profiled exec ns, parallel to batch
	b1        int64
	weights   int64 // profiled weights transfer, ns
	queue     []*request
	maxBatch  int    // index into batch: the adaptive maximum
	resident  []*gpu // GPUs with the weights loaded
	loadingOn *gpu   // GPU loading the weights, if any
}

type gpu struct {
	idx, worker, local int
	pages, free        int
	busy               bool           // an Infer is in flight
	down               bool           // out of service (gpuDown)
	loadsEnd           int64          // when the loads sent to it are expected to be done
	current            *model         // ... of this model
	models             []*model       // resident or loading here
	lastUse            map[int]uint64 // model id → recency
	// unserved holds the models loaded here that have not run a batch
	// since: they are not evicted for another model's sake.
	unserved map[int]bool
}

type request struct {
	req          *scheduler.Request
	seq          uint64 // admission order
	deadline     int64
	arrivalCount int
	answered     bool
}

type action struct {
	id        int32
	kind      workerapi.ActionType
	g         *gpu
	m         *model
	reqs      []*request
	generated bool // the scheduler made up some inputs: clients get no output
	wire      workerapi.Action

	sent, expDuration int64
	expEnd            int64 // when its result is expected (a load: behind the loads before it)
	due               int64 // when its result is overdue, once transmitted
	queued, copies    int
}

// PrintConfig writes the scheduler's configuration block.
func PrintConfig(w io.Writer, cfg scheduler.Config) {
	fmt.Fprintf(w, "BaselineScheduler using:\n\t default_slo=%d\n\t max_batch_size=%d\n\t max_gpus=%d\n",
		cfg.DefaultSLO, cfg.MaxBatch, cfg.MaxGPUs)
}

// New builds the scheduler for the cluster found at start-up: models from
// worker 0, GPUs spread over workers up to max_gpus, models already
// resident counted as loaded.
func New(cfg scheduler.Config, st *scheduler.State) (*Scheduler, error) {
	switch {
	case st == nil || len(st.Workers) == 0:
		return nil, errors.New("baseline: no workers")
	case cfg.DefaultSLO <= 0:
		return nil, fmt.Errorf("baseline: default_slo must be positive, not %d", cfg.DefaultSLO)
	case cfg.GenerateInputs && cfg.Inputs == nil:
		return nil, errors.New("baseline: generate_inputs needs an input generator")
	}
	s := &Scheduler{cfg: cfg, log: cfg.Log, inflight: make(map[int32]*action)}
	if s.log == nil {
		s.log = io.Discard
	}
	for i := range st.Workers[0].Models {
		p := &st.Workers[0].Models[i]
		if p.ID < 0 || p.ID >= workerapi.MaxModels {
			return nil, fmt.Errorf("baseline: model id %d out of range", p.ID)
		}
		for len(s.models) <= p.ID {
			s.models = append(s.models, nil)
		}
		m := &model{id: p.ID, pages: p.NumWeightsPages, inputSize: p.InputSize, b1: p.Exec(1), weights: p.WeightsTransfer}
		for j, b := range p.BatchSizes {
			if b >= 1 && b <= max(cfg.MaxBatch, 1) && j < len(p.ExecDurations) {
				m.batch = append(m.batch, b)
				m.exec = append(m.exec, p.ExecDurations[j])
			}
		}
		if len(m.batch) > 0 {
			s.models[p.ID] = m
		}
	}
	fmt.Fprintf(s.log, "Created %d models\n", len(s.models))

	remaining := max(cfg.MaxGPUs, 0)
	for w := range st.Workers {
		n := min(len(st.Workers[w].GPUs), remaining/(len(st.Workers)-w))
		for i := range st.Workers[w].GPUs[:n] {
			spec := &st.Workers[w].GPUs[i]
			s.adopt(s.newGPU(w, spec), spec)
		}
		remaining -= n
	}
	fmt.Fprintf(s.log, "Created %d GPUs on %d Workers\n", len(s.gpus), len(st.Workers))
	if len(s.gpus) == 0 {
		return nil, fmt.Errorf("baseline: max_gpus=%d leaves no GPU to use", cfg.MaxGPUs)
	}
	return s, nil
}

// newGPU appends worker's GPU spec to the scheduler's GPUs.
func (s *Scheduler) newGPU(worker int, spec *scheduler.GPU) *gpu {
	g := &gpu{idx: len(s.gpus), worker: worker, local: spec.ID, pages: spec.TotalPages,
		free: spec.TotalPages, lastUse: map[int]uint64{}, unserved: map[int]bool{}}
	s.gpus = append(s.gpus, g)
	return g
}

// adopt counts the models whose weights spec says g holds as loaded
// there. It returns how many it adopted.
func (s *Scheduler) adopt(g *gpu, spec *scheduler.GPU) int {
	n := 0
	for _, id := range spec.LoadedModels {
		if id >= 0 && id < len(s.models) && s.models[id] != nil && s.models[id].pages <= g.free && !slices.Contains(s.models[id].resident, g) {
			m := s.models[id]
			g.free -= m.pages
			g.models = append(g.models, m)
			m.resident = append(m.resident, g)
			n++
		}
	}
	return n
}

// Infer implements scheduler.Scheduler.
func (s *Scheduler) Infer(now int64, r *scheduler.Request) {
	s.setNow(now)
	var m *model
	if r.ModelID >= 0 && r.ModelID < len(s.models) {
		m = s.models[r.ModelID]
	}
	q := &request{req: r}
	switch {
	case m == nil:
		s.responses = append(s.responses, scheduler.UnknownModel(r, s.now))
	case !s.fits(m):
		s.reject(q, noGPU)
	default:
		arrival := r.Arrival
		if arrival == 0 {
			arrival = s.now
		}
		slo := scheduler.SLO(s.cfg.DefaultSLO, m.b1, r.SLOFactor)
		q.deadline, q.arrivalCount = arrival+slo, len(m.resident)
		s.reqSeq++
		q.seq = s.reqSeq
		m.queue = append(m.queue, q)
	}
}

// ClientGone implements scheduler.Scheduler: the gone client's queued
// requests leave their queues, answered with status 1.
func (s *Scheduler) ClientGone(now int64, gone func(*scheduler.Request) bool) {
	s.setNow(now)
	for _, m := range s.models {
		if m == nil {
			continue
		}
		m.queue = slices.DeleteFunc(m.queue, func(q *request) bool {
			if !gone(q.req) {
				return false
			}
			s.respond(q, m, clientapi.StatusError, scheduler.ClientGoneMessage, nil)
			return true
		})
	}
}

func (s *Scheduler) reject(q *request, message string) {
	s.responses = append(s.responses, scheduler.Response{
		Req: q.req, Status: clientapi.StatusError, Message: message, Departure: s.now,
	})
}

// noGPU answers the requests for a model that no GPU in service can hold.
const noGPU = "Model does not fit on any GPU in service"

// fits reports whether some GPU in service can hold m.
func (s *Scheduler) fits(m *model) bool {
	for _, g := range s.gpus {
		if !g.down && m.pages <= g.pages {
			return true
		}
	}
	return false
}

// Tick implements scheduler.Scheduler.
func (s *Scheduler) Tick(now int64) { s.setNow(now) }

// Ready implements scheduler.Scheduler.
func (s *Scheduler) Ready(out *scheduler.Output) {
	s.giveUpOnLostResults()
	s.load()
	s.dispatch()
	out.Sends = append(out.Sends, s.sends...)
	out.Responses = append(out.Responses, s.responses...)
	out.Actions = append(out.Actions, s.records...)
	clear(s.sends)
	clear(s.responses)
	s.sends, s.responses, s.records = s.sends[:0], s.responses[:0], s.records[:0]
	out.Wake = 0
	for _, a := range s.overdue {
		if out.Wake == 0 || a.due < out.Wake {
			out.Wake = a.due
		}
	}
}

func (s *Scheduler) setNow(now int64) { s.now = max(s.now, now) }
