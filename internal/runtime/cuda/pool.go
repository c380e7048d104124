//go:build linux && cgo

package cuda

import (
	"sort"
	"sync"
)

// poolAlign aligns every block of a pool (cuDNN, cuBLAS and the copy
// engines prefer 256-byte aligned buffers).
const poolAlign = 256

// pool is the original's MemoryPool (spec/worker.md §4.3): a circular FIFO
// allocator of offsets in a region of fixed size. Space comes back in
// allocation order, which is the order Infers mostly finish in. It is used
// for each GPU's IO pool and for the pinned host IO pool, and is safe for
// concurrent use.
type pool struct {
	mu   sync.Mutex
	size uint64
	// fifo holds the outstanding blocks, oldest first, as a ring
	// (head, n) that grows when full; held is the sum of their sizes.
	fifo    []block
	head, n int
	held    uint64
}

type block struct {
	off, size uint64
	freed     bool
}

func newPool(size uint64) *pool {
	return &pool{size: size, fifo: make([]block, 64)}
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

// alloc returns the offset of n bytes, or false if they do not fit now.
func (p *pool) alloc(n uint64) (uint64, bool) {
	n = alignUp(max(n, 1), poolAlign)
	p.mu.Lock()
	defer p.mu.Unlock()
	var off uint64
	switch {
	case n > p.size:
		return 0, false
	case p.n == 0:
		off = 0
	default:
		front, back := p.at(0), p.at(p.n-1)
		end := back.off + back.size
		if front.off <= back.off { // not wrapped
			switch {
			case end+n <= p.size && n > (p.size-end)/2:
				off = p.size - n // a big block goes flush at the end
			case end+n <= p.size:
				off = end
			case n <= front.off:
				off = 0
			default:
				return 0, false
			}
		} else {
			if end+n > front.off {
				return 0, false
			}
			off = end
		}
	}
	p.push(block{off: off, size: n})
	return off, true
}

// free gives back the block at off and returns its size (0 if there is
// no such block); space is reclaimed from the oldest block on.
func (p *pool) free(off uint64) uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var size uint64
	if i := p.find(off); i >= 0 && !p.at(i).freed {
		b := p.at(i)
		b.freed, size = true, b.size
	}
	for p.n > 0 && p.at(0).freed {
		p.held -= p.at(0).size
		p.head = (p.head + 1) % len(p.fifo)
		p.n--
	}
	return size
}

// find returns the index in the ring of the block at off, or -1. The
// offsets ascend from the oldest block but for one wrap to a lower offset
// (alloc places each block after the newest, or at 0 below the oldest),
// so a binary search finds it: a ring may hold a pool's worth of blocks
// behind one held long (an Infer due in an hour, its input in lent pinned
// memory), and a scan for each free took the worker 1.3 ms a free there.
func (p *pool) find(off uint64) int {
	if p.n == 0 {
		return -1
	}
	first := p.at(0).off
	wrap := sort.Search(p.n, func(i int) bool { return p.at(i).off < first })
	lo, hi := 0, wrap
	if off < first {
		lo, hi = wrap, p.n
	}
	i := lo + sort.Search(hi-lo, func(j int) bool { return p.at(lo+j).off >= off })
	if i < hi && p.at(i).off == off {
		return i
	}
	return -1
}

// used is the number of bytes held by outstanding blocks (those freed
// behind an older one included).
func (p *pool) used() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held
}

func (p *pool) at(i int) *block { return &p.fifo[(p.head+i)%len(p.fifo)] }

func (p *pool) push(b block) {
	if p.n == len(p.fifo) {
		grown := make([]block, 2*len(p.fifo))
		for i := range p.n {
			grown[i] = *p.at(i)
		}
		p.fifo, p.head = grown, 0
	}
	p.fifo[(p.head+p.n)%len(p.fifo)] = b
	p.n++
	p.held += b.size
}
