package wire

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestGate(t *testing.T) {
	var log bytes.Buffer
	g := NewGate(2, &log)
	now := time.Unix(100, 0)
	g.now = func() time.Time { return now }
	pipe := func() (server, client net.Conn) {
		server, client = net.Pipe()
		t.Cleanup(func() { server.Close(); client.Close() })
		return server, client
	}
	refused := func(want bool) {
		t.Helper()
		s, c := pipe()
		if got := !g.Admit(s); got != want {
			t.Fatalf("refused %v, want %v", got, want)
		}
		if want {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("the refused peer reads %v, want EOF", err)
			}
		}
	}
	refused(false)
	refused(false)
	refused(true)
	refused(true) // within the second: counted, not said
	if got := strings.Count(log.String(), "\n"); got != 1 || !strings.HasPrefix(log.String(), "Refused 1 connection(s), the latest from pipe: 2 open") {
		t.Fatalf("log %q, want one line for the first refusal", log.String())
	}
	now = now.Add(time.Second)
	refused(true)
	if lines := strings.Split(strings.TrimSpace(log.String()), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "Refused 2 connection(s)") {
		t.Fatalf("log %q, want a second line counting two", log.String())
	}
	g.Leave()
	refused(false)
	refused(true)
}

func TestDefaultConnLimit(t *testing.T) {
	n, files := DefaultConnLimit(), openFileLimit()
	if n < 16 || n > maxDefaultConns || n > files-connReserve && files > 16+connReserve {
		t.Errorf("DefaultConnLimit %d with an open-file limit of %d", n, files)
	}
}
