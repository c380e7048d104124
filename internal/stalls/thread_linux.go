package stalls

import (
	"bytes"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/clockwork-go/clockwork/internal/affinity"
)

// defaultCPUs are the first and the last CPU the process may run on.
func defaultCPUs() []int {
	cpus, err := affinity.Allowed()
	switch {
	case err != nil || len(cpus) == 0:
		return []int{-1, -1}
	case len(cpus) == 1:
		return cpus
	}
	return []int{cpus[0], cpus[len(cpus)-1]}
}

// prSetTimerSlack is prctl(2)'s PR_SET_TIMERSLACK.
const prSetTimerSlack = 29

// osThread is the calling OS thread, pinned to its CPU (unless -1), with
// a timer slack of 1 ns (the default 50 µs would count as lateness), and
// its run-queue wait read from /proc/thread-self/schedstat where the
// kernel keeps it.
type osThread struct {
	clock func() int64
	fd    int // schedstat; -1 if not readable
	buf   [128]byte
}

func newOSThread(cpu int, now func() int64) (*osThread, error) {
	if cpu >= 0 {
		if err := affinity.Pin(cpu); err != nil {
			return nil, err
		}
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerSlack, 1, 0); e != 0 {
		return nil, fmt.Errorf("prctl PR_SET_TIMERSLACK: %w", e)
	}
	th := &osThread{clock: now, fd: -1}
	if fd, err := syscall.Open("/proc/thread-self/schedstat", syscall.O_RDONLY|syscall.O_CLOEXEC, 0); err == nil {
		th.fd = fd
		if th.queued() < 0 {
			th.close()
		}
	}
	return th, nil
}

func (th *osThread) now() int64 { return th.clock() }

func (th *osThread) sleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	syscall.Nanosleep(&ts, nil) // an interrupted sleep wakes early: not a stall
}

// queued reads the second field of schedstat: "run time, run-queue wait,
// timeslices".
func (th *osThread) queued() int64 {
	if th.fd < 0 {
		return -1
	}
	n, err := syscall.Pread(th.fd, th.buf[:], 0)
	if err != nil || n <= 0 {
		return -1
	}
	f := bytes.Fields(th.buf[:n])
	if len(f) < 2 {
		return -1
	}
	v, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return -1
	}
	return v
}

func (th *osThread) close() {
	if th.fd >= 0 {
		syscall.Close(th.fd)
		th.fd = -1
	}
}
