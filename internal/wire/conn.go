package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clockwork-go/clockwork/internal/clock"
)

// ErrClosed is returned by Send on a closed connection.
var ErrClosed = errors.New("wire: connection closed")

// Stats are a connection's cumulative traffic counters. As in the original,
// bytes count the body plus the 48-byte pre-header (headers are not counted).
type Stats struct {
	MsgsSent, BytesSent, MsgsRecv, BytesRecv uint64
}

// Conn is a framed, full-duplex connection. One goroutine may call Receive;
// any goroutine may call Send, which queues the message for a dedicated
// writer so that messages are written whole and in order (or, with
// WithDirectWrites, writes it itself when nothing is queued).
type Conn struct {
	nc      net.Conn
	r       *bufio.Reader
	now     func() int64
	maxBody uint64
	alloc   Allocator           // what bodies are read into (WithBodyPool, WithBodyAllocator)
	direct  int                 // Send writes messages up to this long itself (WithDirectWrites)
	spin    time.Duration       // Receive polls this long before parking (WithSpinReads)
	sockBuf int                 // kernel buffer sizes asked for (WithSocketBuffers)
	lowat   bool                // wait for large bodies whole (WithLowWaterReads)
	lr      *lowatReader        // the socket's reader under r, with lowat
	rpre    [PreHeaderSize]byte // Receive's pre-header
	rstall  time.Duration       // WithReadStall
	armed   bool                // Receive set a read deadline
	// unsent counts the messages handed to the writer and not yet
	// written (queued, or in the batch it is writing), in bytes plus
	// msgOverhead each: WithSendLimit bounds it, with WithReceivePause
	// Receive waits while it is over pauseAt, and the writer signals
	// space as it drops.
	unsent  atomic.Int64
	pauseAt int64
	space   chan struct{}
	// held counts what the receiver holds for the peer (Hold): with
	// WithHoldLimit Receive also waits while it is over holdAt.
	held   atomic.Int64
	holdAt int64

	mu        sync.Mutex // guards skew, queue, writing, closed
	skew      Skew
	queue     []*Message
	sendLimit int           // most bytes queue may hold (WithSendLimit); 0: no limit
	stall     time.Duration // WithWriteStall
	writing   bool          // a goroutine (the writer or a direct Send) is writing
	pre       [PreHeaderSize]byte
	// out is the frame being written, laid out in the backing of frames
	// (both the writing goroutine's); frames keeps its capacity.
	out, frames net.Buffers
	wake        chan struct{}
	closed      bool
	err         error
	done        chan struct{}

	msgsSent, bytesSent, msgsRecv, bytesRecv atomic.Uint64
}

// Option configures a Conn.
type Option func(*Conn)

// WithMaxBody sets the largest body accepted by Receive.
func WithMaxBody(n uint64) Option { return func(c *Conn) { c.maxBody = n } }

// WithBodyPool makes Receive read bodies into buffers of the wire's pools
// (buffers.go), for a receiver that gives each body back with
// Message.Release once done with it, as the worker does with every
// action's: it saves the allocation, the zeroing and the garbage
// collections of large bodies. A receiver that keeps its bodies should not
// use it (pooled buffers are rounded up to a size class).
func WithBodyPool() Option { return WithBodyAllocator(Pools) }

// WithBodyAllocator makes Receive read bodies of up to maxPooled bytes
// into buffers from a, and Message.Release give them back to it: as
// WithBodyPool, with memory of the receiver's choice (the worker reads
// Infer inputs into the GPU runtime's pinned memory, which the GPU copies
// from without staging).
func WithBodyAllocator(a Allocator) Option { return func(c *Conn) { c.alloc = a } }

// WithDirectWrites makes Send write a message of at most maxLen bytes
// (header and body) itself, in the caller's goroutine, when no other is
// queued or being written, rather than hand it to the writer: the hand-off
// wakes a goroutine, which costs tens of microseconds, and more at the
// tail, on a machine whose idle processors sleep. The caller waits for
// the socket to take the message, at most directWait (1 ms): what a peer
// that does not read leaves untaken, the writer finishes. The worker sends
// its results so.
func WithDirectWrites(maxLen int) Option { return func(c *Conn) { c.direct = maxLen } }

// WithSendLimit bounds what Send hands the writer for a peer that does not
// read: a message that would take what is not yet written (queued, or in
// the writer's hands) past n bytes, counting msgOverhead a message, closes
// the connection instead (its Sent gets the error, and so do those
// queued). Servers set it for their peers' connections; by default there
// is no bound.
func WithSendLimit(n int) Option { return func(c *Conn) { c.sendLimit = n } }

// WithReceivePause makes Receive wait, before it reads the next message,
// until what is queued for the peer is at most n bytes: a peer that sends
// requests and does not read the answers is not read from either, and so
// cannot make the connection hold more than about n bytes of answers (the
// write stall then closes it). Without it, a client flooding LS requests
// and reading nothing had the controller queue 829 MB of small answers and
// spend its time on that client's requests. Each message counts
// msgOverhead bytes more than its length, for what holding it costs.
func WithReceivePause(n int) Option { return func(c *Conn) { c.pauseAt = int64(n) } }

// WithHoldLimit makes Receive wait, before it reads the next message,
// until what the receiver holds for the peer (Hold, Unhold) is at most n
// bytes: a server that keeps a peer's requests until it answers them
// bounds what one peer can make it keep.
func WithHoldLimit(n int) Option { return func(c *Conn) { c.holdAt = int64(n) } }

// Hold counts n bytes more as held for the peer (WithHoldLimit).
func (c *Conn) Hold(n int64) { c.held.Add(n) }

// Unhold counts n bytes held by Hold as given up, and tells a Receive
// waiting for them.
func (c *Conn) Unhold(n int64) {
	if left := c.held.Add(-n); c.holdAt > 0 && left <= c.holdAt {
		c.signalSpace()
	}
}

// signalSpace wakes a Receive waiting for space (waitForSpace), if any.
func (c *Conn) signalSpace() {
	select {
	case c.space <- struct{}{}:
	default:
	}
}

// Held is what Hold counts now.
func (c *Conn) Held() int64 { return c.held.Load() }

// msgOverhead is what a queued message costs beyond its bytes (the
// Message, its queue slot and its frame), counted against WithSendLimit
// and WithReceivePause, so that many small messages count what they hold.
const msgOverhead = 128

// cost is what m counts against WithSendLimit and WithReceivePause.
func cost(m *Message) int64 { return int64(len(m.Header) + m.BodyLen() + msgOverhead) }

// WithWriteStall sets how long the peer may take to take a message
// before the connection is closed: d plus writeStallPerMiB for each MiB
// of its body (default DefaultWriteStall), so that a peer that stopped
// reading fails what was sent to it rather than holding it for ever.
func WithWriteStall(d time.Duration) Option { return func(c *Conn) { c.stall = d } }

// WithReadStall sets how long a message, once its first byte has come,
// may take to arrive whole before Receive gives up on the connection: d
// plus stallPerMiB for each MiB of its body (default DefaultReadStall),
// so that a peer that stops mid-message, or sends a large one a byte at
// a time, does not hold the connection and its buffers for ever. Waiting
// for a message to begin has no limit: clients may be idle.
func WithReadStall(d time.Duration) Option { return func(c *Conn) { c.rstall = d } }

// DefaultWriteStall and DefaultReadStall are WithWriteStall's and
// WithReadStall's defaults; stallPerMiB is added for each MiB of a
// message's body.
const (
	DefaultWriteStall = 30 * time.Second
	DefaultReadStall  = 30 * time.Second
	stallPerMiB       = time.Second
)

// WithClock sets the clock used for the pre-header timestamps.
func WithClock(now func() int64) Option { return func(c *Conn) { c.now = now } }

// NewConn wraps nc and starts its writer. TCP connections get TCP_NODELAY,
// buffers of CLOCKWORK_SOCKET_BUFFER bytes if it is set and low-water
// reads if CLOCKWORK_LOWAT_READS is on (unless WithSocketBuffers and
// WithLowWaterReads say otherwise).
func NewConn(nc net.Conn, opts ...Option) *Conn {
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	c := &Conn{
		nc:      nc,
		r:       bufio.NewReaderSize(nc, 64<<10),
		now:     clock.Now,
		maxBody: DefaultMaxBodySize,
		sockBuf: socketBufferDefault(),
		lowat:   lowWaterDefault(),
		stall:   DefaultWriteStall,
		rstall:  DefaultReadStall,
		wake:    make(chan struct{}, 1),
		space:   make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	for _, o := range opts {
		o(c)
	}
	applySocketBuffers(nc, c.sockBuf)
	if c.spin > 0 {
		c.r = bufio.NewReaderSize(newSpinReader(nc, c.spin), 64<<10)
	} else if c.lowat {
		if c.lr = newLowatReader(nc); c.lr != nil {
			c.r = bufio.NewReaderSize(c.lr, 64<<10)
		}
	}
	go c.writeLoop()
	return c
}

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Receive reads the next message. It also updates the clock-skew estimate
// from the message's pre-header. Any error leaves the stream unusable: the
// caller should Close the connection. With WithBodyPool or
// WithBodyAllocator, the caller gives the message's body back with
// Message.Release once done with it.
func (c *Conn) Receive() (*Message, error) {
	if c.pauseAt > 0 || c.holdAt > 0 {
		if err := c.waitForSpace(); err != nil {
			return nil, err
		}
	}
	// Wait for a message to begin without a limit; once it has, the rest
	// must come within the read stall.
	if _, err := c.r.Peek(1); err != nil {
		return nil, err
	}
	c.armed = false
	if c.r.Buffered() < PreHeaderSize {
		c.armStall(0)
	}
	m, err := c.receive()
	if c.armed {
		_ = c.nc.SetReadDeadline(time.Time{})
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("wire: the peer stopped sending mid-message: %w", err)
	}
	return m, err
}

// armStall sets the read deadline for the rest of a message whose body is
// body bytes.
func (c *Conn) armStall(body uint64) {
	if c.rstall > 0 {
		_ = c.nc.SetReadDeadline(time.Now().Add(c.rstall + time.Duration(body>>20)*stallPerMiB))
		c.armed = true
	}
}

func (c *Conn) receive() (*Message, error) {
	if _, err := io.ReadFull(c.r, c.rpre[:]); err != nil {
		return nil, err
	}
	rx := c.now()
	ph, err := DecodePreHeader(c.rpre[:], c.maxBody)
	if err != nil {
		return nil, err
	}
	if uint64(c.r.Buffered()) < ph.HeaderLen+ph.BodyLen {
		c.armStall(ph.BodyLen) // (again, for its size)
	}
	m := &Message{Type: ph.Type, ID: ph.ID}
	if ph.HeaderLen <= uint64(len(m.hdr)) {
		m.Header = m.hdr[:ph.HeaderLen]
		_, err = io.ReadFull(c.r, m.Header)
	} else {
		m.Header, err = readPart(c.r, ph.HeaderLen)
	}
	if err != nil {
		return nil, fmt.Errorf("wire: reading header: %w", err)
	}
	c.mu.Lock()
	c.skew.Observe(rx, ph.SendTime, ph.Delta)
	c.mu.Unlock()
	if ph.BodyLen > 0 {
		if c.lr != nil {
			c.lr.expect(int(ph.BodyLen) - c.r.Buffered())
			defer c.lr.expect(0)
		}
		if m.Body, m.alloc, err = readBody(c.r, ph.Type, ph.BodyLen, c.alloc); err != nil {
			return nil, fmt.Errorf("wire: reading body: %w", err)
		}
	}
	c.msgsRecv.Add(1)
	c.bytesRecv.Add(ph.BodyLen + PreHeaderSize)
	return m, nil
}

// A length field alone makes a reader allocate nothing: a header or body
// is allocated once its first firstChunk bytes (or all of it, if smaller)
// have arrived, and then at most maxUpFront bytes of it, growing as more
// arrives. Without this, 48 bytes of pre-header claiming a 10 MiB header,
// held open, cost 10 MiB until the read stall closed the connection (500
// of them took a controller to 5.3 GB). Now a message being received costs
// at most 64 times what its peer has sent of it (twice beyond 4 MiB), or
// 512 times for a body read in place into a pooled buffer (up to 32 MiB,
// a worker's inputs), for as long as the read stall allows.
const (
	firstChunk = 64 << 10
	maxUpFront = 4 << 20
)

// readBody reads the n-byte body of a message of type typ. If a is set
// and n is at most maxPooled, the buffer comes from a (which is returned:
// the buffer goes back to it), whole, once the body's first bytes are here
// (the body is read into it in place); otherwise readPart reads it.
func readBody(r *bufio.Reader, typ, n uint64, a Allocator) ([]byte, Allocator, error) {
	if a != nil && n <= maxPooled {
		if err := arrived(r, n); err != nil {
			return nil, nil, err
		}
		b := a.Alloc(typ, int(n))
		if _, err := io.ReadFull(r, b); err != nil {
			a.Free(b)
			return nil, nil, err
		}
		return b, a, nil
	}
	b, err := readPart(r, n)
	return b, nil, err
}

// arrived waits until the first firstChunk bytes of an n-byte part, or
// all of it if smaller, are in r's buffer.
func arrived(r *bufio.Reader, n uint64) error {
	_, err := r.Peek(int(min(n, firstChunk, uint64(r.Size()))))
	return err
}

// readPart reads an n-byte header or body: allocated once its first bytes
// are here, up to maxUpFront bytes at first, doubling as the rest
// arrives.
func readPart(r *bufio.Reader, n uint64) ([]byte, error) {
	if err := arrived(r, n); err != nil {
		return nil, err
	}
	b := make([]byte, min(n, maxUpFront))
	got := 0
	for {
		k, err := io.ReadFull(r, b[got:])
		got += k
		if err != nil {
			return nil, err
		}
		if uint64(got) == n {
			return b, nil
		}
		next := int(min(n, 2*uint64(len(b))))
		b = slices.Grow(b, next-len(b))[:next]
	}
}

// Send queues m for writing. It never blocks on the network.
func (c *Conn) Send(m *Message) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		if m.Sent != nil {
			m.Sent(ErrClosed)
		}
		return ErrClosed
	}
	if c.direct > 0 && !c.writing && len(c.queue) == 0 && len(m.Header)+m.BodyLen() <= c.direct {
		c.writing = true
		c.mu.Unlock()
		c.sendDirect(m)
		return nil
	}
	size := cost(m)
	if unsent := c.unsent.Load(); c.sendLimit > 0 && unsent+size > int64(c.sendLimit) {
		err := fmt.Errorf("wire: the peer does not read: %d bytes unsent (counting %d a message), %d more would pass the limit of %d",
			unsent, msgOverhead, size, c.sendLimit)
		c.mu.Unlock()
		if m.Sent != nil {
			m.Sent(err)
		}
		c.fail(err)
		return err
	}
	c.queue = append(c.queue, m)
	c.unsent.Add(size)
	c.mu.Unlock()
	c.wakeWriter()
	return nil
}

// written takes a message the writer wrote (or failed to) off unsent, and
// tells a Receive waiting for space.
func (c *Conn) written(m *Message) {
	if m.cont {
		return // the end of a direct Send's message, never counted
	}
	if left := c.unsent.Add(-cost(m)); c.pauseAt > 0 && left <= c.pauseAt {
		c.signalSpace()
	}
}

// waitForSpace waits until what is queued for the peer is at most
// pauseAt (WithReceivePause) and what is held for it at most holdAt
// (WithHoldLimit), or the connection closes.
func (c *Conn) waitForSpace() error {
	for c.pauseAt > 0 && c.unsent.Load() > c.pauseAt || c.holdAt > 0 && c.held.Load() > c.holdAt {
		select {
		case <-c.space:
		case <-c.done:
			return ErrClosed
		}
	}
	return nil
}

// directWait is how long a direct Send waits for the socket to take its
// message; the writer finishes what it did not take.
const directWait = time.Millisecond

// sendDirect writes m in the caller's goroutine (c.writing is set). If the
// socket does not take all of it within directWait (a peer that does not
// read), the rest goes to the writer ahead of anything queued since, so
// that a slow peer never holds the caller up for longer.
func (c *Conn) sendDirect(m *Message) {
	bufs := c.frame(m, c.pre[:])
	parts := len(*bufs)
	_ = c.nc.SetWriteDeadline(time.Now().Add(directWait))
	_, err := bufs.WriteTo(c.nc) // consumes bufs as it writes
	_ = c.nc.SetWriteDeadline(time.Time{})
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		rest := &Message{Sent: m.Sent, cont: true, rest: slices.Clone(*bufs), restBody: m.BodyLen()}
		if len(rest.rest) == parts {
			rest.rest[0] = bytes.Clone(rest.rest[0]) // the pre-header, in c.pre
		}
		clear(*bufs)
		c.mu.Lock()
		c.queue = slices.Insert(c.queue, 0, rest)
		c.writing = false
		c.mu.Unlock()
		c.wakeWriter()
		return
	}
	if err == nil {
		c.sent(m.BodyLen())
	}
	clear(*bufs) // what a failed write left
	c.mu.Lock()
	c.writing = false
	wake := len(c.queue) > 0 || c.closed // the writer waits for this write to close
	c.mu.Unlock()
	if wake {
		c.wakeWriter()
	}
	if m.Sent != nil {
		m.Sent(err)
	}
	if err != nil {
		c.fail(err)
	}
}

func (c *Conn) wakeWriter() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *Conn) writeLoop() {
	var batch []*Message
	var pre [PreHeaderSize]byte
	for {
		c.mu.Lock()
		// Wait for messages and for no direct Send to be writing (also
		// before closing: Done means every Sent callback has run).
		for c.writing || len(c.queue) == 0 && !c.closed {
			c.mu.Unlock()
			<-c.wake
			c.mu.Lock()
		}
		if c.closed {
			batch = append(batch[:0], c.queue...)
			c.queue = nil
			c.mu.Unlock()
			for _, m := range batch {
				if m.Sent != nil {
					m.Sent(ErrClosed)
				}
			}
			close(c.done)
			return
		}
		batch, c.queue = c.queue, batch[:0]
		c.writing = true
		c.mu.Unlock()
		for i, m := range batch {
			err := c.write(m, pre[:])
			c.written(m)
			if m.Sent != nil {
				m.Sent(err)
			}
			if err != nil {
				c.fail(err)
				for _, rest := range batch[i+1:] {
					if rest.Sent != nil {
						rest.Sent(ErrClosed)
					}
				}
				break
			}
		}
		clear(batch)
		c.mu.Lock()
		c.writing = false
		c.mu.Unlock()
	}
}

func (c *Conn) write(m *Message, pre []byte) error {
	bufs, body := &m.rest, m.restBody
	if !m.cont {
		bufs, body = c.frame(m, pre), m.BodyLen()
	}
	stall := c.stall + time.Duration(body>>20)*stallPerMiB
	_ = c.nc.SetWriteDeadline(time.Now().Add(stall))
	_, err := bufs.WriteTo(c.nc)
	_ = c.nc.SetWriteDeadline(time.Time{})
	clear(*bufs) // what a failed write left
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("wire: the peer took no message of %d bytes in %v: %w", body, stall, err)
	}
	if err != nil {
		return err
	}
	c.sent(body)
	return nil
}

// frame lays out m for writing after a new pre-header, encoded into pre,
// in c.out: the caller must be the writing goroutine (c.writing set), and
// done with the frame before it lets go of that.
func (c *Conn) frame(m *Message, pre []byte) *net.Buffers {
	body := m.BodyLen()
	c.mu.Lock()
	delta := c.skew.LocalDelta()
	c.mu.Unlock()
	ph := PreHeader{
		HeaderLen: uint64(len(m.Header)),
		BodyLen:   uint64(body),
		Type:      m.Type,
		ID:        m.ID,
		SendTime:  uint64(c.now()),
		Delta:     delta,
	}
	ph.Encode(pre)
	bufs := append(c.frames[:0], pre, m.Header)
	if len(m.Body) > 0 {
		bufs = append(bufs, m.Body)
	}
	for _, p := range m.BodyParts {
		if len(p) > 0 {
			bufs = append(bufs, p)
		}
	}
	c.frames, c.out = bufs[:0], bufs
	return &c.out
}

// sent counts a message written whole.
func (c *Conn) sent(body int) {
	c.msgsSent.Add(1)
	c.bytesSent.Add(uint64(body) + PreHeaderSize)
}

func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.Close()
}

// Close closes the connection; queued messages are dropped (their Sent
// callbacks get ErrClosed). It is safe to call more than once.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return c.nc.Close()
}

// Done is closed once the connection is closed and its writer has stopped.
func (c *Conn) Done() <-chan struct{} { return c.done }

// ClockDelta estimates this side's clock minus the peer's clock.
func (c *Conn) ClockDelta() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.skew.ClockDelta()
}

// RTT estimates the round-trip time to the peer.
func (c *Conn) RTT() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.skew.RTT()
}

// Stats returns the traffic counters.
func (c *Conn) Stats() Stats {
	return Stats{
		MsgsSent:  c.msgsSent.Load(),
		BytesSent: c.bytesSent.Load(),
		MsgsRecv:  c.msgsRecv.Load(),
		BytesRecv: c.bytesRecv.Load(),
	}
}

// ListenAddr renders a listener's address as the original's start-up lines
// do: 0.0.0.0:<port> for the wildcard address.
func ListenAddr(l net.Listener) string {
	if a, ok := l.Addr().(*net.TCPAddr); ok && a.IP.IsUnspecified() {
		return fmt.Sprintf("0.0.0.0:%d", a.Port)
	}
	return l.Addr().String()
}
