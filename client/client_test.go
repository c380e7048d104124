package client

import (
	"math"
	"net"
	"strings"
	"testing"
)

// TestLoadRemoteModelsChecksCopies: a copy count the protocol's int32
// cannot carry is an error, not sent (4294967297 went as 1 copy).
func TestLoadRemoteModelsChecksCopies(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if nc, err := l.Accept(); err == nil {
			defer nc.Close()
			var b [1]byte
			nc.Read(b[:]) // the test fails if anything is sent
		}
	}()
	c, err := Connect(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, n := range []int{0, -1, math.MaxInt32 + 1, 1<<32 + 1} {
		if _, err := c.LoadRemoteModels("/m", n); err == nil || !strings.Contains(err.Error(), "copies must be from 1 to 2147483647") {
			t.Errorf("%d copies: %v", n, err)
		}
	}
	if s := c.conn.Stats(); s.MsgsSent != 0 {
		t.Errorf("%d messages sent", s.MsgsSent)
	}
}
