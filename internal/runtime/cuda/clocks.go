//go:build linux && cgo

package cuda

import (
	"fmt"
	"io"
	"strings"
	"time"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
)

// Clock monitoring: NVML calls are ioctls, so they stay off the exec
// path. A goroutine polls every GPU's SM clock into device.clock, which
// Exec reads at launch and at completion, and prints the original's
// "GPU Clocks Changed" line at most every 5 s.
const (
	clockPoll  = 5 * time.Millisecond
	clockPrint = 5 * time.Second
)

type clockMonitor struct {
	stop, done chan struct{}
}

// startClockMonitor starts polling every poll (clockPoll if 0; if
// negative, the clocks are read once and nil returned); without NVML it
// returns nil and the clocks read 0.
func startClockMonitor(devs []*device, log io.Writer, poll time.Duration) *clockMonitor {
	if _, err := cu.LoadNVML(); err != nil {
		return nil
	}
	if err := cu.NVMLInit(); err != nil {
		fmt.Fprintf(log, "NVML not usable, GPU clocks are not reported: %v\n", err)
		return nil
	}
	handles := make([]cu.NVMLDevice, len(devs))
	for i, d := range devs {
		// CUDA and NVML may order GPUs differently: match by PCI address.
		h, err := func() (cu.NVMLDevice, error) {
			bus, err := d.dev.PCIBusID()
			if err != nil {
				return cu.NVMLDevice{}, err
			}
			return cu.NVMLDeviceByPCIBusID(bus)
		}()
		if err != nil {
			fmt.Fprintf(log, "GPU%d not found by NVML, its clock is not reported: %v\n", d.id, err)
			continue
		}
		handles[i] = h
	}
	read := func() {
		for i, d := range devs {
			if handles[i] != (cu.NVMLDevice{}) {
				if mhz, err := handles[i].Clock(cu.ClockSM); err == nil {
					d.clock.Store(mhz)
				}
			}
		}
	}
	read()
	if poll < 0 {
		cu.NVMLShutdown()
		return nil
	}
	if poll == 0 {
		poll = clockPoll
	}
	c := &clockMonitor{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer cu.NVMLShutdown()
		printed := make([]uint32, len(devs))
		for i, d := range devs {
			printed[i] = d.clock.Load()
		}
		var last time.Time
		t := time.NewTicker(poll)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case now := <-t.C:
				read()
				if now.Sub(last) < clockPrint {
					continue
				}
				changed := false
				for i, d := range devs {
					changed = changed || d.clock.Load() != printed[i]
				}
				if !changed {
					continue
				}
				var b strings.Builder
				b.WriteString("GPU Clocks Changed:")
				for i, d := range devs {
					printed[i] = d.clock.Load()
					fmt.Fprintf(&b, " GPU%d=%d", d.id, printed[i])
				}
				fmt.Fprintln(log, b.String())
				last = now
			}
		}
	}()
	return c
}

func (c *clockMonitor) close() {
	close(c.stop)
	<-c.done
}
