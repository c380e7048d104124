package wire

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
)

// flakyListener fails its Accepts with the errors in errs, in turn, and
// then accepts one end of a pipe.
type flakyListener struct {
	errs []error
	net.Listener
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	c, _ := net.Pipe()
	return c, nil
}

func (l *flakyListener) Addr() net.Addr { return &net.TCPAddr{Port: 12345} }

func TestAcceptRidesOutErrorsThatPass(t *testing.T) {
	var log bytes.Buffer
	op := func(err error) error { return &net.OpError{Op: "accept", Net: "tcp", Err: err} }
	l := &flakyListener{errs: []error{op(syscall.EMFILE), op(syscall.ECONNABORTED)}}
	c, err := Accept(l, &log)
	if err != nil || c == nil {
		t.Fatalf("Accept = %v, %v; want the connection after two errors", c, err)
	}
	c.Close()
	if n := strings.Count(log.String(), "trying again in"); n != 2 || !strings.Contains(log.String(), "too many open files; trying again in 5ms") ||
		!strings.Contains(log.String(), "trying again in 10ms") {
		t.Errorf("log:\n%s", log.String())
	}

	for _, stop := range []error{net.ErrClosed, op(syscall.EINVAL), errors.New("not a net.Error")} {
		log.Reset()
		l := &flakyListener{errs: []error{stop}}
		if c, err := Accept(l, &log); c != nil || !errors.Is(err, stop) {
			t.Errorf("Accept with %v = %v, %v; want that error", stop, c, err)
		}
		if log.Len() != 0 {
			t.Errorf("Accept with %v logged %q", stop, log.String())
		}
	}
}
