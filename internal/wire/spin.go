package wire

import (
	"io"
	"net"
	"syscall"
	"time"
)

// WithSpinReads makes Receive poll the socket, without parking, for up to
// window for data to arrive before waiting for it as usual. A parked
// reader is woken through the network poller and often another processor,
// which costs tens of microseconds and far more at the tail on a machine
// whose idle processors sleep; polling keeps a processor busy instead.
// Each poll takes the socket's lock, which the peer's writes into it need
// too, so a message that arrives in pieces arrives more slowly: on an H200
// host (16 cores) polling saved the result's wake-up in gpucheck but
// slowed 600 KB inputs, so the worker polls only when asked
// (CLOCKWORK_WORKER_SPIN_READS); gpucheck polls with -spin-reads while it
// waits for a result. Connections that do not expose their file
// descriptor (syscall.Conn) read as usual.
func WithSpinReads(window time.Duration) Option { return func(c *Conn) { c.spin = window } }

// spinReader reads from nc, polling its descriptor (non-blocking, as Go
// keeps every socket) for up to window per Read before a blocking Read.
type spinReader struct {
	nc     net.Conn
	raw    syscall.RawConn
	window time.Duration
}

func newSpinReader(nc net.Conn, window time.Duration) io.Reader {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nc
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nc
	}
	return &spinReader{nc: nc, raw: raw, window: window}
}

// pollGap is the time between polls.
const pollGap = 5 * time.Microsecond

func (s *spinReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	end := time.Now().Add(s.window)
	for {
		var (
			n     int
			errno error
		)
		if err := s.raw.Read(func(fd uintptr) bool {
			n, errno = syscall.Read(int(fd), p)
			return true // never wait for readiness here
		}); err != nil {
			return 0, err // closed
		}
		switch {
		case n > 0:
			return n, nil
		case n == 0 && errno == nil:
			return 0, io.EOF
		case errno != syscall.EAGAIN && errno != syscall.EINTR:
			return 0, &net.OpError{Op: "read", Net: "tcp", Source: s.nc.LocalAddr(), Addr: s.nc.RemoteAddr(), Err: errno}
		}
		now := time.Now()
		if !now.Before(end) {
			return s.nc.Read(p)
		}
		// Each poll takes the socket's lock, which the sender's writes
		// into it need too: poll every pollGap, not back to back.
		for next := now.Add(pollGap); time.Now().Before(next); {
		}
	}
}
