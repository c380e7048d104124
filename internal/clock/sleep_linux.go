package clock

import (
	"runtime"
	"syscall"
)

// prSetTimerSlack is prctl(2)'s PR_SET_TIMERSLACK.
const prSetTimerSlack = 29

// A sleeper of a wait of minSpinWait or more spins over the last spinFor
// of it rather than sleeping: a sleep on a virtual machine ends 40-70 µs
// late at p50 even with a timer slack of 1 ns, and the owner's wake-up
// after a sleep adds as much again (the 2-core development VM). Shorter
// waits only sleep: some owners set them often (INFER4 paces its load
// decisions 0.1 ms apart), and spinning through each kept a core busy that
// the worker and the client needed (BenchmarkAlarmLateness, fig5).
const (
	spinFor     = 100_000
	minSpinWait = 1_000_000
)

// sleepUntil blocks its goroutine until the process clock reads t: it
// sleeps with nanosleep(2), its thread's timer slack set to 1 ns (Linux
// lets a normal thread's sleep run 50 µs long by default), and for a wait
// of minSpinWait or more spins over the last spinFor, yielding to the
// process's other goroutines.
func sleepUntil(t int64) {
	spin := int64(spinFor)
	if t-Now() < minSpinWait {
		spin = 0
	}
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
	for {
		d := t - spin - Now()
		if d <= 0 {
			break
		}
		ts := syscall.NsecToTimespec(d)
		syscall.Nanosleep(&ts, nil) // EINTR: loop and sleep the rest
	}
	for Now() < t {
		runtime.Gosched()
	}
}
