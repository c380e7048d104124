package cuda

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
)

// Graph sets. A graph bakes in the addresses of the weights it reads, and
// the copies of a model (LoadModelFromDisk with copies > 1) share one
// runtime model while each holds its own pages. So an instance keeps
// several sets of executable graphs, one per page set loaded: Exec picks
// the set of its pages, and LoadWeights into new pages updates a set that
// is no longer in use (cuGraphExecUpdate is much cheaper than a new
// instantiation) or makes a new one. Should a copy's set have been reused
// meanwhile, Exec rebinds one for it first.

// maxGraphSets bounds the graph sets of an instance; spareSets are made
// at Load besides the graphs that were timed.
const (
	maxGraphSets = 64
	spareSets    = 2
)

// graphSet is an executable graph per batch size, all reading the same
// weights pages.
type graphSet struct {
	pages []int // cache pages the graphs read
	// serving is whether the graphs read pages and the serving
	// workspace; false for the graphs as built at Load (the profiling
	// area) and for a set being rebound.
	serving bool
	execs   []cu.GraphExec // parallel to instance.variants; zero until made
	used    uint64         // instance.uses at its last use
}

func (s *graphSet) destroy() {
	for _, e := range s.execs {
		if e != (cu.GraphExec{}) {
			e.Destroy()
		}
	}
	s.execs = nil
}

// find returns the set reading pages, or nil; under in.mu.
func (in *instance) find(pages []int) *graphSet {
	for _, s := range in.sets {
		if s.serving && slices.Equal(s.pages, pages) {
			in.uses++
			s.used = in.uses
			return s
		}
	}
	return nil
}

// victim returns the set to rebind to pages: one reading some of those
// pages (its weights were evicted, since the worker hands out only free
// pages), else one not serving, else a new one while there are fewer than
// maxGraphSets, else the least recently used; under in.mu.
func (in *instance) victim(pages []int) *graphSet {
	for _, s := range in.sets {
		if s.serving && overlap(s.pages, pages) {
			return s
		}
	}
	for _, s := range in.sets {
		if !s.serving {
			return s
		}
	}
	if len(in.sets) < maxGraphSets {
		s := &graphSet{execs: make([]cu.GraphExec, len(in.variants))}
		in.sets = append(in.sets, s)
		return s
	}
	lru := in.sets[0]
	for _, s := range in.sets {
		if s.used < lru.used {
			lru = s
		}
	}
	return lru
}

// bindServing makes sure a graph set reads the cache pages pages: it
// returns at once if one does, and otherwise rebinds a set (victim) and
// waits for its graphs to be uploaded. It returns the host time each
// batch size's rebind took and whether there was one.
func (in *instance) bindServing(pages []int) ([]time.Duration, bool, error) {
	d := in.d
	addrs := make([]cu.DevicePtr, len(pages))
	for i, p := range pages {
		if p < 0 || p >= d.pages {
			return nil, false, fmt.Errorf("page %d is outside GPU %d's weights cache of %d pages", p, d.id, d.pages)
		}
		addrs[i] = d.pageAddr(p)
	}
	d.rebindMu.Lock()
	defer d.rebindMu.Unlock()
	in.mu.Lock()
	if in.find(pages) != nil {
		in.mu.Unlock()
		return nil, false, nil
	}
	s := in.victim(pages)
	s.serving, s.pages = false, nil
	in.mu.Unlock()
	ds, err := in.rebind(d.ws, addrs, s)
	if err != nil {
		return nil, true, err
	}
	in.mu.Lock()
	s.serving, s.pages = true, slices.Clone(pages)
	in.uses++
	s.used = in.uses
	in.mu.Unlock()
	return ds, true, nil
}

// rebind points set s's graphs at the weights at pages and the rest in
// region r: each variant's op list is re-captured, its graph updated and
// uploaded, on a builder of its own and all variants at once (each
// re-capture is host work, tens of µs per cuDNN call). It returns once
// the uploads are done, with the host time each variant took; the caller
// holds d.rebindMu.
func (in *instance) rebind(r region, pages []cu.DevicePtr, s *graphSet) ([]time.Duration, error) {
	out := make([]time.Duration, len(in.variants))
	errs := make([]error, len(in.variants))
	var wg sync.WaitGroup
	for i := range in.variants {
		wg.Go(func() {
			out[i], errs[i] = in.rebindVariant(in.d.rebinders[i], r, pages, s, i)
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// rebindVariant is rebind's work for variant i on builder b.
func (in *instance) rebindVariant(b *builder, r region, pages []cu.DevicePtr, s *graphSet, i int) (time.Duration, error) {
	d, v := in.d, in.variants[i]
	if err := d.enter(); err != nil {
		return 0, err
	}
	defer d.leave()
	t0 := time.Now()
	bind := v.lay.bind(r, pages, d.zeros)
	if err := b.useBLASWorkspace(bind.blas, bind.blasSize); err != nil {
		return 0, err
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
		return 0, err
	}
	err = in.update(s, i, g, b.s)
	g.Destroy()
	if err == nil {
		err = b.end.Record(b.s)
	}
	if err != nil {
		return 0, err
	}
	_, _, err = d.chk.wait(b.w)
	return time.Since(t0), err
}

// update points s's graph of variant i at g (cuGraphExecUpdate, or a new
// instantiation where there is none or the update fails) and queues its
// upload on stream.
func (in *instance) update(s *graphSet, i int, g cu.Graph, stream cu.Stream) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if e := s.execs[i]; e != (cu.GraphExec{}) {
		_, err := e.Update(g)
		if err == nil {
			return e.Upload(stream)
		}
		fresh, ierr := g.Instantiate(0)
		if ierr != nil {
			return errors.Join(err, ierr)
		}
		e.Destroy()
		s.execs[i] = fresh
		return fresh.Upload(stream)
	}
	fresh, err := g.Instantiate(0)
	if err != nil {
		return err
	}
	s.execs[i] = fresh
	return fresh.Upload(stream)
}

func overlap(a, b []int) bool {
	for _, p := range a {
		if slices.Contains(b, p) {
			return true
		}
	}
	return false
}
