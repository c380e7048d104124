package worker

// ordered values know their order.
type ordered[T any] interface{ before(T) bool }

// minHeap is a binary min-heap of values ordered by before. Unlike
// container/heap it stores the values themselves, so that pushing and
// popping allocate nothing once the slice has grown: the worker pushes
// and pops a completion (and queues a task) for every stage of every
// Infer, and boxing each into an interface was a sixth of its garbage
// (17 of 106 MB in an allocation profile on fakecuda).
type minHeap[T ordered[T]] struct{ items []T }

func (h *minHeap[T]) Len() int { return len(h.items) }

// Min is the least value; the heap must not be empty.
func (h *minHeap[T]) Min() *T { return &h.items[0] }

func (h *minHeap[T]) Push(x T) {
	h.items = append(h.items, x)
	for i := len(h.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.items[i].before(h.items[p]) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

// Pop removes and returns the least value; the heap must not be empty.
func (h *minHeap[T]) Pop() T {
	n := len(h.items) - 1
	top := h.items[0]
	h.items[0] = h.items[n]
	var zero T
	h.items[n] = zero // drop what it references
	h.items = h.items[:n]
	h.down(0)
	return top
}

// down moves the value at i down to its place.
func (h *minHeap[T]) down(i int) {
	n := len(h.items)
	for {
		l, m := 2*i+1, i
		if l < n && h.items[l].before(h.items[m]) {
			m = l
		}
		if r := l + 1; r < n && h.items[r].before(h.items[m]) {
			m = r
		}
		if m == i {
			return
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
}

// Remove removes the values del reports and returns them, in no
// particular order.
func (h *minHeap[T]) Remove(del func(T) bool) []T {
	var removed []T
	kept := h.items[:0]
	for _, x := range h.items {
		if del(x) {
			removed = append(removed, x)
		} else {
			kept = append(kept, x)
		}
	}
	clear(h.items[len(kept):])
	h.items = kept
	for i := len(kept)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
	return removed
}
