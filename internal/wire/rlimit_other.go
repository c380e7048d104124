//go:build !unix

package wire

// openFileLimit is a guess where the platform does not say: Windows
// bounds sockets by memory rather than a descriptor limit.
func openFileLimit() int { return 1 << 16 }
