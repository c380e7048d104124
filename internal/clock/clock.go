// Package clock provides Clockwork's notion of time: int64 nanoseconds on a
// monotonic clock re-based to the Unix epoch when the process starts, so that
// timestamps read like wall-clock time but never jump.
//
// Decision cores (the scheduler, the worker executors) never read a clock:
// they are handed "now" by their drivers. Drivers take a Clock so that tests
// can substitute a Fake.
package clock

import (
	"sync"
	"time"
)

// Clock tells the current time in nanoseconds.
type Clock interface {
	Now() int64
}

var (
	base     = time.Now()
	baseUnix = base.UnixNano()
)

// Now returns the process clock: monotonic, re-based to Unix epoch nanoseconds.
func Now() int64 { return baseUnix + int64(time.Since(base)) }

// Real is the process clock as a Clock.
type Real struct{}

// Now implements Clock.
func (Real) Now() int64 { return Now() }

// Fake is a manually advanced clock for tests. The zero value reads 0.
type Fake struct {
	mu sync.Mutex
	t  int64
}

// NewFake returns a Fake reading t.
func NewFake(t int64) *Fake { return &Fake{t: t} }

// Now implements Clock.
func (f *Fake) Now() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

// Set moves the clock to t.
func (f *Fake) Set(t int64) {
	f.mu.Lock()
	f.t = t
	f.mu.Unlock()
}

// Advance moves the clock forward by d nanoseconds and returns the new time.
func (f *Fake) Advance(d int64) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t += d
	return f.t
}
