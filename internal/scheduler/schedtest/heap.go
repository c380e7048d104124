package schedtest

// eventHeap is a min-heap of values by time, first in first out among
// equal times.
type eventHeap[T any] struct {
	items []event[T]
	seq   uint64
}

type event[T any] struct {
	at  int64
	seq uint64
	v   T
}

func (h *eventHeap[T]) len() int { return len(h.items) }

func (h *eventHeap[T]) top() int64 { return h.items[0].at }

func (h *eventHeap[T]) push(at int64, v T) {
	h.seq++
	h.items = append(h.items, event[T]{at, h.seq, v})
	for i := len(h.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *eventHeap[T]) pop() (int64, T) {
	e := h.items[0]
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	h.items[n] = event[T]{}
	h.items = h.items[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			break
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
	return e.at, e.v
}

func (h *eventHeap[T]) less(i, j int) bool {
	a, b := &h.items[i], &h.items[j]
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}
