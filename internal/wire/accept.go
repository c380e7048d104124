package wire

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Pauses between tries of Accept after an error that passes.
const (
	acceptPauseMin = 5 * time.Millisecond
	acceptPauseMax = time.Second
)

// Accept waits for the next connection on l, as l.Accept does, but rides
// out the errors that pass — the process out of file descriptors, a
// connection aborted before it was accepted — as net/http's server does:
// it says so on log and tries again after a pause that doubles from 5 ms
// to 1 s. (One such error used to end a worker, and the controller's
// service of clients.) It returns any other error, net.ErrClosed once l
// is closed.
func Accept(l net.Listener, log io.Writer) (net.Conn, error) {
	var pause time.Duration
	for {
		nc, err := l.Accept()
		if err == nil {
			return nc, nil
		}
		var t interface{ Temporary() bool }
		if errors.Is(err, net.ErrClosed) || !errors.As(err, &t) || !t.Temporary() {
			return nil, err
		}
		pause = min(max(2*pause, acceptPauseMin), acceptPauseMax)
		fmt.Fprintf(log, "Accepting a connection on %s failed: %v; trying again in %v\n", l.Addr(), err, pause)
		time.Sleep(pause)
	}
}
