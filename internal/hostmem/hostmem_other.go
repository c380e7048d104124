//go:build !linux

package hostmem

// Limit is the memory this process may use in bytes, or 0 if unknown:
// not looked up outside Linux (the bounds derived from it then take
// their defaults).
func Limit() uint64 { return 0 }
