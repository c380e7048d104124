package clock

import (
	"runtime"
	"syscall"
)

// prSetTimerSlack is prctl(2)'s PR_SET_TIMERSLACK.
const prSetTimerSlack = 29

// spinFor is the stretch before its wake time over which a sleeper spins
// rather than sleeps: a sleep on a virtual machine ends 40-70 µs late at
// p50 even with a timer slack of 1 ns (the 2-core development VM).
const spinFor = 100_000

// sleepUntil blocks its thread until the process clock reads t: it sleeps
// with nanosleep(2) until spinFor before t, with the thread's timer slack
// set to 1 ns (Linux lets a normal thread's sleep run 50 µs long by
// default), and spins from there.
func sleepUntil(t int64) {
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0)
	for {
		d := t - spinFor - Now()
		if d <= 0 {
			break
		}
		ts := syscall.NsecToTimespec(d)
		syscall.Nanosleep(&ts, nil) // EINTR: loop and sleep the rest
	}
	for Now() < t {
		runtime.Gosched() // the process's other goroutines first
	}
}
