// Package awake keeps CPUs from going idle, so that a thread woken on
// one runs at once.
//
// On a virtual machine an idle virtual CPU halts and the hypervisor
// deschedules it; a thread woken there (a read's data arrived, a sleep
// ended, a driver's thread was signalled) waits until the host runs that
// virtual CPU again, which on the GPU hosts took up to several
// milliseconds (gpucheck's stall probe calls these stalls "not busy").
// Start keeps the CPUs it is given running: one thread per CPU, pinned to
// it and scheduled SCHED_IDLE, spinning. Such a thread has the lowest
// priority there is: it has its CPU when no other thread wants it (and a
// sliver of it otherwise), and yields it at once, within the guest, to
// any other thread that wakes there.
//
// The threads are C threads (pthreads): they hold none of Go's Ps, and
// the Go scheduler and collector never wait for them.
//
// The price is CPUs that are always busy to the host: they draw power,
// they may slow the other hyperthread of their core, and on a host that
// shares its cores they take time other machines could use. So it is an
// option (the worker's --awake, with --cpus), measured by gpucheck.
package awake

import "errors"

// ErrUnsupported says that this build cannot keep CPUs awake: it needs
// Linux and cgo.
var ErrUnsupported = errors.New("keeping CPUs awake needs Linux and cgo")
