package wire

import (
	"net"
	"testing"
	"time"
)

// frameConn is a net.Conn whose reads replay one frame forever, at most
// 256 KiB a read as a loopback socket delivers them: Receive without the
// network.
type frameConn struct {
	net.Conn
	frame []byte
	off   int
}

func (c *frameConn) Read(p []byte) (int, error) {
	n := copy(p[:min(len(p), 256<<10)], c.frame[c.off:])
	c.off = (c.off + n) % len(c.frame)
	return n, nil
}

func (c *frameConn) Close() error                    { return nil }
func (c *frameConn) SetReadDeadline(time.Time) error { return nil }

func newFrameConn(body int) *frameConn {
	hdr := make([]byte, 40)
	ph := PreHeader{HeaderLen: uint64(len(hdr)), BodyLen: uint64(body), Type: 3, Delta: 1 << 62}
	frame := make([]byte, PreHeaderSize, PreHeaderSize+len(hdr)+body)
	ph.Encode(frame)
	frame = append(frame, hdr...)
	return &frameConn{frame: append(frame, make([]byte, body)...)}
}

// BenchmarkReceiveBody is Receive of Infer-sized bodies (a batch-16
// classifier output, ImageNet inputs at batch 1 and 16): "alloc" on a
// plain connection, a fresh buffer for each body (as every receiver did
// before the pools), "pool" on a connection WithBodyPool whose receiver
// gives each body back once read, as the worker does.
func BenchmarkReceiveBody(b *testing.B) {
	for _, size := range []int{64000, 602112, 16 * 602112} {
		for _, pool := range []bool{false, true} {
			b.Run(byteSize(size)+map[bool]string{false: "/alloc", true: "/pool"}[pool], func(b *testing.B) {
				var opts []Option
				if pool {
					opts = append(opts, WithBodyPool())
				}
				c := NewConn(newFrameConn(size), opts...)
				defer c.Close()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					m, err := c.Receive()
					if err != nil {
						b.Fatal(err)
					}
					m.Release()
				}
			})
		}
	}
}
