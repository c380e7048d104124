//go:build !linux

package stalls

import (
	"time"

	"github.com/clockwork-go/clockwork/internal/affinity"
)

// defaultCPUs: two unpinned threads.
func defaultCPUs() []int { return []int{-1, -1} }

// osThread sleeps with the Go runtime's timers; run-queue waits are not
// known.
type osThread struct{ clock func() int64 }

func newOSThread(cpu int, now func() int64) (*osThread, error) {
	if cpu >= 0 {
		return nil, affinity.Pin(cpu)
	}
	return &osThread{clock: now}, nil
}

func (th *osThread) now() int64            { return th.clock() }
func (th *osThread) sleep(d time.Duration) { time.Sleep(d) }
func (th *osThread) queued() int64         { return -1 }
func (th *osThread) close()                {}
