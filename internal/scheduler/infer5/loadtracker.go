package infer5

import (
	"math"
	"math/bits"
	"slices"
)

// loadTracker is INFER5's demand model for weights placement
// (spec/controller.md §4.11): it decides which model a GPU with PCIe slack
// should load next and which model to evict when pages run out.
//
// Each request adds "exec" demand (its b1 work normalised to the SLO
// window) and "load" demand (the same normalised to its load deadline). Exec
// demand is spread over the GPUs holding the model in proportion to their
// spare capacity; load demand not covered by those GPUs is the model's load
// priority. Load demand is credited once, when the request executes or is
// cancelled, or when its load deadline passes, whichever is first.
//
// The original accumulates updates atomically from many threads and lets a
// tracker thread apply them every 10 µs, re-sorting the model in an ordered
// set per GPU each time — O(GPUs · log models) per update. Here updates
// accumulate the same way and are applied per model when the scheduler next
// makes decisions, at a cost proportional to the GPUs holding the model;
// queries scan the models that want loading (load) or the models on one
// GPU (evict) instead of keeping per-GPU orders. With the original's loads
// (no DemandGuard) every model with requests wants loading, and a GPU that
// holds them all, the usual case, would scan them at every decision for
// nothing: each GPU counts the wanted models it lacks, and a load query
// there returns at once when there are none.
type loadTracker struct {
	capacity    int64 // the default SLO
	demandGuard bool  // see DemandGuard
	models      []ltModel
	gpus        []ltGPU
	seq         uint64 // recency clock for last-used marks
	stale       []int32
	expiries    timers[expiry]
	wanted      []int32 // models a GPU without them should load, unordered
}

type ltGPU struct {
	outstanding int64   // exec demand allocated here, plus a 1 ms floor
	weight      float64 // capacity / outstanding, as of the last allocation here
	models      []int32 // models present (loaded or loading), unordered
	lacking     int     // wanted models not present here
}

type ltModel struct {
	id int32

	// Updates since the model was last processed.
	newExec, newLoad     int64
	loadBy               int64 // load deadline of the latest request
	deltaExec, deltaLoad int64
	touched              []int32
	events               []loadEvent
	stale                bool

	// Per GPU, slices of flat arrays shared by all models.
	present  []bool // loaded or loading
	loading  []bool
	alloc    []int64 // exec demand allocated to the GPU
	lastUsed []uint64
	pos      []int32 // index in ltGPU.models

	gpus []int32 // GPUs present, ascending

	outstandingExec, outstandingLoad           int64
	completedExec, completedLoad, timedoutLoad int64

	priority int64 // unmet load demand
	empty    bool  // no outstanding demand at all
	wantedAt int   // index in loadTracker.wanted, or -1
}

type loadEvent struct {
	gpu int32
	ok  bool
}

type expiry struct {
	model int32
	size  int64
}

// demand is what one request contributes to its model's demand; the parts
// are zeroed as they are credited.
type demand struct{ exec, load int64 }

func newLoadTracker(nGPUs, nModels int, capacity int64, demandGuard bool) *loadTracker {
	t := &loadTracker{
		capacity:    capacity,
		demandGuard: demandGuard,
		models:      make([]ltModel, nModels),
		gpus:        make([]ltGPU, nGPUs),
	}
	for g := range t.gpus {
		t.gpus[g] = ltGPU{outstanding: ms, weight: 0.01}
	}
	for m := range t.models {
		t.models[m] = ltModel{id: int32(m), empty: true, wantedAt: -1}
	}
	t.layout()
	for m := range t.models {
		for g := range t.models[m].lastUsed {
			t.models[m].lastUsed[g] = t.next()
		}
	}
	return t
}

// layout gives every model its per-GPU slices of flat arrays as wide as
// t.gpus, keeping what they held.
func (t *loadTracker) layout() {
	nGPUs := len(t.gpus)
	n := nGPUs * len(t.models)
	present, loading := make([]bool, n), make([]bool, n)
	alloc, lastUsed, pos := make([]int64, n), make([]uint64, n), make([]int32, n)
	for m := range t.models {
		lo, hi := m*nGPUs, (m+1)*nGPUs
		lm := &t.models[m]
		copy(present[lo:hi], lm.present)
		copy(loading[lo:hi], lm.loading)
		copy(alloc[lo:hi], lm.alloc)
		copy(lastUsed[lo:hi], lm.lastUsed)
		copy(pos[lo:hi], lm.pos)
		lm.present, lm.loading, lm.alloc = present[lo:hi], loading[lo:hi], alloc[lo:hi]
		lm.lastUsed, lm.pos = lastUsed[lo:hi], pos[lo:hi]
	}
}

func (t *loadTracker) next() uint64 { t.seq++; return t.seq }

// growGPUs adds a GPU, with nothing on it, after the last: a worker
// rejoined with a GPU the scheduler has not had.
func (t *loadTracker) growGPUs() {
	t.gpus = append(t.gpus, ltGPU{outstanding: ms, weight: 0.01, lacking: len(t.wanted)})
	t.layout()
	for m := range t.models {
		t.models[m].lastUsed[len(t.gpus)-1] = t.next()
	}
}

// addRequest records a new request for model m whose b1 execution takes
// size and which must start executing within execBy and loading within
// loadBy (both positive).
func (t *loadTracker) addRequest(m int, size, execBy, loadBy int64) demand {
	lm := &t.models[m]
	d := demand{exec: mulDiv(size, t.capacity, execBy), load: mulDiv(size, t.capacity, loadBy)}
	lm.loadBy = loadBy
	lm.newExec += d.exec
	lm.newLoad += d.load
	t.markStale(lm)
	return d
}

// executing credits the load demand of a request sent to GPU g.
func (t *loadTracker) executing(m int, d *demand, g int) {
	lm := &t.models[m]
	lm.deltaLoad += d.load
	d.load = 0
	t.touch(lm, g)
}

// completed credits the exec demand of a request answered by GPU g.
func (t *loadTracker) completed(m int, d *demand, g int) {
	lm := &t.models[m]
	lm.deltaExec += d.exec
	d.exec = 0
	t.touch(lm, g)
}

// cancelled credits all remaining demand of a request that timed out.
func (t *loadTracker) cancelled(m int, d *demand) {
	lm := &t.models[m]
	lm.deltaLoad += d.load
	lm.deltaExec += d.exec
	*d = demand{}
	t.markStale(lm)
}

// loadComplete reports the outcome of loading model m onto GPU g.
func (t *loadTracker) loadComplete(m, g int, ok bool) {
	lm := &t.models[m]
	lm.events = append(lm.events, loadEvent{int32(g), ok})
	t.markStale(lm)
}

func (t *loadTracker) touch(lm *ltModel, g int) {
	if !slices.Contains(lm.touched, int32(g)) {
		lm.touched = append(lm.touched, int32(g))
	}
	t.markStale(lm)
}

func (t *loadTracker) markStale(lm *ltModel) {
	if !lm.stale {
		lm.stale = true
		t.stale = append(t.stale, lm.id)
	}
}

// update brings the tracker up to now: expires load demand whose deadline
// passed and applies every model's pending updates.
func (t *loadTracker) update(now int64) {
	for t.expiries.len() > 0 {
		if at, _ := t.expiries.top(); at >= now {
			break
		}
		e := t.expiries.pop()
		lm := &t.models[e.model]
		lm.timedoutLoad += e.size
		t.distribute(lm)
		t.reprioritise(lm)
	}
	for _, m := range t.stale {
		t.process(&t.models[m], now)
	}
	t.stale = t.stale[:0]
}

func (t *loadTracker) process(lm *ltModel, now int64) {
	lm.stale = false
	newLoad, newExec := lm.newLoad, lm.newExec
	lm.newLoad, lm.newExec = 0, 0
	if newLoad > 0 {
		// The original recorded the size after resetting it, so load demand
		// never expired; this records what was added.
		t.expiries.push(now+lm.loadBy, expiry{lm.id, newLoad})
	}
	lm.outstandingExec += newExec
	lm.outstandingLoad += newLoad
	lm.completedExec += lm.deltaExec
	lm.completedLoad += lm.deltaLoad
	lm.deltaExec, lm.deltaLoad = 0, 0

	slices.Sort(lm.touched) // the original marks GPUs in index order
	for _, g := range lm.touched {
		lm.lastUsed[g] = t.next()
	}
	lm.touched = lm.touched[:0]

	for _, e := range lm.events {
		if !lm.present[e.gpu] || !lm.loading[e.gpu] {
			continue // the load was already given up
		}
		if e.ok {
			lm.loading[e.gpu] = false
			lm.lastUsed[e.gpu] = t.next()
		} else {
			t.removeGPU(lm, int(e.gpu))
		}
	}
	lm.events = lm.events[:0]

	t.distribute(lm)
	t.reprioritise(lm)
}

// distribute credits completed and expired demand and spreads the model's
// outstanding exec demand over the GPUs holding it, weighted by their spare
// capacity.
func (t *loadTracker) distribute(lm *ltModel) {
	lm.outstandingExec -= lm.completedExec
	lm.completedExec = 0
	// Each request's load demand shows up in both completedLoad and
	// timedoutLoad eventually; crediting the larger running balance
	// credits it once, at whichever came first.
	d := max(lm.completedLoad, lm.timedoutLoad)
	lm.outstandingLoad -= d
	lm.completedLoad -= d
	lm.timedoutLoad -= d

	for _, g := range lm.gpus {
		t.gpus[g].outstanding -= lm.alloc[g]
		lm.alloc[g] = 0
	}
	if len(lm.gpus) == 0 {
		return
	}
	total := t.totalWeight(lm)
	for _, g := range lm.gpus {
		gpu := &t.gpus[g]
		a := int64(float64(lm.outstandingExec) * (gpu.weight / total))
		lm.alloc[g] = a
		gpu.outstanding += a
		gpu.weight = float64(t.capacity) / float64(max(gpu.outstanding, 1))
	}
}

// reprioritise recomputes the model's load priority (its load demand minus
// what the GPUs holding it can serve) and whether it wants loading.
func (t *loadTracker) reprioritise(lm *ltModel) {
	p := lm.outstandingLoad
	if total := t.totalWeight(lm); total > 0 && p > 0 {
		for _, g := range lm.gpus {
			gpu := &t.gpus[g]
			required := int64(float64(lm.outstandingLoad) * (gpu.weight / total))
			p -= mulDiv(t.capacity, required, max(gpu.outstanding, 1))
		}
	}
	lm.priority = p
	lm.empty = lm.outstandingLoad == 0 && lm.outstandingExec == 0

	want := !lm.empty && (p > 0 || !t.demandGuard)
	switch {
	case want && lm.wantedAt < 0:
		lm.wantedAt = len(t.wanted)
		t.wanted = append(t.wanted, lm.id)
		t.countLacking(lm, 1)
	case !want && lm.wantedAt >= 0:
		last := t.wanted[len(t.wanted)-1]
		t.wanted[lm.wantedAt] = last
		t.models[last].wantedAt = lm.wantedAt
		t.wanted = t.wanted[:len(t.wanted)-1]
		lm.wantedAt = -1
		t.countLacking(lm, -1)
	}
}

// countLacking adds d to the lacking count of every GPU without lm.
func (t *loadTracker) countLacking(lm *ltModel, d int) {
	for g := range t.gpus {
		if !lm.present[g] {
			t.gpus[g].lacking += d
		}
	}
}

func (t *loadTracker) totalWeight(lm *ltModel) float64 {
	var total float64
	for _, g := range lm.gpus { // ascending, so sums round as the original's
		total += t.gpus[g].weight
	}
	return total
}

// wantsLoad reports whether some model wants loading somewhere.
func (t *loadTracker) wantsLoad() bool { return len(t.wanted) > 0 }

// choose is the id of the model GPU g should load — the one with the most
// unmet demand among those not on g, the most recently used on g first
// among equals — or −1.
func (t *loadTracker) choose(g int) int {
	if t.gpus[g].lacking == 0 {
		return -1
	}
	var best *ltModel
	for _, m := range t.wanted {
		lm := &t.models[m]
		if lm.present[g] {
			continue
		}
		if best == nil || lm.priority > best.priority ||
			(lm.priority == best.priority && (lm.lastUsed[g] > best.lastUsed[g] ||
				(lm.lastUsed[g] == best.lastUsed[g] && lm.id < best.id))) {
			best = lm
		}
	}
	if best == nil {
		return -1
	}
	return int(best.id)
}

// loadModel records model m, as chosen for GPU g (choose), as loading
// there.
func (t *loadTracker) loadModel(m, g int) {
	lm := &t.models[m]
	t.addGPU(lm, g)
	lm.lastUsed[g] = t.next()
	t.distribute(lm)
	t.reprioritise(lm)
}

// evictModel picks the model GPU g should evict — the least recently used
// model without demand, else the least recently used — removes it from g
// and returns its id, or −1 if nothing on g can be evicted (models being
// loaded cannot).
func (t *loadTracker) evictModel(g int) int {
	var victim *ltModel
	for _, m := range t.gpus[g].models {
		lm := &t.models[m]
		if lm.loading[g] {
			continue
		}
		if victim == nil || (lm.empty && !victim.empty) ||
			(lm.empty == victim.empty && lm.lastUsed[g] < victim.lastUsed[g]) {
			victim = lm
		}
	}
	if victim == nil {
		return -1
	}
	t.removeGPU(victim, g)
	t.distribute(victim)
	t.reprioritise(victim)
	return int(victim.id)
}

// dropGPU removes every model from GPU g, which is down: their demand
// goes to the GPUs left.
func (t *loadTracker) dropGPU(g int) {
	for len(t.gpus[g].models) > 0 {
		lm := &t.models[t.gpus[g].models[0]]
		t.removeGPU(lm, g)
		t.distribute(lm)
		t.reprioritise(lm)
	}
}

// resident records model m as loaded on GPU g from the start.
func (t *loadTracker) resident(m, g int) {
	lm := &t.models[m]
	t.addGPU(lm, g)
	lm.loading[g] = false
	lm.lastUsed[g] = t.next()
	t.distribute(lm)
	t.reprioritise(lm)
}

func (t *loadTracker) addGPU(lm *ltModel, g int) {
	if lm.wantedAt >= 0 && !lm.present[g] {
		t.gpus[g].lacking--
	}
	lm.present[g], lm.loading[g] = true, true
	i, _ := slices.BinarySearch(lm.gpus, int32(g))
	lm.gpus = slices.Insert(lm.gpus, i, int32(g))
	gpu := &t.gpus[g]
	lm.pos[g] = int32(len(gpu.models))
	gpu.models = append(gpu.models, lm.id)
}

func (t *loadTracker) removeGPU(lm *ltModel, g int) {
	if lm.wantedAt >= 0 && lm.present[g] {
		t.gpus[g].lacking++
	}
	lm.present[g], lm.loading[g] = false, false
	if i, ok := slices.BinarySearch(lm.gpus, int32(g)); ok {
		lm.gpus = slices.Delete(lm.gpus, i, i+1)
	}
	gpu := &t.gpus[g]
	i := lm.pos[g]
	last := gpu.models[len(gpu.models)-1]
	gpu.models[i] = last
	t.models[last].pos[g] = i
	gpu.models = gpu.models[:len(gpu.models)-1]
	gpu.outstanding -= lm.alloc[g]
	lm.alloc[g] = 0
}

// mulDiv returns a·b/c for non-negative a, b and positive c without
// overflowing in between, saturating at the int64 range.
func mulDiv(a, b, c int64) int64 {
	if a < 0 || b < 0 || c <= 0 {
		return int64(float64(a) * float64(b) / float64(max(c, 1)))
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}
