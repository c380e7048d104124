//go:build !linux

package wire

import (
	"errors"
	"net"
)

func setSocketBuffers(*net.TCPConn, int) error {
	return errors.New("setting socket buffers is implemented on Linux only")
}

func socketBuffers(*net.TCPConn) (int, int, error) {
	return 0, 0, errors.New("reading socket buffers is implemented on Linux only")
}
