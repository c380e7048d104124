package wire

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"sync"
)

// EnvSocketBuffer names the environment variable that sets the default of
// WithSocketBuffers for every connection of the process: bytes, as an
// integer. Unset, the kernel sizes the buffers (and grows them as it
// sees fit).
const EnvSocketBuffer = "CLOCKWORK_SOCKET_BUFFER"

// WithSocketBuffers asks the kernel for send and receive buffers of n
// bytes on a TCP connection, so that a message of up to about n bytes
// (an Infer's input: 602,112 bytes an ImageNet item, 9.6 MB at batch size
// 16) crosses in one write and few reads instead of in turns of the
// receiver's window, each a wake-up of both processes. n = 0 leaves the
// sizes to the kernel. A process with CAP_NET_ADMIN gets n whatever the
// system's limits (SO_SNDBUFFORCE, SO_RCVBUFFORCE); otherwise n beyond
// net.core.wmem_max or rmem_max is not set at all, since a fixed buffer
// turns off the kernel's own growing of it, which reaches further. What
// could not be set is logged once per process.
func WithSocketBuffers(n int) Option { return func(c *Conn) { c.sockBuf = n } }

// socketBufferDefault is EnvSocketBuffer's value, read once.
var socketBufferDefault = sync.OnceValue(func() int {
	v := os.Getenv(EnvSocketBuffer)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		slog.Warn("ignoring "+EnvSocketBuffer+": not a number of bytes", "value", v)
		return 0
	}
	return n
})

var sockBufWarn sync.Once

// applySocketBuffers sets nc's buffers to n bytes if it is a TCP
// connection, logging (once) what it could not do.
func applySocketBuffers(nc net.Conn, n int) {
	tc, ok := nc.(*net.TCPConn)
	if !ok || n <= 0 {
		return
	}
	if err := setSocketBuffers(tc, n); err != nil {
		sockBufWarn.Do(func() {
			slog.Warn("socket buffers left to the kernel", "want", n, "err", err)
		})
	}
}

// SocketBuffers reports the kernel's send and receive buffer sizes of a
// TCP connection (Linux reports twice what was set: it counts its own
// overhead too).
func SocketBuffers(nc net.Conn) (snd, rcv int, err error) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return 0, 0, fmt.Errorf("wire: %T is not a TCP connection", nc)
	}
	return socketBuffers(tc)
}
