//go:build linux && cgo

package cuda

import (
	"math/rand/v2"
	"testing"
)

func TestPool(t *testing.T) {
	p := newPool(4096)
	alloc := func(n, want uint64) {
		t.Helper()
		off, ok := p.alloc(n)
		if !ok || off != want {
			t.Fatalf("alloc(%d) = %d, %v; want %d", n, off, ok, want)
		}
	}
	fails := func(n uint64) {
		t.Helper()
		if off, ok := p.alloc(n); ok {
			t.Fatalf("alloc(%d) = %d, want failure", n, off)
		}
	}
	alloc(100, 0)     // rounded up to 256
	alloc(256, 256)   // small: right after
	alloc(2048, 2048) // more than half the tail: flush at the end
	fails(1024)       // the gap between 512 and 2048 is behind the tail
	fails(5000)
	p.free(256) // not the oldest: nothing comes back yet
	fails(300)
	p.free(0) // the two oldest come back
	alloc(300, 0)
	if got := p.used(); got != 512+2048 {
		t.Errorf("used = %d, want %d", got, 512+2048)
	}
	alloc(1024, 512) // wrapped: fits before the front
	fails(1024)
	p.free(2048)
	p.free(0)
	p.free(512)
	if got := p.used(); got != 0 {
		t.Errorf("used = %d after freeing all, want 0", got)
	}
	big := newPool(1 << 20)
	for i := range 200 { // more blocks than the FIFO first holds
		if off, ok := big.alloc(1); !ok || off != uint64(i)*256 {
			t.Fatalf("block %d at %d, %v", i, off, ok)
		}
	}
	for i := range 200 {
		big.free(uint64(i) * 256)
	}
	if got := big.used(); got != 0 {
		t.Errorf("used = %d after freeing all, want 0", got)
	}
}

// TestPoolFree: in random allocations and frees, wrapped or not, free
// finds every live block by its offset (returning its size), refuses an
// offset freed already or never given, and used is what the ring holds.
// One block held from the start keeps every later one in the ring, as an
// Infer due far ahead does.
func TestPoolFree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		p := newPool(1 << 16)
		live := map[uint64]uint64{} // offset → aligned size
		if round%2 == 0 {
			p.alloc(1) // held to the end
		}
		for range 5000 {
			if rng.IntN(2) == 0 || len(live) == 0 {
				n := uint64(1 + rng.IntN(3000))
				if off, ok := p.alloc(n); ok {
					if _, dup := live[off]; dup {
						t.Fatalf("round %d: offset %d given twice", round, off)
					}
					live[off] = alignUp(n, poolAlign)
				}
				continue
			}
			var off uint64
			for o := range live { // any live block
				off = o
				break
			}
			if got := p.free(off); got != live[off] {
				t.Fatalf("round %d: free(%d) = %d, want %d", round, off, got, live[off])
			}
			delete(live, off)
			if got := p.free(off); got != 0 {
				t.Fatalf("round %d: a second free(%d) = %d", round, off, got)
			}
			if got := p.free(off + 1); got != 0 {
				t.Fatalf("round %d: free of an offset never given = %d", round, got)
			}
			var held uint64
			for i := range p.n {
				held += p.at(i).size
			}
			if got := p.used(); got != held {
				t.Fatalf("round %d: used %d, the ring holds %d", round, got, held)
			}
		}
	}
}
