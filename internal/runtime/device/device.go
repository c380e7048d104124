// Package device chooses the runtime a real worker (or check_model) runs
// models on: the CUDA runtime where NVIDIA GPUs and libraries are present,
// else the pure-Go CPU runtime.
package device

import (
	"fmt"
	"io"

	"github.com/clockwork-go/clockwork/internal/hostmem"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/cpu"
)

// Kinds accepted by Open.
const (
	Auto = "auto"
	CPU  = "cpu"
	CUDA = "cuda"
)

// Config is what a runtime needs from the worker configuration.
type Config struct {
	PageSize          uint64
	WeightsCacheSize  uint64 // per device
	IOPoolSize        uint64 // per device
	WorkspacePoolSize uint64 // per device
	HostIOPoolSize    uint64
	// Measure times models at load (workers); tools that time models
	// themselves (check_model) turn it off.
	Measure bool
	// TF32 lets CUDA use TF32 tensor cores (faster, less exact).
	TF32 bool
	// VersionPrinted says the caller printed VersionLine already.
	VersionPrinted bool
}

// Open returns the runtime of the given kind. With Auto it tries CUDA and
// falls back to the CPU, saying why on log.
func Open(kind string, cfg Config, log io.Writer) (runtime.Runtime, error) {
	switch kind {
	case CPU:
		return openCPU(cfg, log)
	case CUDA:
		return openCUDA(cfg, log)
	case Auto, "":
		rt, err := openCUDA(cfg, log)
		if err == nil {
			return rt, nil
		}
		fmt.Fprintf(log, "No usable GPU (%v); running models on the CPU\n", err)
		return openCPU(cfg, log)
	}
	return nil, fmt.Errorf("unknown device %q (want auto, cpu or cuda)", kind)
}

// openCPU opens the CPU runtime with a weights cache of at most half the
// memory the process may use (hostmem.Limit): its pages are allocated as models use them, and a
// cache advertised larger than memory (the default 21.5 GiB, sized for a
// GPU) would have the controller fill it until the worker was killed.
// Its IO pool is the configured io_pool_size, in host memory.
func openCPU(cfg Config, log io.Writer) (runtime.Runtime, error) {
	return cpu.New(cpu.Config{PageSize: cfg.PageSize, CacheBytes: cfg.WeightsCacheSize, MaxCacheBytes: hostmem.Limit() / 2,
		IOPoolBytes: cfg.IOPoolSize, Log: log, SkipMeasure: !cfg.Measure})
}
