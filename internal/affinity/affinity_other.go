//go:build !linux

// Package affinity binds OS threads to CPUs (sched_setaffinity(2)) and
// tells which CPUs the process may run on: on Linux only.
package affinity

import "errors"

var errUnsupported = errors.New("CPU affinity is supported on Linux only")

// Pin is not supported here.
func Pin(cpu int) error { return errUnsupported }

// Allowed is not supported here.
func Allowed() ([]int, error) { return nil, errUnsupported }

// PinProcess is not supported here.
func PinProcess(cpus []int) error { return errUnsupported }
