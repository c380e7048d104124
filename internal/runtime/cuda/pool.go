//go:build linux && cgo

package cuda

import "sync"

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
	// (head, n) that grows when full.
	fifo    []block
	head, n int
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
	for i := range p.n {
		if b := p.at(i); b.off == off && !b.freed {
			b.freed, size = true, b.size
			break
		}
	}
	for p.n > 0 && p.at(0).freed {
		p.head = (p.head + 1) % len(p.fifo)
		p.n--
	}
	return size
}

// used is the number of bytes held by outstanding blocks.
func (p *pool) used() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var u uint64
	for i := range p.n {
		u += p.at(i).size
	}
	return u
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
}
