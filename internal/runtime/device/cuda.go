//go:build linux && cgo

package device

import (
	"io"

	"github.com/clockwork-go/clockwork/internal/runtime"
	cudart "github.com/clockwork-go/clockwork/internal/runtime/cuda"
)

// openCUDA opens the CUDA runtime on every GPU of the machine; it prints
// the original's "Using CUDA Driver" line to log. Setting
// CLOCKWORK_CUDA_VERBOSE adds a line per model load and LoadWeights.
func openCUDA(cfg Config, log io.Writer) (runtime.Runtime, error) {
	rt, err := cudart.New(cudart.Config{
		PageSize: cfg.PageSize, WeightsCacheSize: cfg.WeightsCacheSize, IOPoolSize: cfg.IOPoolSize,
		WorkspacePoolSize: cfg.WorkspacePoolSize, HostIOPoolSize: cfg.HostIOPoolSize,
		Measure: cfg.Measure, TF32: cfg.TF32, Verbose: cudart.VerboseFromEnv(), ProfileOps: cudart.ProfileOpsFromEnv(), Spin: cudart.SpinFromEnv(), ClockPoll: cudart.ClockPollFromEnv(), Ungated: cudart.UngatedFromEnv(), ChoicesFile: cudart.ChoicesFromEnv(), SkipVersionLine: cfg.VersionPrinted, Log: log,
	})
	if err != nil {
		return nil, err
	}
	return rt, nil
}

// VersionLine is the original's first console line, with the versions of
// the CUDA driver and libraries; it fails where the driver is missing.
func VersionLine() (string, error) { return cudart.VersionLine() }
