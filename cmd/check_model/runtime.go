package main

import (
	"os"

	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/device"
)

// cachePages is the size of the weights cache check_model asks for, in
// pages: 4 GiB of 16 MiB pages, more than any model of the zoo. The CPU
// runtime allocates pages as they are used, so only the model's own pages
// cost memory there, as in the original's cache of exactly the model's
// pages; the CUDA runtime allocates the cache at start-up.
const cachePages = 256

// Pools of the CUDA runtime, as the worker's defaults.
const poolSize = 512 << 20

// openRuntime picks the runtime that runs the model: CUDA on GPU 0 where
// NVIDIA GPUs and libraries are present, else the CPU. Models are not
// timed at load: check_model times them itself. The runtime's start-up
// lines ("Using CUDA Driver …", or why there is no GPU) go to stderr,
// off the report.
func openRuntime(pageSize uint64) (runtime.Runtime, error) {
	return device.Open(device.Auto, device.Config{
		PageSize: pageSize, WeightsCacheSize: pageSize * cachePages,
		IOPoolSize: poolSize, WorkspacePoolSize: poolSize, HostIOPoolSize: poolSize,
	}, os.Stderr)
}

// workspaceReporter is implemented by models that can tell their
// workspace size per batch size.
type workspaceReporter interface {
	WorkspaceSize(batch int) uint64
}
