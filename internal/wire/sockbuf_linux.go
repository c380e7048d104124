package wire

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

func setSocketBuffers(tc *net.TCPConn, n int) error {
	raw := rawConn(tc)
	if raw == nil {
		return errors.New("no descriptor")
	}
	var errs []string
	cerr := raw.Control(func(fd uintptr) {
		for _, o := range []struct {
			force, plain int
			limit        string
		}{
			{syscall.SO_SNDBUFFORCE, syscall.SO_SNDBUF, "wmem_max"},
			{syscall.SO_RCVBUFFORCE, syscall.SO_RCVBUF, "rmem_max"},
		} {
			if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, o.force, n) == nil {
				continue
			}
			limit, err := sysctlInt("/proc/sys/net/core/" + o.limit)
			switch {
			case err != nil:
				errs = append(errs, err.Error())
			case limit < n:
				errs = append(errs, fmt.Sprintf("net.core.%s is %d, without CAP_NET_ADMIN to exceed it", o.limit, limit))
			default:
				if err := syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, o.plain, n); err != nil {
					errs = append(errs, err.Error())
				}
			}
		}
	})
	if cerr != nil {
		return cerr
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

func socketBuffers(tc *net.TCPConn) (snd, rcv int, err error) {
	raw := rawConn(tc)
	if raw == nil {
		return 0, 0, errors.New("no descriptor")
	}
	var e1, e2 error
	if err := raw.Control(func(fd uintptr) {
		snd, e1 = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
		rcv, e2 = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	}); err != nil {
		return 0, 0, err
	}
	if e1 != nil {
		return 0, 0, e1
	}
	return snd, rcv, e2
}

func sysctlInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}
