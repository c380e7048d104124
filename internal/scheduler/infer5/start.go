package infer5

import (
	"errors"
	"fmt"
	"io"

	"github.com/clockwork-go/clockwork/internal/console"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// maxModelID bounds the model table, which is indexed by id (with a
// tracker and an instance per model and GPU: a worker reporting a model of
// id 4,194,303 had New allocate 1.5 GiB a GPU).
const maxModelID = workerapi.MaxModels

// New builds the scheduler for the cluster found at start-up
// (spec/controller.md §4.4) and prints its start-up lines to cfg.Log. The
// model table comes from worker 0; GPUs are taken from each worker in turn,
// spreading max_gpus evenly. Models already resident on a GPU count as
// loaded there. Where the original crashes on an inconsistent cluster, New
// returns an error.
func New(cfg scheduler.Config, st *scheduler.State, opts ...Option) (*Scheduler, error) {
	o := options{resultTimeout: defaultResultWait, estimator: estimator{DefaultEstimateWindow, DefaultEstimatePercentile}}
	for _, opt := range opts {
		opt(&o)
	}
	if err := validate(cfg, st, o); err != nil {
		return nil, err
	}
	s := &Scheduler{cfg: cfg, opts: o, log: cfg.Log, inflight: make(map[int32]*action),
		pagesPerGPU: firstGPU(st).TotalPages}
	if s.log == nil {
		s.log = io.Discard
	}

	s.buildModels(st.Workers[0].Models)
	s.selectGPUs(st)
	if len(s.gpus) == 0 {
		return nil, fmt.Errorf("infer5: max_gpus=%d leaves no GPU to use", cfg.MaxGPUs)
	}
	s.tracker = newLoadTracker(len(s.gpus), len(s.models), cfg.DefaultSLO, o.demandGuard)
	instances := make([]instance, len(s.gpus)*len(s.models)) // GPU-major
	for _, g := range s.gpus {
		s.makeInstances(g, instances[g.idx*len(s.models):(g.idx+1)*len(s.models)])
	}
	s.adoptResident(st)
	s.printCapacity()
	s.printOptions()
	return s, nil
}

// printOptions says which options differ from the original's behaviour,
// so that a run's log tells how it was scheduled.
func (s *Scheduler) printOptions() {
	if e := s.opts.estimator; e != (estimator{originalEstimateWindow, originalEstimatePercentile}) {
		fmt.Fprintf(s.log, "Estimating exec and weights times as the %g percentile of the last %d measurements (the original: %g of the last %d)\n",
			e.p, e.size, originalEstimatePercentile, originalEstimateWindow)
	}
	if s.opts.demandGuard {
		fmt.Fprintln(s.log, "Loading a model onto another GPU only while the GPUs holding it cannot serve its demand (-demand-guard)")
	}
}

func validate(cfg scheduler.Config, st *scheduler.State, o options) error {
	switch {
	case cfg.DefaultSLO <= 0:
		return fmt.Errorf("infer5: default_slo must be positive, not %d", cfg.DefaultSLO)
	case cfg.ScheduleAhead <= future:
		return fmt.Errorf("infer5: schedule_ahead must exceed %d ns, not %d", int64(future), cfg.ScheduleAhead)
	case cfg.LatestDelta < 0:
		return fmt.Errorf("infer5: latest_delta must not be negative, not %d", cfg.LatestDelta)
	case cfg.GenerateInputs && cfg.Inputs == nil:
		return errors.New("infer5: generate_inputs needs an input generator")
	case o.resultTimeout <= 0:
		return fmt.Errorf("infer5: result timeout must be positive, not %d", o.resultTimeout)
	case o.estimator.size < 1 || o.estimator.size > maxEstimateWindow:
		return fmt.Errorf("infer5: estimate window must hold 1 to %d measurements, not %d", maxEstimateWindow, o.estimator.size)
	case !(o.estimator.p >= 0 && o.estimator.p <= 1):
		return fmt.Errorf("infer5: estimate percentile must be within [0, 1], not %g", o.estimator.p)
	case st == nil || len(st.Workers) == 0:
		return errors.New("infer5: no workers")
	case firstGPU(st) == nil:
		return errors.New("infer5: no GPUs in the cluster")
	}
	for _, m := range st.Workers[0].Models {
		if m.ID < 0 || m.ID >= maxModelID {
			return fmt.Errorf("infer5: model id %d out of range", m.ID)
		}
	}
	for w := 1; w < len(st.Workers); w++ {
		has := make(map[int]bool, len(st.Workers[w].Models))
		for _, m := range st.Workers[w].Models {
			has[m.ID] = true
		}
		for _, m := range st.Workers[0].Models {
			if !has[m.ID] {
				return fmt.Errorf("infer5: worker %d lacks model %d of worker 0", w, m.ID)
			}
		}
	}
	return nil
}

// firstGPU is the first GPU of the first worker with any (a worker lost
// during the controller's startup has none), or nil.
func firstGPU(st *scheduler.State) *scheduler.GPU {
	for w := range st.Workers {
		if len(st.Workers[w].GPUs) > 0 {
			return &st.Workers[w].GPUs[0]
		}
	}
	return nil
}

// buildModels creates the model table, indexed by id, from worker 0's
// models; ids without a model (or without a usable batch size) stay nil and
// are invalid in requests.
func (s *Scheduler) buildModels(models []scheduler.Model) {
	size := 0
	for i := range models {
		size = max(size, models[i].ID+1)
	}
	s.models = make([]*model, size)
	for i := range models {
		p := &models[i]
		if s.models[p.ID] != nil {
			continue // duplicate id: the original's map keeps one
		}
		if m := newModel(p, s.cfg, s.opts.estimator, s.log); m != nil {
			s.models[p.ID] = m
		} else {
			fmt.Fprintf(s.log, "Excluding model %d without usable batch sizes model=%s\n", p.ID, console.Safe(p.Path))
		}
	}
	fmt.Fprintf(s.log, "Created %d models\n", len(s.models))
}

// selectGPUs takes, from each worker in order, its first
// min(#GPUs, remaining/workers left) GPUs.
func (s *Scheduler) selectGPUs(st *scheduler.State) {
	remaining := max(s.cfg.MaxGPUs, 0)
	for w := range st.Workers {
		var gpus []*scheduler.GPU
		for i := range st.Workers[w].GPUs {
			g := &st.Workers[w].GPUs[i]
			if g.TotalPages != s.pagesPerGPU { // the original requires caches of one size (and crashed)
				fmt.Fprintf(s.log, "W%d-GPU%d is not used: its weights cache has %d pages, the others %d\n",
					w, g.ID, g.TotalPages, s.pagesPerGPU)
				continue
			}
			gpus = append(gpus, g)
		}
		n := min(len(gpus), remaining/(len(st.Workers)-w))
		for _, g := range gpus[:n] {
			s.newGPU(w, g)
		}
		remaining -= n
	}
	fmt.Fprintf(s.log, "Created %d GPUs on %d Workers\n", len(s.gpus), len(st.Workers))
}

// newGPU appends worker's GPU spec to the scheduler's GPUs.
func (s *Scheduler) newGPU(worker int, spec *scheduler.GPU) *gpu {
	g := &gpu{
		idx: len(s.gpus), worker: worker, local: spec.ID,
		pages: spec.TotalPages, free: spec.TotalPages,
		exec: newWorkerTracker(), pcie: newWorkerTracker(),
	}
	s.gpus = append(s.gpus, g)
	return g
}

// makeInstances gives g its row of instances, one per model id.
func (s *Scheduler) makeInstances(g *gpu, row []instance) {
	g.instances = row
	for id := range row {
		row[id] = instance{g: g, m: s.models[id], loadedAt: -1}
	}
}

// adoptResident marks models whose weights a GPU already holds as loaded
// there (the original ignored them, and so over-counted free pages).
func (s *Scheduler) adoptResident(st *scheduler.State) {
	for _, g := range s.gpus {
		s.adopt(g, st.Workers[g.worker].GPU(g.local))
	}
}

// adopt marks the models whose weights spec says g holds as loaded there.
// It returns how many it adopted.
func (s *Scheduler) adopt(g *gpu, spec *scheduler.GPU) int {
	n := 0
	for _, id := range spec.LoadedModels {
		if id < 0 || id >= len(s.models) || s.models[id] == nil {
			continue
		}
		m, inst := s.models[id], &g.instances[id]
		if inst.loaded || g.free < m.pages {
			fmt.Fprintf(s.log, "Ignoring resident model %d on W%d-GPU%d\n", id, g.worker, g.local)
			continue
		}
		g.free -= m.pages
		inst.loaded = true
		m.addLoaded(inst)
		s.tracker.resident(id, g.idx)
		n++
	}
	return n
}

func (s *Scheduler) printCapacity() {
	gpuPages, modelPages := 0, 0
	for _, g := range s.gpus {
		gpuPages += g.pages
	}
	for _, m := range s.models {
		if m != nil {
			modelPages += m.pages
		}
	}
	pct := 0
	if gpuPages > 0 {
		pct = 100 * modelPages / gpuPages
	}
	fmt.Fprintf(s.log, "Total GPU capacity %d pages (%d per GPU).\n", gpuPages, gpuPages/len(s.gpus))
	fmt.Fprintf(s.log, "Total model pages %d (%d%% oversubscription).\n", modelPages, pct)
}
