package awake

import (
	"fmt"
	"runtime"
	"syscall"
	"unsafe"

	"github.com/clockwork-go/clockwork/internal/affinity"
)

// schedIdle is sched(7)'s SCHED_IDLE.
const schedIdle = 5

// Spin starts one spinning thread on each of cpus (pinned, SCHED_IDLE)
// and returns once all of them spin; they spin until the process ends.
// The process should do little else: each thread holds one of Go's Ps,
// and Spin raises GOMAXPROCS to leave one more for the rest.
func Spin(cpus []int) error {
	if len(cpus) == 0 {
		return fmt.Errorf("awake: no CPU to keep awake")
	}
	runtime.GOMAXPROCS(len(cpus) + 1)
	errs := make(chan error, len(cpus))
	for _, cpu := range cpus {
		go func() {
			runtime.LockOSThread()
			if err := affinity.Pin(cpu); err != nil {
				errs <- err
				return
			}
			if err := idlePolicy(); err != nil {
				errs <- fmt.Errorf("CPU %d: %w", cpu, err)
				return
			}
			errs <- nil
			for {
				pause()
			}
		}()
	}
	for range cpus {
		if err := <-errs; err != nil {
			return fmt.Errorf("awake: %w", err)
		}
	}
	return nil
}

// idlePolicy makes the calling thread SCHED_IDLE.
func idlePolicy() error {
	var param struct{ priority int32 }
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, 0, schedIdle, uintptr(unsafe.Pointer(&param)))
	if e != 0 {
		return fmt.Errorf("sched_setscheduler SCHED_IDLE: %w", e)
	}
	return nil
}
