package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/clockwork-go/clockwork/internal/clock"
)

// -netbase measures the tail that loopback itself adds: a bare round trip
// over loopback TCP between gpucheck and a child process of itself, with
// the sizes of an Infer's input and output and nothing else (no worker,
// no protocol, no GPU). How far its p99.9 is above its p50 is what any
// program that moves these bytes between two processes adds to its own
// tail on this machine: the part of an end-to-end tail that is not the
// worker's (on the H100, 0.13-0.17 ms at batch size 1, where the worker's
// ResNet-50 rows had 0.46-4.4 ms). It runs beside the stall probe, as the
// other modes do.

// netbasePeerEnv, set in a gpucheck process's environment, makes it the
// peer: it listens on loopback, prints its address, and answers each
// message with the reply it asks for.
const netbasePeerEnv = "GPUCHECK_NETBASE_PEER"

const (
	netbaseInput  = 3 * 224 * 224 * 4 // bytes of one item's input (ResNet-50's, 602,112)
	netbaseOutput = 1000 * 4          // bytes of one item's output
	netbaseTurn   = 50                // round trips of a size before the next size's
	netbaseMax    = 1 << 28           // the largest message the peer takes, as the worker's frame limit

	netbaseAcceptWait = 30 * time.Second // how long the peer waits to be dialled
)

// runNetbase runs the -netbase mode and prints its table.
func runNetbase(o *options) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	mw := startProbe(o)
	if mw != nil {
		defer mw.stop() // if the peer fails
	}
	addr, stop, err := startNetbasePeer(exe)
	if err != nil {
		return err
	}
	defer stop()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()

	fmt.Printf("netbase: a bare round trip over loopback TCP between gpucheck and a child process of itself (no worker, no GPU): a batch's input (%d bytes an item) there, its output (%d bytes an item) back, reads parked; %d a row after %d warm-ups, in turns of %d\n",
		netbaseInput, netbaseOutput, o.n, o.warmup, netbaseTurn)
	msgs := make([][]byte, len(o.batches))
	for i, b := range o.batches {
		if msgs[i], err = netbaseMessage(b); err != nil {
			return err
		}
	}
	reply := make([]byte, netbaseOutput*o.batches[len(o.batches)-1])
	samples := make([][]sample, len(o.batches))
	for i, m := range msgs {
		for range o.warmup {
			if _, err := netbaseRoundTrip(conn, m, reply); err != nil {
				return err
			}
		}
		samples[i] = make([]sample, 0, o.n)
	}
	for done := false; !done; {
		done = true
		for i, m := range msgs {
			for k := 0; k < netbaseTurn && len(samples[i]) < o.n; k++ {
				s, err := netbaseRoundTrip(conn, m, reply)
				if err != nil {
					return err
				}
				samples[i] = append(samples[i], s)
			}
			done = done && len(samples[i]) == o.n
		}
	}
	fmt.Print(netbaseTable(o.batches, samples))
	if mw != nil {
		fmt.Print(stallReport(mw.stop(), samples, "round trips", "(the machine alone, no worker)"))
	}
	return nil
}

// startNetbasePeer starts exe as the peer and returns its address and a
// function that ends it.
func startNetbasePeer(exe string) (addr string, stop func(), err error) {
	peer := exec.Command(exe)
	peer.Env = append(os.Environ(), netbasePeerEnv+"=1")
	peer.Stderr = os.Stderr
	out, err := peer.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := peer.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		peer.Process.Kill()
		peer.Wait()
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "netbase peer on ")
	if err != nil || !ok {
		stop()
		return "", nil, fmt.Errorf("netbase peer did not start: %q, %v", line, err)
	}
	return addr, stop, nil
}

// netbaseMessage is the message of a batch of b: a header saying how
// long the body is and how long a reply the peer sends, then the body.
func netbaseMessage(b int) ([]byte, error) {
	body, reply := netbaseInput*b, netbaseOutput*b
	if body > netbaseMax {
		return nil, fmt.Errorf("-netbase: batch size %d makes a %d-byte message, over %d", b, body, netbaseMax)
	}
	m := make([]byte, 16+body)
	binary.LittleEndian.PutUint64(m, uint64(body))
	binary.LittleEndian.PutUint64(m[8:], uint64(reply))
	for i := 16; i < len(m); i += 4096 {
		m[i] = byte(i) // touched, as an input would be
	}
	return m, nil
}

// netbaseRoundTrip sends m whole and reads its reply into reply.
func netbaseRoundTrip(conn net.Conn, m, reply []byte) (sample, error) {
	s := sample{sent: clock.Now()}
	if _, err := conn.Write(m); err != nil {
		return s, err
	}
	s.written = clock.Now()
	n := binary.LittleEndian.Uint64(m[8:])
	if _, err := io.ReadFull(conn, reply[:n]); err != nil {
		return s, err
	}
	s.arrived = clock.Now()
	return s, nil
}

// netbaseTable is one row per batch size: the round trip's percentiles,
// how far its p99.9 is above its p50 (what a slow round trip adds, to set
// beside an inference's end-to-end p50), and its write's (until the socket
// took the whole message).
func netbaseTable(batches []int, samples [][]sample) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-13s %3s | %-41s | %-10s | %s\n", "netbase", "b", "round trip ms: p50 p99 p99.9 max     tail", "p99.9-p50", "write ms: p50 p99.9")
	within := 0
	for i, bs := range batches {
		d, w := summarizeSamples(samples[i], (*sample).e2e), summarizeSamples(samples[i], (*sample).write)
		if d.tail() <= maxE2ETail {
			within++
		}
		fmt.Fprintf(&b, "%-13s %3d | %8.3f %8.3f %8.3f %8.3f %5.3f | %10.3f | %8.3f %8.3f\n", "netbase", bs, d.p50, d.p99, d.p999, d.max, d.tail(), d.p999-d.p50, w.p50, w.p999)
	}
	fmt.Fprintf(&b, "netbase: p99.9/p50 within %.2f for %d of %d sizes\n", maxE2ETail, within, len(batches))
	return b.String()
}

// netbasePeer is the peer's side: it answers every message on one
// connection until it closes. It returns the process's exit status.
func netbasePeer() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "gpucheck netbase peer:", err)
		return 1
	}
	fmt.Printf("netbase peer on %s\n", ln.Addr())
	// gpucheck dials at once; a peer whose gpucheck died first ends here.
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(netbaseAcceptWait))
	conn, err := ln.Accept()
	ln.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gpucheck netbase peer:", err)
		return 1
	}
	defer conn.Close()
	var head [16]byte
	var body, reply []byte
	for {
		if _, err := io.ReadFull(conn, head[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return 0
			}
			fmt.Fprintln(os.Stderr, "gpucheck netbase peer:", err)
			return 1
		}
		n, r := binary.LittleEndian.Uint64(head[:]), binary.LittleEndian.Uint64(head[8:])
		if n > netbaseMax || r > netbaseMax {
			fmt.Fprintf(os.Stderr, "gpucheck netbase peer: a message of %d bytes asking for %d\n", n, r)
			return 1
		}
		if uint64(cap(body)) < n {
			body = make([]byte, n)
		}
		if uint64(cap(reply)) < r {
			reply = make([]byte, r)
		}
		if _, err := io.ReadFull(conn, body[:n]); err != nil {
			fmt.Fprintln(os.Stderr, "gpucheck netbase peer:", err)
			return 1
		}
		if _, err := conn.Write(reply[:r]); err != nil {
			fmt.Fprintln(os.Stderr, "gpucheck netbase peer:", err)
			return 1
		}
	}
}

// netbaseBesidePace is how often -netbase-beside sends its round trip:
// about 300 MB/s of loopback at batch size 1, little beside the worker's.
const netbaseBesidePace = 2 * time.Millisecond

// netbaseBeside times bare loopback round trips of a batch-size-1 input
// and output (as -netbase) in the background, one every
// netbaseBesidePace, while the worker serves the timed inferences
// (-netbase-beside). Beside -netbase's figures with no worker, they tell
// whether the worker's activity (its GPU work, its spinning threads)
// slows the machine's loopback for everyone, or whether the worker's own
// way of reading its inputs is what grows.
type netbaseBeside struct {
	stop, done chan struct{}
	samples    []sample // written by the round trips' goroutine until done
	err        error
	conn       net.Conn
	stopPeer   func()
}

// startNetbaseBeside starts the peer and the round trips.
func startNetbaseBeside() (*netbaseBeside, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, stopPeer, err := startNetbasePeer(exe)
	if err != nil {
		return nil, err
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		stopPeer()
		return nil, err
	}
	return newNetbaseBeside(conn, stopPeer), nil
}

// newNetbaseBeside starts the round trips over conn to a peer that
// stopPeer ends.
func newNetbaseBeside(conn net.Conn, stopPeer func()) *netbaseBeside {
	m, _ := netbaseMessage(1) // 602,112 bytes, under netbaseMax
	b := &netbaseBeside{stop: make(chan struct{}), done: make(chan struct{}), conn: conn, stopPeer: stopPeer}
	go func() {
		defer close(b.done)
		reply := make([]byte, netbaseOutput)
		tick := time.NewTicker(netbaseBesidePace)
		defer tick.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-tick.C:
			}
			s, err := netbaseRoundTrip(conn, m, reply)
			if err != nil {
				select {
				case <-b.stop: // finish closed the connection under it
				default:
					b.err = err
				}
				return
			}
			b.samples = append(b.samples, s)
		}
	}()
	return b
}

// finish stops the round trips and says what they saw, in one line. It
// closes the connection first, so that a round trip a stuck peer never
// answers does not hold it.
func (b *netbaseBeside) finish() string {
	close(b.stop)
	b.conn.Close()
	<-b.done
	b.stopPeer()
	if len(b.samples) == 0 {
		why := "stopped before the first"
		if b.err != nil {
			why = b.err.Error()
		}
		return fmt.Sprintf("netbase beside the worker: no round trip finished (%s)\n", why)
	}
	d := summarizeSamples(b.samples, (*sample).e2e)
	line := fmt.Sprintf("netbase beside the worker: %d round trips of %d bytes there and %d back, one every %v while the worker loaded and served the models: ms p50 %.3f p99 %.3f p99.9 %.3f max %.3f; p99.9/p50 %.3f, p99.9-p50 %.3f ms",
		d.n, netbaseInput, netbaseOutput, netbaseBesidePace, d.p50, d.p99, d.p999, d.max, d.tail(), d.p999-d.p50)
	if b.err != nil {
		line += fmt.Sprintf(" (stopped early: %v)", b.err)
	}
	return line + "\n"
}
