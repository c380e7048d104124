package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestSlidingMin(t *testing.T) {
	var w slidingMin
	if w.min() != math.MaxInt64 {
		t.Fatal("empty window must read MaxInt64")
	}
	// A naive reference over the last SkewWindow values.
	var all []int64
	x := int64(12345)
	for i := 0; i < 5000; i++ {
		x = (x*1103515245 + 12345) % 1000003
		v := x - 500000
		if i%700 == 0 {
			v = -1e6 // an outlier minimum that must expire
		}
		w.insert(v)
		all = append(all, v)
		want := int64(math.MaxInt64)
		for _, u := range all[max(0, len(all)-SkewWindow):] {
			want = min(want, u)
		}
		if got := w.min(); got != want {
			t.Fatalf("after %d inserts min = %d, want %d", i+1, got, want)
		}
	}
}

func TestSkewEstimate(t *testing.T) {
	// Peer clock = my clock − θ; one-way delays vary but their minima are
	// dIn (peer → me) and dOut (me → peer).
	const theta, dIn, dOut = 5_000_000, 40_000, 60_000
	var me, peer Skew
	if me.ClockDelta() != 0 || me.RTT() != 0 {
		t.Fatal("estimates before any sample must be 0")
	}
	now := int64(1e18)
	for i := 0; i < 100; i++ {
		jitter := int64(i%7) * 3000
		// peer → me
		sent := now - theta
		me.Observe(now+dIn+jitter, uint64(sent), peer.LocalDelta())
		now += 100_000
		// me → peer
		peer.Observe(now-theta+dOut+jitter, uint64(now), me.LocalDelta())
		now += 100_000
	}
	if d := me.ClockDelta(); d != theta+(dIn-dOut)/2 {
		t.Errorf("clock delta %d, want θ + asymmetry/2 = %d", d, theta+(dIn-dOut)/2)
	}
	if r := me.RTT(); r != dIn+dOut {
		t.Errorf("RTT %d, want %d", r, dIn+dOut)
	}
	if d := peer.ClockDelta(); d != -theta+(dOut-dIn)/2 {
		t.Errorf("peer's clock delta %d", d)
	}
}

func TestAdjust(t *testing.T) {
	for _, tc := range []struct {
		t    uint64
		d    int64
		want uint64
	}{
		{1000, 5, 1005},
		{1000, -5, 995},
		{0, -5, 0},
		{0, 5, 5},
		{math.MaxUint64, 5, math.MaxUint64},
		{math.MaxUint64, -5, math.MaxUint64 - 5},
		{3, -5, 3},
		{math.MaxUint64 - 2, 5, math.MaxUint64 - 2},
	} {
		if got := Adjust(tc.t, tc.d); got != tc.want {
			t.Errorf("Adjust(%d, %d) = %d, want %d", tc.t, tc.d, got, tc.want)
		}
	}
}

// pipe connects two Conns over loopback; opts apply to the second.
func pipe(t *testing.T, opts ...Option) (*Conn, *Conn) {
	a, b := tcpPair(t)
	ca, cb := NewConn(a), NewConn(b, opts...)
	t.Cleanup(func() { ca.Close(); cb.Close() })
	return ca, cb
}

// tcpPair is a loopback TCP connection's two ends: dialled, accepted.
func tcpPair(t *testing.T) (net.Conn, net.Conn) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ch := make(chan net.Conn)
	go func() {
		c, _ := l.Accept()
		ch <- c
	}()
	a, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	return a, <-ch
}

func TestRoundTrip(t *testing.T) {
	a, b := pipe(t)
	sent := make(chan error, 1)
	m := &Message{Type: 3, ID: 42, Header: []byte("hdr"), Body: []byte("ab"), BodyParts: [][]byte{[]byte("cd"), nil, []byte("e")},
		Sent: func(err error) { sent <- err }}
	if err := a.Send(m); err != nil {
		t.Fatal(err)
	}
	got, err := b.Receive()
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != 3 || got.ID != 42 || string(got.Header) != "hdr" || string(got.Body) != "abcde" {
		t.Fatalf("received %+v", got)
	}
	if err := <-sent; err != nil {
		t.Fatalf("Sent callback: %v", err)
	}
	if s := a.Stats(); s.MsgsSent != 1 || s.BytesSent != 5+PreHeaderSize {
		t.Errorf("sender stats %+v", s)
	}
	if s := b.Stats(); s.MsgsRecv != 1 || s.BytesRecv != 5+PreHeaderSize {
		t.Errorf("receiver stats %+v", s)
	}
	// Order is kept across many concurrent-looking sends.
	for i := 0; i < 100; i++ {
		a.Send(&Message{Type: uint64(i), Header: []byte{byte(i)}})
	}
	for i := 0; i < 100; i++ {
		m, err := b.Receive()
		if err != nil || m.Type != uint64(i) {
			t.Fatalf("message %d: %+v, %v", i, m, err)
		}
	}
	// Both sides now know each other's deltas.
	b.Send(&Message{Type: 1, Header: []byte{1}})
	if _, err := a.Receive(); err != nil {
		t.Fatal(err)
	}
	if a.RTT() <= 0 || a.RTT() > int64(time.Second) {
		t.Errorf("RTT estimate %d", a.RTT())
	}
}

// TestHeaderSizes sends headers about the size kept inside a Message
// (smallHeader), marshalled into HeaderBuffer as encoders do, direct and
// queued, and checks that each received message keeps its own.
func TestHeaderSizes(t *testing.T) {
	for _, direct := range []bool{false, true} {
		b, a := pipe(t) // a sends, queued by its writer
		if direct {
			b, a = pipe(t, WithDirectWrites(1<<20)) // pipe's options are its second end's
		}
		sizes := []int{0, 1, smallHeader - 1, smallHeader, smallHeader + 1, 4096, 70000}
		var got []*Message
		for i, n := range sizes {
			m := &Message{Type: uint64(i)}
			m.Header = m.HeaderBuffer()
			for j := 0; j < n; j++ {
				m.Header = append(m.Header, byte(i+j))
			}
			if err := a.Send(m); err != nil {
				t.Fatal(err)
			}
			r, err := b.Receive()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
		for i, n := range sizes {
			h := got[i].Header
			if len(h) != n {
				t.Fatalf("direct %v: header %d has %d bytes, want %d", direct, i, len(h), n)
			}
			for j := range h {
				if h[j] != byte(i+j) {
					t.Fatalf("direct %v: header %d byte %d is %d", direct, i, j, h[j])
				}
			}
		}
	}
}

func TestSendAfterClose(t *testing.T) {
	a, _ := pipe(t)
	a.Close()
	var got error
	if err := a.Send(&Message{Sent: func(err error) { got = err }}); !errors.Is(err, ErrClosed) || !errors.Is(got, ErrClosed) {
		t.Fatalf("Send on closed conn: %v, callback %v", err, got)
	}
	<-a.Done()
}

func TestOversizedFrames(t *testing.T) {
	pre := make([]byte, PreHeaderSize)
	binary.LittleEndian.PutUint64(pre[0:], MaxHeaderSize+1)
	if _, err := DecodePreHeader(pre, DefaultMaxBodySize); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("oversized header: %v", err)
	}
	binary.LittleEndian.PutUint64(pre[0:], 10)
	binary.LittleEndian.PutUint64(pre[8:], 1<<40)
	if _, err := DecodePreHeader(pre, DefaultMaxBodySize); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("oversized body: %v", err)
	}
	if _, err := DecodePreHeader(pre[:10], DefaultMaxBodySize); err == nil {
		t.Error("short pre-header accepted")
	}
	// A body claimed larger than what arrives fails without allocating it.
	a, b := pipe(t)
	b2 := NewConn(b.nc, WithMaxBody(1<<30))
	binary.LittleEndian.PutUint64(pre[8:], 512<<20)
	a.nc.Write(append(pre, make([]byte, 10)...))
	a.nc.Write(make([]byte, 1000))
	a.nc.Close()
	if _, err := b2.Receive(); err == nil {
		t.Fatal("truncated body accepted")
	}
}

// TestClaimedLengthsCostLittle sends pre-headers that claim a large header
// or body, then a few bytes, then closes: the reader allocates next to
// nothing for the claim (it used to allocate the whole header, 4 MiB of a
// body, or a pooled body's whole buffer, and hold it until the read
// stall).
func TestClaimedLengthsCostLittle(t *testing.T) {
	for _, tc := range []struct {
		name       string
		head, body uint64
		opts       []Option
	}{
		{"a 10 MiB header", MaxHeaderSize, 0, nil},
		{"a 200 MiB body", 1, 200 << 20, nil},
		{"a 32 MiB pooled body", 1, maxPooled, []Option{WithBodyPool()}},
	} {
		nc, peer := net.Pipe()
		c := NewConn(peer, tc.opts...)
		go func() {
			var pre [PreHeaderSize]byte
			ph := PreHeader{HeaderLen: tc.head, BodyLen: tc.body, Type: 2}
			ph.Encode(pre[:])
			nc.Write(append(pre[:], make([]byte, 100)...))
			nc.Close()
		}()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := c.Receive()
		runtime.ReadMemStats(&after)
		c.Close()
		if err == nil {
			t.Fatalf("%s: a frame cut short was received", tc.name)
		}
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
			t.Errorf("%s: %d bytes allocated for 148 bytes sent", tc.name, grew)
		}
	}
}

// FuzzDecodePreHeader checks that any 48 bytes decode or fail cleanly.
func FuzzDecodePreHeader(f *testing.F) {
	f.Add(make([]byte, PreHeaderSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePreHeader(b, DefaultMaxBodySize)
		if err == nil {
			var out [PreHeaderSize]byte
			p.Encode(out[:])
			if !bytes.Equal(out[:], b[:PreHeaderSize]) {
				t.Fatal("re-encoding differs")
			}
		}
	})
}

// FuzzReceive feeds arbitrary byte streams to a connection's reader.
func FuzzReceive(f *testing.F) {
	good := make([]byte, PreHeaderSize)
	binary.LittleEndian.PutUint64(good[0:], 2)
	binary.LittleEndian.PutUint64(good[8:], 3)
	f.Add(append(good, 'h', 'h', 'b', 'b', 'b'))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, alloc := range []Allocator{nil, Pools} {
			c := &Conn{r: bufio.NewReader(bytes.NewReader(b)), now: func() int64 { return 1 }, maxBody: 1 << 16, alloc: alloc}
			for i := 0; i < 4; i++ {
				m, err := c.Receive()
				if err != nil {
					break
				}
				m.Release()
			}
		}
	})
}

// TestDirectWrites sends from several goroutines over a connection whose
// Send writes small messages itself: a message sent with nothing queued
// is written (its Sent callback run) before Send returns, each sender's
// messages arrive in order, large ones go through the writer, and Done
// waits for every callback.
func TestDirectWrites(t *testing.T) {
	b, a := pipe(t, WithDirectWrites(1000))
	written := false
	a.Send(&Message{Type: 1, Header: []byte{1}, Sent: func(error) { written = true }})
	if !written {
		t.Error("a small message with nothing queued was not written by Send")
	}
	if m, err := b.Receive(); err != nil || m.Type != 1 {
		t.Fatalf("first message: %+v, %v", m, err)
	}

	const senders, each = 4, 200
	var callbacks atomic.Int64
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m := &Message{Type: uint64(g), ID: uint64(i), Header: []byte{byte(g)},
					Sent: func(err error) {
						if err == nil {
							callbacks.Add(1)
						}
					}}
				if i%10 == 0 {
					m.Body = make([]byte, 64<<10) // past the direct limit
				}
				a.Send(m)
			}
		}()
	}
	next := make([]uint64, senders)
	for range senders * each {
		m, err := b.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != next[m.Type] {
			t.Fatalf("sender %d: message %d arrived, expected %d", m.Type, m.ID, next[m.Type])
		}
		next[m.Type]++
	}
	wg.Wait()
	a.Close()
	<-a.Done()
	if n := callbacks.Load(); n != senders*each {
		t.Errorf("%d Sent callbacks reported success, want %d", n, senders*each)
	}
}

// TestSpinReads receives over a connection that polls its socket: messages
// that arrive within the window and after it (when the reader has parked)
// are read whole, and the peer's close ends the stream with io.EOF.
func TestSpinReads(t *testing.T) {
	a, b := pipe(t, WithSpinReads(2*time.Millisecond))
	if _, ok := newSpinReader(b.nc, time.Millisecond).(*spinReader); !ok {
		t.Fatal("a TCP connection does not poll")
	}
	body := make([]byte, 3<<20) // several reads
	for i := range body {
		body[i] = byte(i * 7)
	}
	for i, pause := range []time.Duration{0, 0, 5 * time.Millisecond, time.Millisecond, 20 * time.Millisecond} {
		time.Sleep(pause)
		a.Send(&Message{Type: uint64(i), Header: []byte{byte(i)}, Body: body})
		m, err := b.Receive()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if m.Type != uint64(i) || !bytes.Equal(m.Body, body) {
			t.Fatalf("message %d: type %d, body of %d bytes differs", i, m.Type, len(m.Body))
		}
	}
	// A poll that finds nothing allocates nothing: polling for a result
	// must not make garbage at the rate it polls.
	s := newSpinReader(b.nc, time.Millisecond).(*spinReader)
	buf := make([]byte, 64)
	if allocs := testing.AllocsPerRun(100, func() {
		if _, errno, err := s.poll(buf); err != nil || errno != syscall.EAGAIN {
			t.Fatalf("poll of an empty socket: %v, %v", errno, err)
		}
	}); allocs != 0 {
		t.Errorf("%v allocations per poll", allocs)
	}
	a.Close()
	if _, err := b.Receive(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the peer closed: %v, want EOF", err)
	}
}

// TestDirectWritesToSlowPeer sends past what the sockets hold to a peer
// that reads nothing yet: a direct Send hands what the socket does not
// take to the writer rather than wait for the peer, and once the peer
// reads, every message arrives whole and in order.
func TestDirectWritesToSlowPeer(t *testing.T) {
	b, a := pipe(t, WithDirectWrites(1<<20))
	const n, size = 300, 64 << 10 // 19 MiB: more than the sockets hold
	body := make([]byte, size)
	for i := range body {
		body[i] = byte(i * 3)
	}
	var ok atomic.Int64
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := range n {
			a.Send(&Message{Type: 1, ID: uint64(i), Header: []byte{7}, Body: body, Sent: func(err error) {
				if err == nil {
					ok.Add(1)
				}
			}})
		}
	}()
	select {
	case <-sent:
	case <-time.After(time.Minute):
		t.Fatal("Send waited for a peer that does not read")
	}
	for i := range n {
		m, err := b.Receive()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if m.ID != uint64(i) || len(m.Header) != 1 || m.Header[0] != 7 || !bytes.Equal(m.Body, body) {
			t.Fatalf("message %d arrived as id %d with a %d-byte body", i, m.ID, len(m.Body))
		}
	}
	a.Close()
	<-a.Done()
	if ok.Load() != n {
		t.Errorf("%d Sent callbacks reported success, want %d", ok.Load(), n)
	}
	if s := a.Stats(); s.MsgsSent != n || s.BytesSent != n*(size+PreHeaderSize) {
		t.Errorf("stats %+v", s)
	}
}

// TestSendLimit: a peer that does not read fills the sockets, then the
// queue; the message that would take the queue past the limit closes the
// connection, and every message not written hears so.
func TestSendLimit(t *testing.T) {
	_, a := pipe(t, WithSendLimit(1<<20))
	body := make([]byte, 64<<10)
	var failed atomic.Int64
	var err error
	sent := 0
	for ; sent < 4000 && err == nil; sent++ { // 250 MiB at most
		err = a.Send(&Message{Type: 1, Header: []byte{1}, Body: body, Sent: func(err error) {
			if err != nil {
				failed.Add(1)
			}
		}})
	}
	if err == nil || !strings.Contains(err.Error(), "the peer does not read") {
		t.Fatalf("after %d sends: %v, want the send limit's error", sent, err)
	}
	select {
	case <-a.Done():
	case <-time.After(time.Minute):
		t.Fatal("the connection stayed open")
	}
	if w := a.Stats().MsgsSent; int64(sent)-int64(w) != failed.Load() {
		t.Errorf("%d sent, %d written, %d failed: some Sent callback did not run", sent, w, failed.Load())
	}
}

// TestWriteStall: a message the peer does not take within the stall
// closes the connection with an error saying so.
func TestWriteStall(t *testing.T) {
	_, a := pipe(t, WithWriteStall(100*time.Millisecond))
	body := make([]byte, 64<<10)
	errs := make(chan error, 1)
	for range 1000 { // 62 MiB, more than the sockets hold
		a.Send(&Message{Type: 1, Header: []byte{1}, Body: body, Sent: func(err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		}})
	}
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "the peer took no message of 65536 bytes in 100ms") {
			t.Errorf("error %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("no write failed")
	}
	<-a.Done()
}

// rawPipe connects a raw TCP connection to a Conn made with opts.
func rawPipe(t *testing.T, opts ...Option) (net.Conn, *Conn) {
	raw, b := tcpPair(t)
	c := NewConn(b, opts...)
	t.Cleanup(func() { raw.Close(); c.Close() })
	return raw, c
}

func frame(typ uint64, body []byte) []byte {
	b := make([]byte, PreHeaderSize+1, PreHeaderSize+1+len(body))
	(&PreHeader{HeaderLen: 1, BodyLen: uint64(len(body)), Type: typ}).Encode(b)
	return append(b, body...)
}

// TestReadStall: a connection may idle between messages for as long as it
// likes, and a message may come in parts, but one whose rest stops coming
// ends the connection after the read stall.
func TestReadStall(t *testing.T) {
	raw, c := rawPipe(t, WithReadStall(200*time.Millisecond))
	got := make(chan error, 10)
	go func() {
		for {
			m, err := c.Receive()
			if err != nil {
				got <- err
				return
			}
			got <- fmt.Errorf("type %d, %d bytes", m.Type, len(m.Body))
		}
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case err := <-got:
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("got %q, want %q", err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("nothing received, want %q", want)
		}
	}
	time.Sleep(400 * time.Millisecond) // idle: no limit
	raw.Write(frame(1, []byte("abc")))
	expect("type 1, 3 bytes")
	// In parts, each within the stall, and then idle again.
	f := frame(2, make([]byte, 100))
	raw.Write(f[:10])
	time.Sleep(100 * time.Millisecond)
	raw.Write(f[10:60])
	time.Sleep(100 * time.Millisecond)
	raw.Write(f[60:])
	expect("type 2, 100 bytes")
	time.Sleep(400 * time.Millisecond)
	raw.Write(frame(3, nil))
	expect("type 3, 0 bytes")
	// Half a pre-header, then nothing.
	start := time.Now()
	raw.Write(frame(4, []byte("x"))[:20])
	expect("the peer stopped sending mid-message")
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("gave up after %v, before the stall", d)
	}
}

// TestReadStallInBody: the same with the pre-header whole and the body
// cut short.
func TestReadStallInBody(t *testing.T) {
	raw, c := rawPipe(t, WithReadStall(100*time.Millisecond))
	f := frame(1, make([]byte, 1000))
	raw.Write(f[:PreHeaderSize+1+500])
	errs := make(chan error, 1)
	go func() {
		_, err := c.Receive()
		errs <- err
	}()
	select {
	case err := <-errs:
		if err == nil || !strings.Contains(err.Error(), "stopped sending mid-message") {
			t.Fatalf("err %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("still waiting for the rest of the body")
	}
}

// TestReceivePause: with WithReceivePause, a connection whose peer does
// not read what it is sent is not read from either, until the peer reads.
func TestReceivePause(t *testing.T) {
	p1, p2 := net.Pipe() // no buffering: a write waits for the reader
	b := NewConn(p1, WithReceivePause(1000))
	a := NewConn(p2)
	defer a.Close()
	defer b.Close()
	for range 3 {
		b.Send(&Message{Type: 1, Header: []byte{1}, Body: make([]byte, 1000)}) // a reads none of them yet
	}
	a.Send(&Message{Type: 2, Header: []byte{2}})
	got := receiveAsync(t, b)
	select {
	case m := <-got:
		t.Fatalf("received %+v while 3 KB for the peer were unread", m)
	case <-time.After(100 * time.Millisecond):
	}
	for range 3 {
		if _, err := a.Receive(); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case m := <-got:
		if m == nil || m.Type != 2 {
			t.Fatalf("received %+v", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Receive still waits once the peer has read everything")
	}
}

// TestHoldLimit: with WithHoldLimit, a connection that holds more than the
// limit for its peer (Hold) is not read from until it gives some up.
func TestHoldLimit(t *testing.T) {
	p1, p2 := net.Pipe()
	b := NewConn(p1, WithHoldLimit(1000))
	a := NewConn(p2)
	defer a.Close()
	defer b.Close()
	go func() {
		for i := range 3 {
			a.Send(&Message{Type: uint64(i + 1), Header: []byte{1}})
		}
	}()
	for range 2 {
		if _, err := b.Receive(); err != nil {
			t.Fatal(err)
		}
		b.Hold(600)
	}
	got := receiveAsync(t, b)
	select {
	case m := <-got:
		t.Fatalf("received %+v while holding %d bytes", m, b.Held())
	case <-time.After(100 * time.Millisecond):
	}
	b.Unhold(600)
	select {
	case m := <-got:
		if m == nil || m.Type != 3 || b.Held() != 600 {
			t.Fatalf("received %+v, holding %d", m, b.Held())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Receive still waits once the hold is under the limit")
	}
}

// receiveAsync receives c's next message in a goroutine of its own: the
// channel gets it, or nil after an error (reported).
func receiveAsync(t *testing.T, c *Conn) <-chan *Message {
	got := make(chan *Message, 1)
	go func() {
		m, err := c.Receive()
		if err != nil {
			t.Error(err)
		}
		got <- m
	}()
	return got
}
