//go:build linux && cgo

package envcheck

import (
	"errors"
	"fmt"

	"github.com/clockwork-go/clockwork/internal/cuda"
)

// nvmlGPUs asks NVML for the GPUs. A query a GPU does not support leaves
// its field unknown.
func nvmlGPUs() ([]GPU, error) {
	if _, err := cuda.LoadNVML(); err != nil {
		var le *cuda.LoadError
		if errors.As(err, &le) && len(le.Failed) == 0 {
			return nil, fmt.Errorf("no NVIDIA driver: %s not found", le.Names[0])
		}
		return nil, err
	}
	if err := cuda.NVMLInit(); err != nil {
		return nil, err
	}
	defer cuda.NVMLShutdown()
	n, err := cuda.NVMLDeviceCount()
	if err != nil {
		return nil, err
	}
	gpus := make([]GPU, n)
	for i := range gpus {
		d, err := cuda.NVMLDeviceByIndex(i)
		if err != nil {
			return nil, err
		}
		g := &gpus[i]
		g.Index = i
		g.Name, _ = d.Name()
		if pm, err := d.PersistenceMode(); err == nil {
			g.Persistence = &pm
		}
		if cm, err := d.ComputeMode(); err == nil {
			g.ComputeMode = cm.String()
		}
		g.SMClock, _ = d.Clock(cuda.ClockSM)
		g.MaxSMClock, _ = d.MaxClock(cuda.ClockSM)
		g.AppSMClock, _ = d.ApplicationsClock(cuda.ClockSM)
		g.PCIeWidth, _ = d.PCIeLinkWidth()
		if major, minor, err := d.ComputeCapability(); err == nil {
			g.CC = fmt.Sprintf("%d.%d", major, minor)
		}
		g.CPUs, _ = d.CPUAffinity()
	}
	return gpus, nil
}
