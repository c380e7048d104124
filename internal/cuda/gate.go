//go:build linux && cgo

package cuda

/*
#include "driver.h"

#cgo noescape cw_cuStreamWaitValue32
#cgo nocallback cw_cuStreamWaitValue32
*/
import "C"

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"
)

// A Gate holds back the work queued on a stream until the host opens it:
// a word of pinned host memory that the stream waits on
// (cuStreamWaitValue32) before the work behind it. When the gate opens,
// all of that work has been queued, so the GPU time between two events
// behind the gate is the GPU's alone. Without one, an idle GPU runs a
// start event at once and then waits, inside the timed span, while the
// host submits the rest: a launch that the host's scheduler delays by 50
// µs shows up as 50 µs more of GPU time.
//
// A Gate serves one stream at a time and is not safe for concurrent use.
type Gate struct {
	word *HostMem
	dev  DevicePtr
	seq  uint32 // the value of the last Hold; the word holds it once opened
}

// ErrGateUnsupported says that streams cannot be held on a host word
// here: the driver refused the wait, the wait held nothing back, or work
// behind an opened gate did not run.
var ErrGateUnsupported = errors.New("cuda: streams cannot wait on host memory here")

// gateOpenTimeout bounds NewGate's wait for its check's work to run once
// the gate opens (microseconds on a GPU).
const gateOpenTimeout = time.Second

// NewGate makes a gate for any one stream of the current context and
// checks, on a stream of its own, that it holds work back and lets it go:
// an event recorded behind it must be pending until it opens and complete
// soon after. An error wrapping ErrGateUnsupported means that streams are
// better run without a gate; others are failures to allocate.
func NewGate() (*Gate, error) {
	word, err := MemHostAlloc(4, HostAllocPortable|HostAllocDeviceMap)
	if err != nil {
		return nil, err
	}
	g := &Gate{word: word}
	g.Open() // the word starts at seq
	var dev C.cw_dptr
	if err := drvCheck("cuMemHostGetDevicePointer", C.cw_cuMemHostGetDevicePointer(&dev, word.p, 0)); err != nil {
		word.Free()
		return nil, fmt.Errorf("%w: %v", ErrGateUnsupported, err)
	}
	g.dev = DevicePtr(dev)
	s, err := NewStream(StreamNonBlocking, 0)
	if err != nil {
		word.Free()
		return nil, err
	}
	ev, err := NewEvent(EventDisableTiming)
	if err != nil {
		s.Destroy()
		word.Free()
		return nil, err
	}
	stuck, err := g.check(s, ev)
	ev.Destroy()
	s.Destroy() // returns at once, even with work stuck behind the gate
	if err != nil {
		if !stuck {
			word.Free() // else the stuck stream may still read it
		}
		return nil, err
	}
	return g, nil
}

// check runs NewGate's check on stream s with event ev; stuck says that
// work behind the opened gate did not run.
func (g *Gate) check(s Stream, ev Event) (stuck bool, err error) {
	if err := g.Hold(s); err != nil {
		return false, fmt.Errorf("%w: %v", ErrGateUnsupported, err)
	}
	err = ev.Record(s)
	var done bool
	if err == nil {
		done, err = ev.Query()
	}
	g.Open()
	switch {
	case err != nil:
		return false, err
	case done:
		return false, fmt.Errorf("%w: work queued behind a closed gate ran", ErrGateUnsupported)
	}
	for deadline := time.Now().Add(gateOpenTimeout); ; {
		if done, err := ev.Query(); err != nil || done {
			return false, err
		}
		if time.Now().After(deadline) {
			return true, fmt.Errorf("%w: work behind an opened gate did not run within %v", ErrGateUnsupported, gateOpenTimeout)
		}
		time.Sleep(10 * time.Microsecond)
	}
}

// streamWaitGEQ is CU_STREAM_WAIT_VALUE_GEQ: wait until (int32)(*addr -
// value) >= 0, a comparison that survives the counter's wrapping.
const streamWaitGEQ = 0

// Hold closes the gate in front of the work queued on s from now on,
// until Open.
func (g *Gate) Hold(s Stream) error {
	g.seq++
	return drvCheck("cuStreamWaitValue32", C.cw_cuStreamWaitValue32(s.p, C.cw_dptr(g.dev), C.uint(g.seq), streamWaitGEQ))
}

// Open lets the work held since the last Hold go. It must follow every
// Hold, whether or not the work after it could be queued.
func (g *Gate) Open() {
	atomic.StoreUint32((*uint32)(unsafe.Pointer(g.word.p)), g.seq)
}

// Free releases the gate's memory; nothing may wait on it.
func (g *Gate) Free() error { return g.word.Free() }
