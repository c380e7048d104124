//go:build linux && cgo

package cuda

import "testing"

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
