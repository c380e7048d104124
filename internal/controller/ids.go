package controller

import (
	"slices"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// modelIDs hands out model ids, 0 to workerapi.MaxModels-1, in runs: the
// copies of one LoadModel get consecutive ids. A load that created no
// model anywhere gives its run back, so that a failed load (a mistyped
// path with many copies) does not use up the ids other loads need; the
// original kept counting, and its ids were not bounded.
type modelIDs struct {
	next int     // no id from next on was handed out
	free []idRun // runs given back, in order, all below next
}

// idRun is the n ids from first.
type idRun struct{ first, n int }

// reserve takes the ids below n (the models a worker holds already) and
// forgets the runs given back: a worker that reports its models may hold
// some of them (a load whose answer was lost with its connection).
func (m *modelIDs) reserve(n int) {
	m.next = max(m.next, n)
	m.free = nil
}

// room is the longest run take could hand out now.
func (m *modelIDs) room() int {
	most := workerapi.MaxModels - m.next
	for _, r := range m.free {
		most = max(most, r.n)
	}
	return max(most, 0)
}

// take hands out n consecutive ids, the first run given back that holds
// them or else new ones, and reports false if no run of n is left.
func (m *modelIDs) take(n int) (first int, ok bool) {
	if n < 1 {
		return 0, false
	}
	for i := range m.free {
		if r := &m.free[i]; r.n >= n {
			first = r.first
			r.first, r.n = r.first+n, r.n-n
			if r.n == 0 {
				m.free = slices.Delete(m.free, i, i+1)
			}
			return first, true
		}
	}
	if workerapi.MaxModels-m.next < n {
		return 0, false
	}
	first = m.next
	m.next += n
	return first, true
}

// give takes back the run of n ids from first, handed out by take.
func (m *modelIDs) give(first, n int) {
	i, _ := slices.BinarySearchFunc(m.free, first, func(r idRun, f int) int { return r.first - f })
	m.free = slices.Insert(m.free, i, idRun{first, n})
	// Merge with the neighbours, then give the top run back to next.
	if i+1 < len(m.free) && m.free[i].first+m.free[i].n == m.free[i+1].first {
		m.free[i].n += m.free[i+1].n
		m.free = slices.Delete(m.free, i+1, i+2)
	}
	if i > 0 && m.free[i-1].first+m.free[i-1].n == m.free[i].first {
		m.free[i-1].n += m.free[i].n
		m.free = slices.Delete(m.free, i, i+1)
	}
	if last := len(m.free) - 1; m.free[last].first+m.free[last].n == m.next {
		m.next = m.free[last].first
		m.free = m.free[:last]
	}
}
