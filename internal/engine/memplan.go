package engine

import (
	"cmp"
	"slices"
)

// assignOffsets places workspace buffers so that buffers live at the same
// time never overlap: largest first, each at the lowest offset that clears
// every already placed buffer whose lifetime intersects its own. Returns
// the offsets and the workspace size.
func assignOffsets(bufs []buffer) ([]int64, int64) {
	order := make([]int, len(bufs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cmp.Compare(bufs[b].size, bufs[a].size); c != 0 {
			return c
		}
		return cmp.Compare(bufs[a].first, bufs[b].first)
	})
	offs := make([]int64, len(bufs))
	var total int64
	type span struct{ start, end int64 }
	var placed []int
	var busy []span
	for _, i := range order {
		b := bufs[i]
		busy = busy[:0]
		for _, j := range placed {
			if bufs[j].first <= b.last && b.first <= bufs[j].last {
				busy = append(busy, span{offs[j], offs[j] + bufs[j].size})
			}
		}
		slices.SortFunc(busy, func(x, y span) int { return cmp.Compare(x.start, y.start) })
		var off int64
		for _, s := range busy {
			if off+b.size <= s.start {
				break
			}
			off = max(off, alignUp(s.end, workspaceAlign))
		}
		offs[i] = off
		total = max(total, alignUp(off+b.size, workspaceAlign))
		placed = append(placed, i)
	}
	return offs, total
}
