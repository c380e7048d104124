//go:build linux && cgo

package cuda

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
)

// Graph sets. A graph bakes in the addresses it reads, but the pages of a
// model's weights change with every LoadWeights, and the copies of a model
// (LoadModelFromDisk with copies > 1) share one runtime model while each
// holds pages of its own. So a graph set reads the weights at a fixed
// device address of its own, a reserved range the size of the model's
// pages, and LoadWeights maps the cache pages it filled there: moving a
// set to other pages is an unmap, a map per page and an access change,
// microseconds of host time, where re-capturing every graph took
// milliseconds per batch size. An instance has loadSets sets from Load
// (the first LoadWeights maps one, another copy or a reload while the
// first drains the other) and makes more, up to maxGraphSets, for more
// copies; Exec picks the set of its pages, and remaps one first if a
// copy's set was taken meanwhile.

// maxGraphSets bounds the graph sets of an instance; loadSets are
// captured at Load.
const (
	maxGraphSets = 64
	loadSets     = 2
)

// graphSet is an executable graph per batch size, all reading the
// model's weights at va, where the cache pages pages are mapped.
type graphSet struct {
	va     cu.DevicePtr // reserved for the model's pages; 0 without weights
	mapped bool         // whether pages are mapped at va (and the set serves them)
	pages  []int
	// evicted says the worker evicted the weights from pages: the set is
	// the first to take other pages (Model.Evicted).
	evicted bool
	execs   []cu.GraphExec // parallel to instance.variants; nil until captured
	// inflight counts the Execs launched with the set and not yet
	// complete: its pages are not unmapped before they are (a GPU reading
	// an unmapped address faults, and that error is sticky).
	inflight int
	used     uint64 // instance.uses at its last use
}

// newSet reserves a set's address range; its graphs come with capture.
func (in *instance) newSet() (*graphSet, error) {
	s := &graphSet{}
	if n := in.weightsSpan(); n > 0 {
		if err := in.d.enter(); err != nil {
			return nil, err
		}
		va, err := cu.MemAddressReserve(n)
		in.d.leave()
		if err != nil {
			return nil, fmt.Errorf("reserving %d bytes of address space: %w", n, err)
		}
		s.va = va
	}
	return s, nil
}

// weightsSpan is the size of a set's address range: the model's pages.
func (in *instance) weightsSpan() uint64 { return uint64(len(in.m.pageLens)) * in.d.pageSize }

// vaPages are the addresses of the model's pages in s's range.
func (in *instance) vaPages(s *graphSet) []cu.DevicePtr {
	out := make([]cu.DevicePtr, len(in.m.pageLens))
	for i := range out {
		out[i] = s.va.Add(uint64(i) * in.d.pageSize)
	}
	return out
}

// destroySet frees the set's graphs and address range; it must be idle,
// in the GPU's context.
func (in *instance) destroySet(s *graphSet) {
	for _, e := range s.execs {
		if e != (cu.GraphExec{}) {
			e.Destroy()
		}
	}
	s.execs = nil
	if s.mapped {
		cu.MemUnmap(s.va, in.weightsSpan())
		s.mapped = false
	}
	if s.va != 0 {
		cu.MemAddressFree(s.va, in.weightsSpan())
		s.va = 0
	}
}

// find returns the set serving pages, or nil; under in.mu.
func (in *instance) find(pages []int) *graphSet {
	for _, s := range in.sets {
		if s.mapped && slices.Equal(s.pages, pages) {
			in.uses++
			s.used = in.uses
			return s
		}
	}
	return nil
}

// victim returns the set to map pages into: one whose weights were
// evicted (told by the worker, or known since it serves some of those
// pages and the worker hands out only free ones), else an unmapped one,
// else nil if there may be a new one, else the least recently used; under
// in.mu.
func (in *instance) victim(pages []int) *graphSet {
	for _, s := range in.sets {
		if s.mapped && (s.evicted || overlap(s.pages, pages)) {
			return s
		}
	}
	for _, s := range in.sets {
		if !s.mapped {
			return s
		}
	}
	if len(in.sets) < maxGraphSets {
		return nil
	}
	lru := in.sets[0]
	for _, s := range in.sets {
		if s.used < lru.used {
			lru = s
		}
	}
	return lru
}

// bindServing makes sure a graph set serves the cache pages pages: it
// returns at once if one does; otherwise it takes a set (victim, or a new
// one whose graphs it captures first), waits for the set's Execs in
// flight, and maps the pages at the set's address. It returns the host
// time that took and whether there was anything to do.
func (in *instance) bindServing(pages []int) (time.Duration, bool, error) {
	d := in.d
	for _, p := range pages {
		if p < 0 || p >= d.pages {
			return 0, false, fmt.Errorf("page %d is outside GPU %d's weights cache of %d pages", p, d.id, d.pages)
		}
	}
	// A set that serves the pages already needs nothing, and no wait for
	// the sets' lock, which a concurrent Load holds while it captures.
	in.mu.Lock()
	if s := in.find(pages); s != nil {
		s.evicted = false // reloaded into the same pages
		in.mu.Unlock()
		return 0, false, nil
	}
	in.mu.Unlock()
	d.setsMu.Lock()
	defer d.setsMu.Unlock()
	t0 := time.Now()
	in.mu.Lock()
	if s := in.find(pages); s != nil {
		s.evicted = false // reloaded into the same pages
		in.mu.Unlock()
		return 0, false, nil
	}
	s := in.victim(pages)
	if s == nil {
		in.mu.Unlock()
		var err error
		if s, err = in.newSet(); err == nil {
			err = in.capture(s)
		}
		if err != nil {
			if s != nil {
				in.destroyIdle(s)
			}
			return 0, true, err
		}
		in.mu.Lock()
		in.sets = append(in.sets, s)
	}
	for s.inflight > 0 {
		in.idle.Wait()
	}
	// Unserving under in.mu: no Exec picks the set from here on.
	wasMapped, old := s.mapped, s.pages
	s.mapped, s.pages = false, nil
	in.mu.Unlock()
	if err := in.remap(s, wasMapped, pages); err != nil {
		if errors.Is(err, errStillMapped) {
			// Its range still holds the old pages: it may serve them (if
			// they were not evicted) or be taken again, never mapped over.
			in.mu.Lock()
			s.mapped, s.pages = true, old
			in.mu.Unlock()
		}
		return time.Since(t0), true, err
	}
	in.mu.Lock()
	s.mapped, s.pages, s.evicted = true, slices.Clone(pages), false
	in.uses++
	s.used = in.uses
	in.mu.Unlock()
	return time.Since(t0), true, nil
}

// errStillMapped is remap's error when the old mapping could not be undone.
var errStillMapped = errors.New("unmapping a graph set's old pages")

// remap maps the cache pages pages at s's address range, unmapping what
// was there first (wasMapped); s is not serving and has no Exec in
// flight.
func (in *instance) remap(s *graphSet, wasMapped bool, pages []int) error {
	d := in.d
	if s.va == 0 {
		return nil
	}
	if err := d.enter(); err != nil {
		return err
	}
	defer d.leave()
	n := in.weightsSpan()
	if wasMapped {
		if err := cu.MemUnmap(s.va, n); err != nil {
			return fmt.Errorf("%w: %w", errStillMapped, err)
		}
	}
	for i, p := range pages {
		if err := cu.MemMap(s.va.Add(uint64(i)*d.pageSize), d.pageSize, d.handles[p]); err != nil {
			if i > 0 {
				cu.MemUnmap(s.va, uint64(i)*d.pageSize)
			}
			return err
		}
	}
	if err := cu.MemSetAccess(s.va, n, d.dev); err != nil {
		cu.MemUnmap(s.va, uint64(len(pages))*d.pageSize) // what was mapped
		return err
	}
	return nil
}

// capture captures set s's graphs: every variant's op list with the
// weights at s's address range and the rest in the serving workspace,
// each on a builder of its own and all at once (a capture is host work,
// tens of µs per cuDNN call). It returns once the graphs are uploaded.
func (in *instance) capture(s *graphSet) error {
	d := in.d
	// The drivers and libraries may look up an address they are given (a
	// copy's direction, a pointer's memory type) even while captured, and
	// an unmapped range fails there: the set's range is backed by the first
	// cache pages meanwhile. Nothing runs, so nothing is read or written.
	if n := len(in.m.pageLens); s.va != 0 && !s.mapped && n <= d.pages {
		if err := in.remap(s, false, firstPages(n)); err != nil {
			return err
		}
		defer in.unmapIdle(s)
	}
	s.execs = make([]cu.GraphExec, len(in.variants))
	pages := in.vaPages(s)
	errs := make([]error, len(in.variants))
	var wg sync.WaitGroup
	for i := range in.variants {
		wg.Go(func() { s.execs[i], errs[i] = in.captureVariant(d.capturers[i], pages, i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// captureVariant is capture's work for variant i on builder b.
func (in *instance) captureVariant(b *builder, pages []cu.DevicePtr, i int) (cu.GraphExec, error) {
	d, v := in.d, in.variants[i]
	if err := d.enter(); err != nil {
		return cu.GraphExec{}, err
	}
	defer d.leave()
	bind := v.lay.bind(d.ws, pages, d.zeros)
	if err := b.useBLASWorkspace(bind.blas, bind.blasSize); err != nil {
		return cu.GraphExec{}, err
	}
	g, err := b.capture(func() error {
		for _, st := range v.steps {
			if err := st.enqueue(b, d.k, &bind); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return cu.GraphExec{}, err
	}
	defer g.Destroy()
	e, err := g.Instantiate(0)
	if err != nil {
		return cu.GraphExec{}, err
	}
	err = errors.Join(e.Upload(b.s), b.end.Record(b.s))
	if err == nil {
		_, _, err = d.chk.wait(b.w, -1)
	}
	if err != nil {
		e.Destroy()
		return cu.GraphExec{}, err
	}
	return e, nil
}

// unmapIdle unmaps an unmapped set's range after a capture, from outside
// the GPU's context.
func (in *instance) unmapIdle(s *graphSet) {
	if in.d.enter() == nil {
		cu.MemUnmap(s.va, in.weightsSpan())
		in.d.leave()
	}
}

// firstPages is cache pages 0 to n−1.
func firstPages(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// destroyIdle is destroySet from outside the GPU's context.
func (in *instance) destroyIdle(s *graphSet) {
	if in.d.enter() == nil {
		in.destroySet(s)
		in.d.leave()
	}
}

// Evicted implements runtime.Evicter: the set serving pages on gpu (if
// any) is the first to take the model's next pages, with a remap instead
// of a capture.
func (m *Model) Evicted(gpu int, pages []int) {
	if gpu < 0 || gpu >= len(m.inst) || m.inst[gpu] == nil {
		return
	}
	in := m.inst[gpu]
	in.mu.Lock()
	defer in.mu.Unlock()
	for _, s := range in.sets {
		if s.mapped && slices.Equal(s.pages, pages) {
			s.evicted = true
		}
	}
}

// done ends an Exec launched with s (launch counted it in flight).
func (in *instance) done(s *graphSet) {
	in.mu.Lock()
	if s.inflight--; s.inflight == 0 {
		in.idle.Broadcast()
	}
	in.mu.Unlock()
}

func overlap(a, b []int) bool {
	for _, p := range a {
		if slices.Contains(b, p) {
			return true
		}
	}
	return false
}
