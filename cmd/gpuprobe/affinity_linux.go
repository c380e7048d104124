package main

import (
	"fmt"
	"syscall"
	"unsafe"
)

// pinCPU binds the calling OS thread to one CPU.
func pinCPU(cpu int) error {
	var mask [16]uint64 // 1024 CPUs
	if cpu < 0 || cpu >= len(mask)*64 {
		return fmt.Errorf("CPU %d out of range", cpu)
	}
	mask[cpu/64] |= 1 << (cpu % 64)
	_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_SETAFFINITY, 0, uintptr(len(mask)*8), uintptr(unsafe.Pointer(&mask[0])))
	if e != 0 {
		return fmt.Errorf("sched_setaffinity CPU %d: %w", cpu, e)
	}
	return nil
}
