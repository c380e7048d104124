package main

import (
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/cpu"
)

// cachePages is the size of the weights cache check_model asks for, in
// pages. Pages are allocated as they are used, so only the model's own
// pages cost memory, as in the original's cache of exactly the model's
// pages.
const cachePages = 1 << 16

// openRuntime picks the runtime that runs the model. Only the CPU runtime
// exists for now; the CUDA runtime is to be preferred here when a GPU is
// present.
func openRuntime(pageSize uint64) (runtime.Runtime, error) {
	return cpu.New(cpu.Config{PageSize: pageSize, CacheBytes: pageSize * cachePages, SkipMeasure: true})
}

// workspaceReporter is implemented by models that can tell their
// workspace size per batch size.
type workspaceReporter interface {
	WorkspaceSize(batch int) uint64
}
