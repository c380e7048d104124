package clock

import (
	"sync/atomic"
	"time"
)

// precise is the horizon below which an Alarm sleeps with nanosleep(2)
// rather than a Go timer.
const precise = 3 * time.Millisecond

// Alarm wakes the goroutine that owns it at a time on the process clock.
// Go's timers round waits up to whole milliseconds on Linux
// (golang/go#53824); a simulated GPU woken that late would sit idle for most
// of a millisecond after every operation, and the scheduler would send work
// late. So waits shorter than a few milliseconds are slept with nanosleep(2)
// on a thread of their own, which wakes within tens of microseconds.
//
// C may also receive when no wake time is due (a superseded wake); owners
// simply re-check what is due. Set must be called by one goroutine.
type Alarm struct {
	C       <-chan struct{}
	c       chan struct{}
	timer   *time.Timer
	sleeper atomic.Int64 // wake time of the running precise sleeper, 0 if none
}

// NewAlarm returns an alarm that is not set.
func NewAlarm() *Alarm {
	a := &Alarm{c: make(chan struct{}, 1)}
	a.C = a.c
	a.timer = time.AfterFunc(time.Hour, a.ring)
	a.timer.Stop()
	return a
}

func (a *Alarm) ring() {
	select {
	case a.c <- struct{}{}:
	default:
	}
}

// Set makes C receive at wake (0: not at all). It replaces the previous wake.
func (a *Alarm) Set(wake int64) {
	if wake == 0 {
		a.timer.Stop()
		return
	}
	d := time.Duration(wake - Now())
	if d <= 0 {
		a.timer.Stop()
		a.ring()
		return
	}
	if d >= precise {
		a.timer.Reset(d)
		return
	}
	a.timer.Stop()
	if cur := a.sleeper.Load(); cur != 0 && cur <= wake {
		return // a sleeper already wakes us in time
	}
	a.sleeper.Store(wake)
	go func() {
		sleepUntil(wake)
		a.sleeper.CompareAndSwap(wake, 0)
		a.ring()
	}()
}

// Stop disarms the alarm.
func (a *Alarm) Stop() { a.timer.Stop() }
