package infer5

import "math"

// gpu is one GPU the scheduler uses.
type gpu struct {
	idx    int // global, in creation order
	worker int
	local  int // worker-local GPU id
	pages  int
	free   int // pages not claimed by a load decision

	exec workerTracker // GPU execution
	pcie workerTracker // weights transfers

	strategies strategyHeap
	activated  []*instance // instances whose strategies need computing
	instances  []instance  // one per model id

	// INFER4: the strategies of the requests for the models the GPU
	// holds, by priority (a latest start time); and its loads' pacing.
	strategies4 timers[*strategy4]
	loads       int   // LoadWeights outstanding
	lastLoad    int64 // when it last consulted the load tracker, if consulted
	consulted   bool

	candidate bool  // queued for an infer pass
	wakeAt    int64 // pending infer wake-up, or 0
	down      bool  // out of service (gpuDown)
}

// instance is a model on a GPU.
type instance struct {
	g        *gpu
	m        *model
	loaded   bool
	loading  bool
	version  int // bumped by every load or evict decision
	loadedAt int // index in m.loaded, or −1

	// active: queued in g.activated or with strategies in g.strategies.
	// Strategies whose gen differs from the instance's are stale: an
	// instance's strategies are dropped together by bumping gen.
	active bool
	gen    uint32
}

// strategy is an option for a GPU: run a batch of model at batch size,
// ideally starting by priority.
type strategy struct {
	priority int64
	batch    int32
	model    int32
	gen      uint32
	inst     *instance
}

func (s *strategy) before(t *strategy) bool {
	if s.priority != t.priority {
		return s.priority < t.priority
	}
	if s.batch != t.batch {
		return s.batch < t.batch
	}
	return s.model < t.model
}

// strategyHeap orders a GPU's strategies by (priority, batch size, model),
// as the original's ordered set does.
type strategyHeap []strategy

func (h *strategyHeap) push(s strategy) {
	*h = append(*h, s)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if !a[i].before(&a[p]) {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
}

func (h *strategyHeap) pop() {
	a := *h
	n := len(a) - 1
	a[0] = a[n]
	a[n] = strategy{}
	a = a[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && a[r].before(&a[l]) {
			m = r
		}
		if !a[m].before(&a[i]) {
			break
		}
		a[i], a[m] = a[m], a[i]
		i = m
	}
	*h = a
}

// best drops stale strategies from the top and returns the best live one.
func (h *strategyHeap) best() (strategy, bool) {
	for len(*h) > 0 {
		if s := (*h)[0]; s.gen == s.inst.gen {
			return s, true
		}
		h.pop()
	}
	return strategy{}, false
}

// activate queues inst for strategy computation on its GPU.
func (s *Scheduler) activate(inst *instance) {
	if inst.active {
		return
	}
	inst.active = true
	inst.g.activated = append(inst.g.activated, inst)
	s.markCandidate(inst.g)
}

// addStrategies inserts inst's strategies of batch size ≤ maxBatch into its
// GPU's set, or deactivates it if it has none.
func (s *Scheduler) addStrategies(inst *instance, maxBatch int) {
	s.strategyBuf = inst.m.strategies(s.strategyBuf[:0], maxBatch)
	if len(s.strategyBuf) == 0 {
		inst.active = false
		return
	}
	for _, st := range s.strategyBuf {
		st.gen, st.inst = inst.gen, inst
		inst.g.strategies.push(st)
	}
}

// scheduleInfer is one pass of the original's GPU.schedule_infer: while the
// GPU has less than schedule_ahead of work queued, try its most urgent
// strategy; send at most one Infer. It reports whether it sent one.
func (s *Scheduler) scheduleInfer(g *gpu) bool {
	if s.opts.infer4 {
		return s.scheduleInfer4(g)
	}
	now := s.now
	for _, inst := range g.activated {
		s.addStrategies(inst, math.MaxInt)
	}
	clear(g.activated)
	g.activated = g.activated[:0]

	for {
		st, ok := g.strategies.best()
		if !ok {
			return false
		}
		freeAt := g.exec.available(now)
		if freeAt >= now+s.cfg.ScheduleAhead {
			s.wakeGPU(g, g.exec.readyAt(now, s.cfg.ScheduleAhead))
			return false
		}
		g.strategies.pop()
		inst := st.inst
		inst.gen++ // drops its other strategies
		if !inst.loaded {
			inst.active = false
			continue
		}
		batch, i := inst.m.tryDequeue(s.batchBuf[:0], freeAt, g.exec.clock, int(st.batch))
		s.batchBuf = batch
		if len(batch) == 0 {
			s.addStrategies(inst, int(st.batch)-1)
			continue
		}
		s.sendInfer(inst, batch, i, freeAt)
		s.addStrategies(inst, math.MaxInt)
		return true
	}
}

// markCandidate queues g for an infer pass.
func (s *Scheduler) markCandidate(g *gpu) {
	if !g.candidate && !g.down {
		g.candidate = true
		s.candidates = append(s.candidates, g)
	}
}

// wakeGPU asks for an infer pass on g at time at.
func (s *Scheduler) wakeGPU(g *gpu, at int64) {
	if at == never || g.down || (g.wakeAt > s.now && g.wakeAt <= at) {
		return
	}
	g.wakeAt = at
	s.gpuWakes.push(at, g)
}

// runInfer runs infer passes over the candidate GPUs in rounds, one Infer
// per GPU per round as the original's round-robin threads do, until no GPU
// sends anything.
func (s *Scheduler) runInfer() {
	for len(s.candidates) > 0 {
		round := s.candidates
		s.candidates = s.spare[:0]
		for _, g := range round {
			g.candidate = false
		}
		// Start each round at another GPU, as the original's threads take
		// GPUs round-robin: otherwise the first GPU holding a model would
		// take all of its requests while others sit idle.
		s.rr++
		for i := range round {
			if g := round[(i+s.rr)%len(round)]; s.scheduleInfer(g) {
				s.markCandidate(g)
			}
		}
		clear(round)
		s.spare = round[:0]
	}
}
