// Package wire implements Clockwork's message framing, shared by the client
// protocol (client ↔ controller) and the worker protocol (controller ↔
// worker), and the per-connection clock-skew estimate that lets a worker
// interpret the controller's action windows in its own clock.
//
// Every message is a 48-byte pre-header of six little-endian uint64s
//
//	[0] header length  [1] body length  [2] message type  [3] message id
//	[4] sender's clock when it began writing this message
//	[5] sender's current minimum receive delta (MaxInt64 until known)
//
// followed by a protobuf header and a raw body. Decoding never panics: a
// frame that is too large or unreadable is an error, and the caller closes
// that connection.
package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
)

// PreHeaderSize is the size of the fixed pre-header.
const PreHeaderSize = 48

// MaxHeaderSize is the largest protobuf header accepted (the original's limit).
const MaxHeaderSize = 10 << 20

// DefaultMaxBodySize is the largest body accepted unless a Conn is configured
// otherwise: far above a batch of 16 ImageNet inputs, far below what a
// corrupt length field could ask for.
const DefaultMaxBodySize = 256 << 20

// PreHeader is the decoded fixed part of a frame.
type PreHeader struct {
	HeaderLen uint64
	BodyLen   uint64
	Type      uint64
	ID        uint64
	SendTime  uint64
	Delta     int64
}

// Encode writes p into b, which must hold PreHeaderSize bytes.
func (p *PreHeader) Encode(b []byte) {
	_ = b[PreHeaderSize-1]
	binary.LittleEndian.PutUint64(b[0:], p.HeaderLen)
	binary.LittleEndian.PutUint64(b[8:], p.BodyLen)
	binary.LittleEndian.PutUint64(b[16:], p.Type)
	binary.LittleEndian.PutUint64(b[24:], p.ID)
	binary.LittleEndian.PutUint64(b[32:], p.SendTime)
	binary.LittleEndian.PutUint64(b[40:], uint64(p.Delta))
}

// ErrFrameTooLarge reports a header or body length over the limit.
var ErrFrameTooLarge = errors.New("wire: frame too large")

// DecodePreHeader parses b (at least PreHeaderSize bytes) and checks the
// lengths against the limits.
func DecodePreHeader(b []byte, maxBody uint64) (PreHeader, error) {
	if len(b) < PreHeaderSize {
		return PreHeader{}, fmt.Errorf("wire: short pre-header (%d bytes)", len(b))
	}
	p := PreHeader{
		HeaderLen: binary.LittleEndian.Uint64(b[0:]),
		BodyLen:   binary.LittleEndian.Uint64(b[8:]),
		Type:      binary.LittleEndian.Uint64(b[16:]),
		ID:        binary.LittleEndian.Uint64(b[24:]),
		SendTime:  binary.LittleEndian.Uint64(b[32:]),
		Delta:     int64(binary.LittleEndian.Uint64(b[40:])),
	}
	if p.HeaderLen > MaxHeaderSize {
		return p, fmt.Errorf("%w: header of %d bytes (limit %d)", ErrFrameTooLarge, p.HeaderLen, MaxHeaderSize)
	}
	if p.BodyLen > maxBody {
		return p, fmt.Errorf("%w: body of %d bytes (limit %d)", ErrFrameTooLarge, p.BodyLen, maxBody)
	}
	return p, nil
}

// Message is one framed message. On receive Body holds the whole body; on
// send BodyParts, if any, are written after Body without copying.
type Message struct {
	Type      uint64
	ID        uint64
	Header    []byte
	Body      []byte
	BodyParts [][]byte

	// Sent, if set, is called by the connection's writer once the message
	// has been written completely (err nil) or could not be (err non-nil).
	Sent func(err error)

	alloc Allocator // what a received Body goes back to (nil: the garbage collector)
	// hdr holds a small Header, received or marshalled (HeaderBuffer): one
	// allocation a message instead of two.
	hdr [smallHeader]byte

	// cont marks the unwritten end, rest, of a message a direct Send began
	// (WithDirectWrites), for the writer to finish; restBody is that
	// message's body length.
	cont     bool
	rest     net.Buffers
	restBody int
}

// smallHeader is the largest header kept inside its Message: an Infer's
// or an InferResult's is well within it.
const smallHeader = 128

// HeaderBuffer returns an empty slice with room for a small header inside
// m, to marshal m's Header into (appending more than its capacity
// allocates as usual).
func (m *Message) HeaderBuffer() []byte { return m.hdr[:0] }

// Release gives the body of a message received on a connection with
// WithBodyPool or WithBodyAllocator back where it came from, and clears
// m.Body: nothing may use the body afterwards, including slices of it
// taken before. On other messages it only clears m.Body; more than once
// is harmless.
func (m *Message) Release() {
	if m.alloc != nil {
		m.alloc.Free(m.Body)
		m.alloc = nil
	}
	m.Body = nil
}

// BodyLen is the total body length of m as it will be written.
func (m *Message) BodyLen() int {
	n := len(m.Body)
	for _, p := range m.BodyParts {
		n += len(p)
	}
	return n
}
