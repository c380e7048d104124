// Package hostmem tells how much memory this process may use, for the
// bounds the worker derives from it: the CPU runtime's weights cache and
// the inputs the worker holds for queued Infers.
package hostmem
