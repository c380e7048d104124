package infer5

// timers is a min-heap of values keyed by time, ties broken by insertion
// order so that everything the scheduler does is deterministic. Entries are
// never removed early: holders check, when an entry surfaces, whether it
// still means anything (lazy deletion is cheaper than indexed removal for
// the request deadlines, which nearly all become moot).
type timers[T any] struct {
	items []timer[T]
	seq   uint64
}

type timer[T any] struct {
	at  int64
	seq uint64
	v   T
}

func (h *timers[T]) len() int { return len(h.items) }

// top returns the earliest entry; the heap must not be empty.
func (h *timers[T]) top() (int64, T) { return h.items[0].at, h.items[0].v }

func (h *timers[T]) push(at int64, v T) {
	h.seq++
	h.items = append(h.items, timer[T]{at, h.seq, v})
	i := len(h.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.items[i].before(&h.items[p]) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

// pop removes and returns the earliest entry; the heap must not be empty.
func (h *timers[T]) pop() T {
	v := h.items[0].v
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	var zero timer[T]
	h.items[n] = zero
	h.items = h.items[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.items[r].before(&h.items[l]) {
			m = r
		}
		if !h.items[m].before(&h.items[i]) {
			break
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
	return v
}

func (t *timer[T]) before(u *timer[T]) bool {
	return t.at < u.at || (t.at == u.at && t.seq < u.seq)
}
