// Package awake keeps CPUs from going idle, so that a thread woken on
// one runs at once.
//
// On a virtual machine an idle virtual CPU halts, and the hypervisor
// deschedules it; a thread woken there (a read's data arrived, a sleep
// ended) waits until the host runs that virtual CPU again, which on the
// GPU hosts took up to several milliseconds (gpucheck's stall probe calls
// these stalls "not busy"). Spin keeps every CPU it is given running: one
// thread per CPU, pinned to it and scheduled SCHED_IDLE, spinning. Such a
// thread runs only when nothing else on its CPU can, and yields the CPU
// to any other thread that wakes there at once, within the guest.
//
// The price is that the CPUs are always busy to the host: they draw
// power, and on a host that shares its cores they take time that other
// machines could use. gpucheck's -awake runs it in a child process to
// measure what it does to the tails.
package awake

import "errors"

// Ready is the line a process running Spin prints on its standard output
// once every thread spins, followed by the number of CPUs.
const Ready = "awake on CPUs:"

var errUnsupported = errors.New("keeping CPUs awake needs Linux")
