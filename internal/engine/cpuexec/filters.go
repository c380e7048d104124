package cpuexec

import (
	"hash/maphash"
	"runtime"
	"sync"
	"unsafe"
	"weak"
)

// transformed is the filters of a Winograd convolution transformed, U_ξ
// (m × c) at u[ξ·m·c:] for each element ξ of the 4 × 4 transform.
type transformed struct{ u []float32 }

// filterKey names a convolution's filters by content: m filters of c
// channels, 3 × 3, whose bytes hash to sum under the process's two seeds
// (128 bits of maphash, which read 5 GB/s on the 2-core development
// machine where SHA-256 read 0.9: a worker's Load hashes the filters
// again for each batch size).
type filterKey struct {
	sum  [2]uint64
	m, c int
}

// filterSeeds seed filterKey's sums.
var filterSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// filterCache holds every transformed filter set some executor uses, by
// weak reference: a worker loads one model file under many ids (the
// controller's copies) and prepares an executor for each batch size, and
// all of them share one transform of each convolution's filters, which
// goes with the last executor that uses it.
var filterCache struct {
	sync.Mutex
	sets map[filterKey]weak.Pointer[transformed]
}

// transformFilters returns the transforms of the m × c filters w (9 floats
// each), shared with any executor that has the same filters.
func transformFilters(w []float32, m, c int) *transformed {
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(w))), 4*len(w))
	key := filterKey{[2]uint64{maphash.Bytes(filterSeeds[0], b), maphash.Bytes(filterSeeds[1], b)}, m, c}
	filterCache.Lock()
	defer filterCache.Unlock()
	if t := filterCache.sets[key].Value(); t != nil {
		return t
	}
	t := &transformed{u: make([]float32, 16*m*c)}
	winogradFiltersOf(m*c, w, t.u, 0, m*c)
	if filterCache.sets == nil {
		filterCache.sets = make(map[filterKey]weak.Pointer[transformed])
	}
	filterCache.sets[key] = weak.Make(t)
	runtime.AddCleanup(t, forgetFilters, key)
	return t
}

// forgetFilters drops key's entry once its set is gone (unless a new set
// took its place).
func forgetFilters(key filterKey) {
	filterCache.Lock()
	defer filterCache.Unlock()
	if filterCache.sets[key].Value() == nil {
		delete(filterCache.sets, key)
	}
}
