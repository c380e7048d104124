package worker

// pageCache is one GPU's weights cache: a fixed number of equal pages
// handed out from a FIFO free list (as the original), with no eviction of
// its own: the controller decides what to evict, and an allocation that
// does not fit fails (status 53).
type pageCache struct {
	total int
	free  []int // FIFO of free page indices
}

func newPageCache(total int) *pageCache {
	c := &pageCache{total: total, free: make([]int, total)}
	for i := range c.free {
		c.free[i] = i
	}
	return c
}

// allocation is a set of pages held by one model instance. Freeing it twice
// is harmless, so that ClearCache and a later completion cannot return the
// same pages twice (a bug of the original).
type allocation struct {
	pages []int
	freed bool
}

// alloc takes n pages, or returns nil if fewer than n are free.
func (c *pageCache) alloc(n int) *allocation {
	if n > len(c.free) {
		return nil
	}
	a := &allocation{pages: make([]int, n)}
	copy(a.pages, c.free[:n])
	c.free = c.free[n:]
	return a
}

func (c *pageCache) release(a *allocation) {
	if a == nil || a.freed {
		return
	}
	a.freed = true
	c.free = append(c.free, a.pages...)
}

func (c *pageCache) freePages() int { return len(c.free) }
