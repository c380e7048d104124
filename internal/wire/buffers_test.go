package wire

import (
	"bytes"
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
		if !bytes.Equal(m.Body, body) || !m.pooled {
			t.Fatalf("message %d: body differs or not pooled (%v)", i, m.pooled)
		}
		m.Release()
		m.Release()
		if m.Body != nil {
			t.Fatalf("message %d: body kept after Release", i)
		}
	}
}
