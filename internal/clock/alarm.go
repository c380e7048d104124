package clock

import (
	"sync/atomic"
	"time"
)

// precise is the horizon below which an Alarm sleeps with nanosleep(2)
// rather than a Go timer: a longer wait's timer fires this long before
// its wake time. With 3 ms, the timer now and then fired more than 3 ms
// late (p99 of a 3.3 ms wait 0.23-1.4 ms late, against 0.10-0.14 ms with
// 5 ms, BenchmarkAlarmLateness in turns).
const precise = 5 * time.Millisecond

// Alarm wakes the goroutine that owns it at a time on the process clock.
// Go's timers round waits up to whole milliseconds on Linux
// (golang/go#53824): an alarm 3.3 ms ahead, a simulated ResNet-50 exec,
// rang 0.9-1.0 ms late (BenchmarkAlarmLateness), and a simulated GPU woken
// so late holds every result that long and the scheduler sends work late.
// So the last 5 ms of any wait are slept with nanosleep(2) on a
// goroutine of its own (sleepUntil: a timer slack of 1 ns, and for waits
// of a millisecond or more a spin over the last 100 µs), and a longer wait
// runs a Go timer until that stretch begins. On the 2-core development VM
// the owner then woke 1-4 µs late at p50 for waits of 2 to 10 ms in four
// runs of six (13-120 µs in the others), and 28-126 µs for shorter ones,
// which are not spun.
//
// C may also receive when no wake time is due (a superseded wake); owners
// simply re-check what is due. Set must be called by one goroutine.
type Alarm struct {
	C       <-chan struct{}
	c       chan struct{}
	timer   *time.Timer  // for a long wait, until its last stretch
	target  atomic.Int64 // the wake time the timer leads to
	sleeper atomic.Int64 // wake time of the running precise sleeper, 0 if none
}

// NewAlarm returns an alarm that is not set.
func NewAlarm() *Alarm {
	a := &Alarm{c: make(chan struct{}, 1)}
	a.C = a.c
	a.timer = time.AfterFunc(time.Hour, func() {
		if wake := a.target.Load(); a.claim(wake) {
			a.sleep(wake)
		}
	})
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
	switch {
	case d <= 0:
		a.timer.Stop()
		a.ring()
	case d >= precise:
		a.target.Store(wake)
		a.timer.Reset(d - precise)
	default:
		a.timer.Stop()
		if a.claim(wake) {
			go a.sleep(wake)
		}
	}
}

// claim reports whether a sleeper must be started for wake, and if so
// records it as the running one: no sleeper runs that rings by wake. (The
// timer's callback and Set may both claim at once: both sleepers then
// ring, the later one a superseded wake.)
func (a *Alarm) claim(wake int64) bool {
	if cur := a.sleeper.Load(); cur != 0 && cur <= wake {
		return false
	}
	a.sleeper.Store(wake)
	return true
}

// sleep rings at wake; its caller claimed it.
func (a *Alarm) sleep(wake int64) {
	sleepUntil(wake)
	a.sleeper.CompareAndSwap(wake, 0)
	a.ring()
}

// Stop disarms the alarm.
func (a *Alarm) Stop() { a.timer.Stop() }
