//go:build !linux

package device

// hostMemory is the machine's physical memory in bytes, or 0 if unknown
// (not looked up outside Linux: the CPU cache is then as configured).
func hostMemory() uint64 { return 0 }
