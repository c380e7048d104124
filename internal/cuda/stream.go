//go:build linux && cgo

package cuda

/*
#include "driver.h"

#cgo noescape cw_cuStreamCreateWithPriority
#cgo nocallback cw_cuStreamCreateWithPriority
#cgo noescape cw_cuEventCreate
#cgo nocallback cw_cuEventCreate
#cgo noescape cw_cuEventElapsedTime
#cgo nocallback cw_cuEventElapsedTime
*/
import "C"

import "unsafe"

// Stream is a CUDA stream (CUstream). The zero Stream is the legacy
// default stream, which synchronises with every other blocking stream.
type Stream struct{ p unsafe.Pointer }

// StreamFlags are stream creation flags.
type StreamFlags uint32

// Stream flags.
const (
	StreamDefault     StreamFlags = 0
	StreamNonBlocking StreamFlags = 1 // no implicit synchronisation with the default stream
)

// NewStream creates a stream in the current context. Lower priority
// numbers run first (see StreamPriorityRange).
func NewStream(flags StreamFlags, priority int) (Stream, error) {
	var s unsafe.Pointer
	err := drvCheck("cuStreamCreateWithPriority", C.cw_cuStreamCreateWithPriority(&s, C.uint(flags), C.int(priority)))
	return Stream{s}, err
}

// Destroy releases the stream once its work completes.
func (s Stream) Destroy() error { return drvCheck("cuStreamDestroy", C.cw_cuStreamDestroy(s.p)) }

// Synchronize blocks until the stream's work completes.
func (s Stream) Synchronize() error {
	return drvCheck("cuStreamSynchronize", C.cw_cuStreamSynchronize(s.p))
}

// Event is a CUDA event (CUevent).
type Event struct{ p unsafe.Pointer }

// EventFlags are event creation flags.
type EventFlags uint32

// Event flags.
const (
	EventDefault       EventFlags = 0
	EventBlockingSync  EventFlags = 1 // Synchronize sleeps instead of spinning
	EventDisableTiming EventFlags = 2 // cheaper; ElapsedTime is not available
)

// NewEvent creates an event in the current context.
func NewEvent(flags EventFlags) (Event, error) {
	var e unsafe.Pointer
	err := drvCheck("cuEventCreate", C.cw_cuEventCreate(&e, C.uint(flags)))
	return Event{e}, err
}

// Record captures the work queued on s so far; the event completes when
// that work has.
func (e Event) Record(s Stream) error { return drvCheck("cuEventRecord", C.cw_cuEventRecord(e.p, s.p)) }

// Query reports whether the event has completed, without blocking.
func (e Event) Query() (bool, error) {
	switch rc := C.cw_cuEventQuery(e.p); rc {
	case 0:
		return true, nil
	case errNotReady:
		return false, nil
	default:
		return false, drvError("cuEventQuery", rc)
	}
}

// Synchronize blocks until the event completes.
func (e Event) Synchronize() error {
	return drvCheck("cuEventSynchronize", C.cw_cuEventSynchronize(e.p))
}

// Destroy releases the event.
func (e Event) Destroy() error { return drvCheck("cuEventDestroy", C.cw_cuEventDestroy(e.p)) }

// ElapsedTime is the GPU time in milliseconds between two completed events
// (resolution about 0.5 µs).
func ElapsedTime(start, end Event) (float32, error) {
	var ms C.float
	err := drvCheck("cuEventElapsedTime", C.cw_cuEventElapsedTime(&ms, start.p, end.p))
	return float32(ms), err
}
