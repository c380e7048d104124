package main

import (
	"encoding/binary"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary be -netbase's peer, as gpucheck is.
func TestMain(m *testing.M) {
	if os.Getenv(netbasePeerEnv) != "" {
		os.Exit(netbasePeer())
	}
	os.Exit(m.Run())
}

// dialNetbasePeer starts the peer as a process of its own (the test
// binary, as gpucheck runs itself) and connects to it; both end with the
// test.
func dialNetbasePeer(t *testing.T) net.Conn {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	addr, stop, err := startNetbasePeer(exe)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestNetbaseRoundTrips runs the peer as a process of its own and times
// round trips of two sizes through it, as -netbase does.
func TestNetbaseRoundTrips(t *testing.T) {
	conn := dialNetbasePeer(t)
	batches := []int{1, 3}
	reply := make([]byte, netbaseOutput*3)
	samples := make([][]sample, len(batches))
	for i, b := range batches {
		m, err := netbaseMessage(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(m) != 16+netbaseInput*b {
			t.Fatalf("batch size %d: a message of %d bytes", b, len(m))
		}
		for range 5 {
			s, err := netbaseRoundTrip(conn, m, reply)
			if err != nil {
				t.Fatal(err)
			}
			if !(s.sent <= s.written && s.written <= s.arrived) {
				t.Fatalf("stamps out of order: %+v", s)
			}
			samples[i] = append(samples[i], s)
		}
	}
	table := netbaseTable(batches, samples)
	for _, want := range []string{"netbase         1 |", "netbase         3 |", "for "} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	// The connection still serves after the table: the peer reads every
	// message whole.
	m, _ := netbaseMessage(2)
	if _, err := netbaseRoundTrip(conn, m, reply); err != nil {
		t.Fatal(err)
	}
}

// TestNetbasePeerRefusesHugeMessages: a header over the frame limit ends
// the peer (it would allocate it) rather than leaving the caller waiting.
func TestNetbasePeerRefusesHugeMessages(t *testing.T) {
	conn := dialNetbasePeer(t)
	var head [16]byte
	binary.LittleEndian.PutUint64(head[:], netbaseMax+1)
	if _, err := conn.Write(head[:]); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatalf("the peer answered %d bytes", n)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the peer kept the connection")
	}
	if _, err := netbaseMessage(netbaseMax/netbaseInput + 1); err == nil {
		t.Error("a batch over the frame limit made a message")
	}
}

// TestNetbaseFlags: -netbase defaults to batch sizes 1 and 16 and is a
// mode of its own.
func TestNetbaseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-netbase", "-n", "7"})
	if err != nil || !o.netbase || o.n != 7 || len(o.batches) != 2 || o.batches[0] != 1 || o.batches[1] != 16 {
		t.Fatalf("options %+v, %v", o, err)
	}
	if _, err := parseFlags([]string{"-netbase", "-mix"}); err == nil {
		t.Error("-netbase -mix accepted")
	}
}
