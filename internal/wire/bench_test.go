package wire

import (
	"fmt"
	"io"
	"math"
	"net"
	"testing"
	"time"
)

func BenchmarkPreHeaderEncodeDecode(b *testing.B) {
	var buf [PreHeaderSize]byte
	p := PreHeader{HeaderLen: 40, BodyLen: 602112, Type: 3, SendTime: 1 << 60, Delta: 12345}
	for b.Loop() {
		p.Encode(buf[:])
		if _, err := DecodePreHeader(buf[:], DefaultMaxBodySize); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoopbackRoundTrip measures one request/response pair over a real
// TCP connection on loopback, with a request body of the given size: an
// Infer's input at batch sizes 1 and 16. The receiver allocates each body
// ("alloc", as every receiver did before the buffer pools) or reads it
// into a pooled buffer that it gives back once read ("pool", as the
// worker does).
//
// The "direct" variants write with WithDirectWrites on both sides (pooled
// bodies), side by side with "pool", which hands every message to the
// connection's writer goroutine; "spin" adds WithSpinReads on both sides,
// "sockbuf" WithSocketBuffers of 16 MiB (instead of spin).
func BenchmarkLoopbackRoundTrip(b *testing.B) {
	for _, size := range []int{0, 4000, 602112, 16 * 602112} {
		for _, mode := range []string{"alloc", "pool", "direct", "spin", "sockbuf"} {
			b.Run(byteSize(size)+"/"+mode, func(b *testing.B) {
				var sockBuf int
				if mode == "sockbuf" {
					sockBuf = 16 << 20
				}
				loopbackRoundTrip(b, size, mode != "alloc", mode == "direct" || mode == "spin" || mode == "sockbuf", mode == "spin", sockBuf)
			})
		}
	}
}

func loopbackRoundTrip(b *testing.B, size int, pool, direct, spin bool, sockBuf int) {
	clientOpts := []Option{WithSocketBuffers(sockBuf)}
	if direct {
		clientOpts = append(clientOpts, WithDirectWrites(math.MaxInt))
	}
	if spin {
		clientOpts = append(clientOpts, WithSpinReads(10*time.Millisecond))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		opts := []Option{WithSocketBuffers(sockBuf)}
		if pool {
			opts = append(opts, WithBodyPool())
		}
		if direct {
			opts = append(opts, WithDirectWrites(math.MaxInt))
		}
		if spin {
			opts = append(opts, WithSpinReads(10*time.Millisecond))
		}
		c := NewConn(nc, opts...)
		defer c.Close()
		for {
			m, err := c.Receive()
			if err != nil {
				return
			}
			c.Send(&Message{Type: m.Type + 100, ID: m.ID, Header: m.Header})
			m.Release()
		}
	}()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	c := NewConn(nc, clientOpts...)
	defer c.Close()
	body := make([]byte, size)
	hdr := make([]byte, 30)
	b.SetBytes(int64(size))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Send(&Message{Type: 2, ID: uint64(i), Header: hdr, Body: body})
		if _, err := c.Receive(); err != nil {
			b.Fatal(err)
		}
	}
}

func byteSize(n int) string {
	if n == 0 {
		return "empty"
	}
	return fmt.Sprintf("%dB", n)
}

// BenchmarkLoopbackRaw is the floor: the same exchange of 48-byte frames
// written and read directly on the sockets, with no framing layer.
func BenchmarkLoopbackRaw(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		buf := make([]byte, PreHeaderSize)
		for {
			if _, err := io.ReadFull(nc, buf); err != nil {
				return
			}
			if _, err := nc.Write(buf); err != nil {
				return
			}
		}
	}()
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	buf := make([]byte, PreHeaderSize)
	for b.Loop() {
		if _, err := nc.Write(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(nc, buf); err != nil {
			b.Fatal(err)
		}
	}
}
