package clock

import "syscall"

// sleepUntil blocks its thread until the process clock reads t, with
// nanosleep(2)'s precision.
func sleepUntil(t int64) {
	for {
		d := t - Now()
		if d <= 0 {
			return
		}
		ts := syscall.NsecToTimespec(d)
		syscall.Nanosleep(&ts, nil) // EINTR: loop and sleep the rest
	}
}
