package wire

import (
	"bytes"
	"net"
	"sync"
	"testing"
)

func TestBufferClasses(t *testing.T) {
	last := -1
	for n := minPooled + 1; n <= maxPooled; n += n/7 + 1 {
		idx, size := class(n)
		if size < n || size > n+n/4+1 || idx < 0 || idx >= numPools || idx < last {
			t.Fatalf("class(%d) = %d, %d", n, idx, size)
		}
		if i, s := class(size); i != idx || s != size {
			t.Fatalf("class(%d) = %d, %d; class of its size %d, %d", n, idx, size, i, s)
		}
		last = idx
	}
	if idx, size := class(maxPooled); idx != numPools-1 || size != maxPooled {
		t.Errorf("class(maxPooled) = %d, %d", idx, size)
	}
	for _, n := range []int{0, 1, minPooled, minPooled + 1, 602112, 16 * 602112, maxPooled, maxPooled + 1} {
		b := GetBuffer(n)
		if len(b) != n {
			t.Errorf("GetBuffer(%d) has length %d", n, len(b))
		}
		PutBuffer(b)
	}
	PutBuffer(make([]byte, 602112)) // not a class size: left to the GC
}

// TestBufferReuse checks that a buffer given back is handed out again
// whole, and that neither giving back nor taking a pooled buffer
// allocates (the worker does both for every Infer).
func TestBufferReuse(t *testing.T) {
	b := GetBuffer(4000)
	_, size := class(4000)
	if cap(b) != size {
		t.Fatalf("cap %d, want the class size %d", cap(b), size)
	}
	PutBuffer(b)
	// sync.Pool may drop an item (always at a collection, now and then
	// under the race detector); ten tries in a row will not all miss.
	reused := false
	for range 10 {
		b := GetBuffer(4000)
		first := &b[0]
		PutBuffer(b)
		again := GetBuffer(3900) // the same class
		if cap(again) != size || len(again) != 3900 {
			t.Fatalf("GetBuffer(3900): len %d cap %d", len(again), cap(again))
		}
		reused = reused || &again[0] == first
		PutBuffer(again)
	}
	if !reused {
		t.Error("a buffer given back was never handed out again")
	}
	small := make([]byte, 10)
	if n := testing.AllocsPerRun(100, func() { PutBuffer(small) }); n != 0 {
		t.Errorf("PutBuffer of an unpooled buffer: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { PutBuffer(GetBuffer(4000)) }); n != 0 && !raceEnabled {
		t.Errorf("GetBuffer and PutBuffer: %v allocations", n)
	}
}

// TestReleasedBodies checks that bodies given back and received again
// hold exactly what was sent.
func TestReleasedBodies(t *testing.T) {
	a, b := pipe(t, WithBodyPool())
	for i := range 20 {
		body := bytes.Repeat([]byte{byte(i)}, 602112-i*1000)
		a.Send(&Message{Type: 3, Header: []byte{1}, Body: body})
		m, err := b.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Body, body) || m.alloc != Pools {
			t.Fatalf("message %d: body differs or not pooled (%v)", i, m.alloc)
		}
		m.Release()
		m.Release()
		if m.Body != nil {
			t.Fatalf("message %d: body kept after Release", i)
		}
	}
}

// counting is an Allocator that lends its own buffers for messages of
// type 5 and pool buffers for others, and counts what is outstanding.
type counting struct {
	mu            sync.Mutex
	lent          map[*byte]int
	allocs, frees int
}

func (c *counting) Alloc(typ uint64, n int) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.allocs++
	b := make([]byte, n)
	if typ != 5 {
		b = GetBuffer(n)
	}
	if n > 0 {
		c.lent[&b[0]] = n
	}
	return b
}

func (c *counting) Free(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.frees++
	if len(b) > 0 {
		if _, ok := c.lent[&b[0]]; !ok {
			panic("Free of a buffer not lent")
		}
		delete(c.lent, &b[0])
	}
}

// TestBodyAllocator reads bodies into an allocator's buffers: each goes
// back once on Release, a body larger than maxPooled is left to the
// garbage collector, and a body cut short goes back at once.
func TestBodyAllocator(t *testing.T) {
	al := &counting{lent: map[*byte]int{}}
	a, b := pipe(t, WithBodyAllocator(al))
	for i, typ := range []uint64{5, 3, 5} {
		body := bytes.Repeat([]byte{byte(i + 1)}, 100_000+i)
		a.Send(&Message{Type: typ, Header: []byte{1}, Body: body})
		m, err := b.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Body, body) || m.alloc != al {
			t.Fatalf("message %d: body differs or not from the allocator", i)
		}
		m.Release()
		m.Release()
	}
	big := make([]byte, maxPooled+1)
	a.Send(&Message{Type: 5, Header: []byte{1}, Body: big})
	m, err := b.Receive()
	if err != nil || len(m.Body) != len(big) || m.alloc != nil {
		t.Fatalf("body over maxPooled: %d bytes, allocator %v, %v", len(m.Body), m.alloc, err)
	}
	if al.allocs != 3 || al.frees != 3 || len(al.lent) != 0 {
		t.Errorf("%d allocations, %d frees, %d outstanding; want 3, 3, 0", al.allocs, al.frees, len(al.lent))
	}

	// A body cut short by the peer's close, before its first 64 KiB came:
	// nothing is allocated for it.
	nc, peer := net.Pipe()
	c := NewConn(peer, WithBodyAllocator(al))
	defer c.Close()
	go func() {
		var pre [PreHeaderSize]byte
		ph := PreHeader{HeaderLen: 1, BodyLen: 1000, Type: 5}
		ph.Encode(pre[:])
		nc.Write(append(pre[:], 1, 2, 3))
		nc.Close()
	}()
	if _, err := c.Receive(); err == nil {
		t.Fatal("Receive of a body cut short succeeded")
	}
	if al.allocs != 3 || al.frees != 3 {
		t.Errorf("after a body cut short: %d allocations, %d frees", al.allocs, al.frees)
	}
}
