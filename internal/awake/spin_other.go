//go:build !linux

package awake

// Spin is not supported here.
func Spin(cpus []int) error { return errUnsupported }
