// Package affinity binds OS threads to CPUs (sched_setaffinity(2)) and
// tells which CPUs the process may run on. The probes that measure the
// machine pin their threads: a measurement of one CPU, or of a spinning
// thread that must not move.
package affinity

import (
	"fmt"
	"math/bits"
	"os"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

// mask is a CPU set of up to 1024 CPUs.
type mask [16]uint64

// Pin binds the calling OS thread to cpu. The caller must have locked its
// goroutine to the thread (runtime.LockOSThread).
func Pin(cpu int) error {
	var m mask
	if cpu < 0 || cpu >= len(m)*64 {
		return fmt.Errorf("CPU %d out of range", cpu)
	}
	m[cpu/64] |= 1 << (cpu % 64)
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
	if e != 0 {
		return fmt.Errorf("sched_setaffinity CPU %d: %w", cpu, e)
	}
	return nil
}

// Allowed lists the CPUs the calling thread may run on, in order.
func Allowed() ([]int, error) {
	var m mask
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, 0, unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
	if e != 0 {
		return nil, fmt.Errorf("sched_getaffinity: %w", e)
	}
	var cpus []int
	for i, w := range m {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			cpus = append(cpus, 64*i+b)
			w &^= 1 << b
		}
	}
	return cpus, nil
}

// PinProcess binds every thread of the process to cpus, and so every
// thread it starts later (a thread inherits its creator's CPUs): the
// threads that libraries start on their own, as the CUDA driver does,
// included once they are started after it.
func PinProcess(cpus []int) error {
	var m mask
	for _, c := range cpus {
		if c < 0 || c >= len(m)*64 {
			return fmt.Errorf("CPU %d out of range", c)
		}
		m[c/64] |= 1 << (c % 64)
	}
	if len(cpus) == 0 {
		return fmt.Errorf("no CPU to pin the process to")
	}
	// A thread may start another while they are pinned, and a thread
	// shows in /proc a moment after it took its creator's CPUs: go round
	// until two rounds a millisecond apart find none it had not pinned.
	// That narrows the race with a thread being started rather than
	// closing it; a process pins itself before it starts much.
	pinned := map[int]bool{}
	for quiet := 0; quiet < 2; {
		tids, err := threads()
		if err != nil {
			return err
		}
		fresh := 0
		for _, tid := range tids {
			if pinned[tid] {
				continue
			}
			_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, uintptr(tid), unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
			if e != 0 && e != syscall.ESRCH { // ESRCH: it ended meanwhile
				return fmt.Errorf("sched_setaffinity: %w", e)
			}
			pinned[tid] = true
			fresh++
		}
		switch {
		case fresh > 0:
			quiet = 0
		case quiet == 0:
			quiet = 1
			time.Sleep(time.Millisecond)
		default:
			quiet = 2
		}
	}
	return nil
}

// threads lists the ids of the process's threads.
func threads() ([]int, error) {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	var tids []int
	for _, e := range ents {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}
