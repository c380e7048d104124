package wire

import (
	"bytes"
	"net"
	"runtime"
	"testing"
)

// TestSocketBuffers checks that WithSocketBuffers sizes both kernel
// buffers of both ends, and that a message larger than the default
// buffers crosses whole.
func TestSocketBuffers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("socket buffers are set on Linux only")
	}
	const n = 3 << 20
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		nc, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- nc
	}()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sender := NewConn(nc, WithSocketBuffers(n))
	defer sender.Close()
	peer := <-accepted
	if peer == nil {
		t.Fatal("accept failed")
	}
	receiver := NewConn(peer, WithSocketBuffers(n))
	defer receiver.Close()
	for _, c := range []net.Conn{nc, peer} {
		snd, rcv, err := SocketBuffers(c)
		if err != nil {
			t.Fatal(err)
		}
		if snd < n || rcv < n {
			wmem, _ := sysctlInt("/proc/sys/net/core/wmem_max")
			rmem, _ := sysctlInt("/proc/sys/net/core/rmem_max")
			if wmem < n || rmem < n {
				t.Skipf("buffers %d and %d: unprivileged, and net.core limits %d and %d are below %d", snd, rcv, wmem, rmem, n)
			}
			t.Fatalf("buffers %d and %d, want at least %d each", snd, rcv, n)
		}
	}
	body := bytes.Repeat([]byte("clockwork"), 2<<20/9)
	if err := sender.Send(&Message{Type: 2, ID: 7, Header: []byte("h"), Body: body}); err != nil {
		t.Fatal(err)
	}
	m, err := receiver.Receive()
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != 7 || !bytes.Equal(m.Body, body) {
		t.Fatalf("received id %d, %d bytes", m.ID, len(m.Body))
	}
}
