package cpuexec

import (
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
)

// cachedFilterSets is the number of transformed filter sets held.
func cachedFilterSets() int {
	filterCache.Lock()
	defer filterCache.Unlock()
	return len(filterCache.sets)
}

// TestWinogradFiltersShared checks that Winograd's kernels share their
// transformed filters exactly where the filters are the same (a copy of the
// weights elsewhere: one set; other weights of the same shape: a set of
// their own, each convolution computing with its own), and that the sets go
// once no kernel holds them.
func TestWinogradFiltersShared(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	o, mem := winogradConv(rng, 1, 32, 48, 20)
	copied := &memory{io: slices.Clone(mem.io), pages: [][]byte{slices.Clone(mem.pages[0])}}
	other := &memory{io: slices.Clone(mem.io), pages: [][]byte{slices.Clone(mem.pages[0])}}
	wt := other.f32(o.W)
	wt[rng.IntN(len(wt))] += 1 // one filter's tap

	before := cachedFilterSets()
	w := NewWorkers(2)
	defer w.Close()
	prepared := func(m *memory) *winogradKernel {
		k, scratch, err := newWinogradConv(o)
		if err != nil {
			t.Fatal(err)
		}
		bind(w, k, scratch, m)
		return k.(*winogradKernel)
	}
	a, b, c := prepared(mem), prepared(copied), prepared(other)
	if a.filters != b.filters {
		t.Error("the same filters in other pages transformed again")
	}
	if a.filters == c.filters {
		t.Error("other filters given the first's transforms")
	}
	if n := cachedFilterSets() - before; n != 2 {
		t.Errorf("%d filter sets added, want 2 (%d before, %p %p %p)", n, before, a.filters, b.filters, c.filters)
	}
	for _, r := range []struct {
		k   *winogradKernel
		mem *memory
	}{{a, mem}, {c, other}} {
		ref, scratch, err := newIm2colConv(o)
		if err != nil {
			t.Fatal(err)
		}
		w.reserve(scratch)
		w.do(ref, r.mem)
		want := slices.Clone(r.mem.f32(o.Y))
		w.do(r.k, r.mem)
		for i, g := range r.mem.f32(o.Y) {
			if math.Abs(float64(g-want[i])) > 1e-4*max(1, math.Abs(float64(want[i]))) {
				t.Fatalf("output %d = %v, the GEMM's %v", i, g, want[i])
			}
		}
	}

	a, b, c = nil, nil, nil
	for range 100 {
		if cachedFilterSets() == before {
			return
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	t.Errorf("%d filter sets still held with no kernel left", cachedFilterSets()-before)
}
