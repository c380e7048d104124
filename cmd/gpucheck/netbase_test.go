package main

import (
	"encoding/binary"
	"io"
	"net"
	"os"
	"regexp"
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

// TestNetbaseBesideStopsAStuckPeer: finish returns at once even when the
// peer never answers (it used to wait for the round trip for ever, and
// gpucheck never printed its report), and says that none finished.
func TestNetbaseBesideStopsAStuckPeer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(io.Discard, c) // reads everything, answers nothing
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	b := newNetbaseBeside(conn, func() { stopped = true })
	time.Sleep(20 * time.Millisecond) // a round trip is waiting for its reply
	line := make(chan string, 1)
	go func() { line <- b.finish() }()
	select {
	case got := <-line:
		if got != "netbase beside the worker: no round trip finished (stopped before the first)\n" || !stopped {
			t.Errorf("finish said %q, peer stopped %v", got, stopped)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("finish still waiting 5 s after a peer that never answers")
	}
}

// TestNetbaseBeside runs the round trips against the real peer and reads
// finish's line.
func TestNetbaseBeside(t *testing.T) {
	b, err := startNetbaseBeside()
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	got := b.finish()
	if !regexp.MustCompile(`^netbase beside the worker: [1-9]\d* round trips of 602112 bytes there and 4000 back, one every 2ms while the worker loaded and served the models: ms p50 [\d.]+ .*p99\.9-p50 [\d.]+ ms\n$`).MatchString(got) {
		t.Errorf("finish said %q", got)
	}
}
