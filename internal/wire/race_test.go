//go:build race

package wire

// raceEnabled: under the race detector sync.Pool drops a share of what
// it is given, so pooled buffers are sometimes fresh allocations.
const raceEnabled = true
