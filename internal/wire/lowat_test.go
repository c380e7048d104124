package wire

import (
	"bytes"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"
)

// TestLowWaterReads receives over a connection that waits for large
// bodies whole: bodies smaller and larger than the socket holds, small
// messages right after large ones (the mark must not hold them back), a
// pause mid-stream, and the peer's close all arrive as sent.
func TestLowWaterReads(t *testing.T) {
	a, b := pipe(t, WithLowWaterReads(true))
	if b.lr == nil {
		t.Fatal("a TCP connection reads without the low-water mark")
	}
	sizes := []int{0, 10, 100 << 10, 602112, 9633792, 5, 602112, 64<<10 - 1, 64 << 10, 64<<10 + 1, 3}
	bodies := make([][]byte, len(sizes))
	for i, n := range sizes {
		bodies[i] = bytes.Repeat([]byte{byte(i + 1)}, n)
	}
	go func() {
		for i, body := range bodies {
			if i == 5 {
				time.Sleep(20 * time.Millisecond) // the reader waits, parked
			}
			a.Send(&Message{Type: uint64(i), Header: []byte{byte(i)}, Body: body})
		}
	}()
	for i, body := range bodies {
		m, err := b.Receive()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if m.Type != uint64(i) || !bytes.Equal(m.Body, body) {
			t.Fatalf("message %d: type %d, %d bytes, want %d", i, m.Type, len(m.Body), len(body))
		}
		if b.lr.want != 0 {
			t.Fatalf("message %d: still expecting %d bytes", i, b.lr.want)
		}
	}
	a.Close()
	if _, err := b.Receive(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the peer closed: %v, want EOF", err)
	}

}

// TestLowWaterMark checks the mechanism: while Receive waits for the rest
// of a large body, the socket's low-water mark is what is left of it, and
// once the body is read the mark goes back to 1 before the reader waits
// again (a small message is not held back).
func TestLowWaterMark(t *testing.T) {
	a, b := pipe(t, WithLowWaterReads(true))
	const size = 602112
	ph := PreHeader{HeaderLen: 1, BodyLen: size, Type: 2, ID: 9, Delta: 1 << 62}
	frame := make([]byte, PreHeaderSize, PreHeaderSize+1+size)
	ph.Encode(frame)
	frame = append(frame, 7)
	frame = append(frame, bytes.Repeat([]byte{3}, size)...)
	first := PreHeaderSize + 1 + 100<<10 // the frame up to 100 KiB of the body
	if _, err := a.nc.Write(frame[:first]); err != nil {
		t.Fatal(err)
	}
	got := receiveAsync(t, b)
	mark := func() int {
		var v int
		var err error
		raw, _ := b.nc.(syscall.Conn).SyscallConn()
		raw.Control(func(fd uintptr) { v, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT) })
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// The reader takes the first part and waits for the rest. (Linux
	// reports an accepted socket's default mark as 0, which means 1; on
	// the way the reader may wait for the body's first 64 KiB, before it
	// allocates the body.)
	deadline := time.Now().Add(5 * time.Second)
	for mark() != len(frame)-first && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if m := mark(); m != len(frame)-first {
		t.Fatalf("low-water mark %d while the reader waits for the %d bytes left", m, len(frame)-first)
	}
	if _, err := a.nc.Write(frame[first:]); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m == nil || m.ID != 9 || len(m.Body) != size {
		t.Fatalf("received %+v", m)
	}
	// The next wait resets the mark: a 10-byte message arrives.
	got = receiveAsync(t, b)
	time.Sleep(20 * time.Millisecond)
	a.Send(&Message{Type: 1, ID: 10, Body: make([]byte, 10)})
	select {
	case m := <-got:
		if m == nil || m.ID != 10 {
			t.Fatalf("received %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("a small message was held back (low-water mark %d)", mark())
	}
	if m := mark(); m > 1 {
		t.Errorf("low-water mark %d after a small message", m)
	}
}
