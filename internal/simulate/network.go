package simulate

import (
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Network is the model of the links between the controller and each
// worker (one each way) and between clients and the controller. Clocks are
// aligned: no skew, so action windows and reported times need no
// conversion.
type Network struct {
	// WorkerLatency is the one-way delay between the controller and a
	// worker, added after a message's transmission ends (default 50 µs).
	WorkerLatency int64
	// Bandwidth of each controller↔worker link in bytes per second
	// (default 1.25e9, i.e. 10 Gbit/s). Messages on a link are transmitted
	// one after another; their length is their exact wire encoding.
	Bandwidth float64
	// ClientLatency is the one-way delay between a client and the
	// controller (default 50 µs). Client links have no bandwidth limit.
	ClientLatency int64
}

func (n Network) withDefaults() Network {
	if n.WorkerLatency == 0 {
		n.WorkerLatency = 50_000
	}
	if n.Bandwidth == 0 {
		n.Bandwidth = 1.25e9
	}
	if n.ClientLatency == 0 {
		n.ClientLatency = 50_000
	}
	return n
}

// link is one direction of a controller↔worker connection.
type link struct {
	latency   int64
	nsPerByte float64
	free      int64 // when the current transmission ends
}

func newLink(n Network) *link {
	return &link{latency: n.WorkerLatency, nsPerByte: 1e9 / n.Bandwidth}
}

// send transmits a message of size bytes handed to the link at now. It
// returns when the transmission ends (the sender's write completes) and
// when the message arrives.
func (l *link) send(now int64, size int) (sent, arrives int64) {
	start := max(now, l.free)
	l.free = start + int64(float64(size)*l.nsPerByte)
	return l.free, l.free + l.latency
}

// messageSize is the length of msg on the wire: pre-header, header, body.
func messageSize(msg *wire.Message) int {
	return wire.PreHeaderSize + len(msg.Header) + msg.BodyLen()
}

// actionSize and resultSize are the encoded lengths of an action and a
// result (0 for a message that cannot be encoded, which then costs no
// transmission time).
func actionSize(a workerapi.Action) int {
	msg, err := workerapi.EncodeAction(a)
	if err != nil {
		return 0
	}
	return messageSize(msg)
}

func resultSize(r workerapi.Result) int {
	msg, err := workerapi.EncodeResult(r)
	if err != nil {
		return 0
	}
	return messageSize(msg)
}
