package worker

import (
	"math/rand/v2"
	"slices"
	"testing"
)

type num int

func (a num) before(b num) bool { return a < b }

func TestMinHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h minHeap[num]
	var want []num
	for round := 0; round < 50; round++ {
		for range r.IntN(20) {
			x := num(r.IntN(30))
			h.Push(x)
			want = append(want, x)
		}
		if round%3 == 2 { // remove a residue class
			k := num(r.IntN(3))
			odd := func(x num) bool { return x%3 == k }
			gone := h.Remove(odd)
			slices.Sort(gone)
			var wantGone []num
			for _, x := range want {
				if odd(x) {
					wantGone = append(wantGone, x)
				}
			}
			slices.Sort(wantGone)
			if !slices.Equal(gone, wantGone) {
				t.Fatalf("round %d: removed %v, want %v", round, gone, wantGone)
			}
			want = slices.DeleteFunc(want, odd)
		}
		slices.Sort(want)
		for range r.IntN(len(want) + 1) {
			if got := h.Pop(); got != want[0] {
				t.Fatalf("round %d: popped %d, want %d", round, got, want[0])
			}
			want = want[1:]
		}
		if h.Len() != len(want) {
			t.Fatalf("round %d: %d left, want %d", round, h.Len(), len(want))
		}
	}
	// Once grown, pushing and popping allocate nothing (the reason it
	// exists: container/heap boxes every value).
	if n := testing.AllocsPerRun(100, func() { h.Push(num(r.IntN(30))); h.Pop() }); n != 0 {
		t.Errorf("%v allocations per push and pop", n)
	}
	if n := len(h.Remove(func(num) bool { return true })); n != len(want) || h.Len() != 0 {
		t.Errorf("removed %d of %d, %d left", n, len(want), h.Len())
	}
}
