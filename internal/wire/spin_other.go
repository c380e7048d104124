//go:build !linux

package wire

// lockingPoll says whether a poll takes the socket's lock: it is a read.
const lockingPoll = true

// readable is always true: the poll is the read itself.
func readable(uintptr) bool { return true }
