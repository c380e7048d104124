package wire

import (
	"syscall"
	"unsafe"
)

// lockingPoll says whether a poll takes the socket's lock: not with ppoll.
const lockingPoll = false

// readable reports whether fd has data to read (or an error or hang-up
// that a read reports), asking ppoll without waiting.
func readable(fd uintptr) bool {
	pfd := struct {
		fd              int32
		events, revents int16
	}{fd: int32(fd), events: pollIn}
	var zero syscall.Timespec
	n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&zero)), 0, 0, 0)
	return errno != 0 || n > 0 // on a failed ppoll, let the read say why
}

const pollIn = 0x1 // POLLIN
