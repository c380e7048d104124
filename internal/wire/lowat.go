package wire

import (
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
)

// EnvLowWaterReads names the environment variable that sets the default
// of WithLowWaterReads for every connection of the process: "on", or
// "off" (the default, until a GPU host has measured it).
const EnvLowWaterReads = "CLOCKWORK_LOWAT_READS"

// lowWaterDefault is EnvLowWaterReads's value, read once.
var lowWaterDefault = sync.OnceValue(func() bool {
	switch v := os.Getenv(EnvLowWaterReads); v {
	case "", "off":
		return false
	case "on":
		return true
	default:
		slog.Warn("ignoring "+EnvLowWaterReads+": not on or off", "value", v)
		return false
	}
})

// WithLowWaterReads(true) makes Receive wait for a large body to arrive whole
// (or for as much of it as the socket can hold) before it reads it, with
// the socket's receive low-water mark (SO_RCVLOWAT), instead of waking for
// every piece as it comes: a 602,112-byte input crosses loopback in
// pieces of up to 64 KB, and each wake-up of a parked reader goes through
// the network poller, often on a processor that was asleep. The kernel
// still wakes the reader when the receive window closes, so a body larger
// than the socket's buffer cannot stall. Connections that do not expose
// their descriptor, and with WithSpinReads (which polls instead), read as
// usual. A worker takes every Infer's input so, a controller every
// client's.
func WithLowWaterReads(on bool) Option { return func(c *Conn) { c.lowat = on } }

// lowatMin is the least part of a body worth waiting for whole: smaller
// remainders are read as they come.
const lowatMin = 64 << 10

// lowatReader reads from a socket, setting its low-water mark to what the
// connection expects to read next (expect) before it waits for data.
// Like spinReader it allocates nothing per read.
type lowatReader struct {
	nc     net.Conn
	raw    syscall.RawConn
	want   int // bytes certain to be read next (the rest of a body), 0 if none
	mark   int // the socket's low-water mark as last set (1: the default)
	p      []byte
	n      int
	errno  error
	readFn func(fd uintptr) bool
}

func newLowatReader(nc net.Conn) *lowatReader {
	raw := rawConn(nc)
	if raw == nil {
		return nil
	}
	l := &lowatReader{nc: nc, raw: raw, mark: 1}
	l.readFn = func(fd uintptr) bool {
		l.n, l.errno = syscall.Read(int(fd), l.p)
		if l.errno != syscall.EAGAIN {
			return true
		}
		// Nothing to read: wait for the rest of the body, or for
		// anything if no body is expected.
		mark := 1
		if w := min(l.want, len(l.p)); w >= lowatMin {
			mark = w
		}
		if mark != l.mark && syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVLOWAT, mark) == nil {
			l.mark = mark
		}
		return false // the poller waits for readiness, then calls again
	}
	return l
}

// expect says that the next n bytes read are certain to be wanted.
func (l *lowatReader) expect(n int) { l.want = n }

func (l *lowatReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	l.p = p
	err := l.raw.Read(l.readFn)
	l.p = nil
	n, errno := l.n, l.errno
	switch {
	case err != nil:
		return 0, err // closed, or a deadline
	case n > 0:
		l.want = max(0, l.want-n)
		return n, nil
	case errno == nil:
		return 0, io.EOF
	}
	return 0, &net.OpError{Op: "read", Net: "tcp", Source: l.nc.LocalAddr(), Addr: l.nc.RemoteAddr(), Err: errno}
}
