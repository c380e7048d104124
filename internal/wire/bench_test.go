package wire

import (
	"fmt"
	"io"
	"math"
	"net"
	"slices"
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
// "sockbuf" WithSocketBuffers of 16 MiB and "lowat" WithLowWaterReads
// (each instead of spin).
func BenchmarkLoopbackRoundTrip(b *testing.B) {
	for _, size := range []int{0, 4000, 602112, 16 * 602112} {
		for _, mode := range []string{"alloc", "pool", "direct", "spin", "sockbuf", "lowat"} {
			b.Run(byteSize(size)+"/"+mode, func(b *testing.B) {
				var opts []Option
				switch mode {
				case "spin":
					opts = append(opts, WithSpinReads(10*time.Millisecond))
				case "sockbuf":
					opts = append(opts, WithSocketBuffers(16<<20))
				case "lowat":
					opts = append(opts, WithLowWaterReads(true))
				}
				loopbackRoundTrip(b, size, mode != "alloc", mode != "alloc" && mode != "pool", opts)
			})
		}
	}
}

// loopbackRoundTrip runs the exchange with pooled bodies or not, direct
// writes or not, and opts on both sides.
func loopbackRoundTrip(b *testing.B, size int, pool, direct bool, opts []Option) {
	clientOpts := slices.Clone(opts)
	if direct {
		clientOpts = append(clientOpts, WithDirectWrites(math.MaxInt))
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
		opts := slices.Clone(opts)
		if pool {
			opts = append(opts, WithBodyPool())
		}
		if direct {
			opts = append(opts, WithDirectWrites(math.MaxInt))
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
