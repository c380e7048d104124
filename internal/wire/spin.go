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
//
// A poll allocates nothing: the function handed to the descriptor and
// what it reads and writes live in the reader. (A closure per poll put
// three allocations on the heap every 5 µs of waiting, tens of KB per
// result awaited: on the H200, gpucheck polling for results collected
// garbage 1,641 times during its 30,000 timed inferences.)
type spinReader struct {
	nc     net.Conn
	raw    syscall.RawConn
	window time.Duration

	p      []byte // what poll reads into, for the time of one poll
	n      int
	errno  error
	readFn func(fd uintptr) bool // the reader's read, made once
}

func newSpinReader(nc net.Conn, window time.Duration) io.Reader {
	raw := rawConn(nc)
	if raw == nil {
		return nc
	}
	s := &spinReader{nc: nc, raw: raw, window: window}
	s.readFn = func(fd uintptr) bool {
		s.n, s.errno = syscall.Read(int(fd), s.p)
		return true // never wait for readiness here
	}
	return s
}

// poll reads once without waiting: what syscall.Read returned, or err if
// the connection is closed.
func (s *spinReader) poll(p []byte) (n int, errno, err error) {
	s.p = p
	err = s.raw.Read(s.readFn)
	s.p = nil
	return s.n, s.errno, err
}

// rawConn is nc's descriptor, nil if it does not expose one.
func rawConn(nc net.Conn) syscall.RawConn {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// pollGap is the time between polls.
const pollGap = 5 * time.Microsecond

func (s *spinReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	end := time.Now().Add(s.window)
	for {
		n, errno, err := s.poll(p)
		if err != nil {
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
