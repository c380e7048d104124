package controller

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/wire"
)

// lockedBuffer is a console written from the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestClientLimit: past MaxClients a new client is closed at once (it
// reads EOF, it does not wait), the console says so, and the place of a
// client that leaves is free again.
func TestClientLimit(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var console lockedBuffer
	events := make(chan event, 16)
	s := newClientServer(l, events, wire.NewGate(1, &console), &console)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.serve(ctx)
	defer s.close()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp4", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		return c
	}
	first := dial()
	if _, err := dial().Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the client past the limit reads %v, want EOF", err)
	}
	if !strings.Contains(console.String(), "Refused 1 connection(s)") {
		t.Errorf("console %q does not say a client was refused", console.String())
	}
	first.Close()
	if ev := <-events; ev.kind != evClientGone {
		t.Fatalf("event %v, want the first client gone", ev.kind)
	}
	third := wire.NewConn(dial())
	defer third.Close()
	msg, err := clientapi.EncodeRequest(&clientapi.LSRequest{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := third.Send(msg); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-events:
		if _, ok := ev.req.(*clientapi.LSRequest); ev.kind != evClientRequest || !ok {
			t.Errorf("event %v %T, want the LS of the client admitted in the first's place", ev.kind, ev.req)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the client admitted in the first's place was not served")
	}
}
