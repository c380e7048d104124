package wire

import (
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// A Gate bounds how many connections a server keeps open. Past its limit,
// the server closes each new connection at once, so that its peer reads
// EOF and can say so, rather than serve it. Without one, 19,990 idle
// clients used up the controller's 20,000 file descriptors: accept then
// failed for want of one, and each new client waited in the listen
// backlog, connected but never answered. A Gate keeps descriptors for the
// server's other connections and files too (DefaultConnLimit).
type Gate struct {
	limit int
	log   io.Writer
	now   func() time.Time // injected by tests

	mu      sync.Mutex
	open    int
	refused int       // since the last line on log
	logged  time.Time // when that line was written
}

// NewGate makes a Gate admitting up to limit connections at once (at
// least 1), saying on log when it refuses some.
func NewGate(limit int, log io.Writer) *Gate {
	return &Gate{limit: max(1, limit), log: log, now: time.Now}
}

// Limit is how many connections g admits at once.
func (g *Gate) Limit() int { return g.limit }

// Admit takes a place for nc and reports true, or, with none left, closes
// nc and reports false. It says so on log at most once a second, with
// the number refused since the last time.
func (g *Gate) Admit(nc net.Conn) bool {
	g.mu.Lock()
	if g.open < g.limit {
		g.open++
		g.mu.Unlock()
		return true
	}
	g.refused++
	var line string
	if now := g.now(); now.Sub(g.logged) >= time.Second {
		line = fmt.Sprintf("Refused %d connection(s), the latest from %v: %d open, the most this process serves\n",
			g.refused, nc.RemoteAddr(), g.limit)
		g.refused, g.logged = 0, now
	}
	g.mu.Unlock()
	if line != "" {
		fmt.Fprint(g.log, line)
	}
	nc.Close()
	return false
}

// Leave gives back the place of a connection Admit took, once it is
// closed.
func (g *Gate) Leave() {
	g.mu.Lock()
	g.open--
	g.mu.Unlock()
}

// connReserve is how many file descriptors DefaultConnLimit leaves for
// what is not a connection a Gate admits (listeners, the workers'
// connections, logs, model files), at least.
const connReserve = 64

// maxDefaultConns caps DefaultConnLimit: each connection holds about
// 64 KiB of read buffer even while idle, so 4,096 idle ones hold 256 MiB.
// Clockwork's clients are a few processes with one connection each.
const maxDefaultConns = 4096

// DefaultConnLimit is the connections a server admits by default: the
// process's open-file limit (which Go raises to the hard limit at start
// on Linux) less an eighth of it, and at least connReserve; at most
// maxDefaultConns.
func DefaultConnLimit() int {
	n := openFileLimit()
	return min(maxDefaultConns, max(16, n-max(connReserve, n/8)))
}
