// Package cpu is the runtime that runs models on the CPU, with package
// cpuexec (Go, its hot loops in C where built with cgo), as one device
// ("GPU 0"). It is what a worker uses on a machine without a
// GPU and the reference the CUDA runtime is checked against.
//
// A model path P names the ONNX file P.onnx. Load imports it with package
// engine, plans batch sizes 1, 2, 4, 8 and 16 up to the requested maximum
// and times each on this machine, as the original measured its kernels
// when loading, so that the controller schedules with real figures. The
// weights live in a PageStore cut into pages like a GPU's weights cache;
// LoadWeights copies a model's pages into the pages the worker chose and
// Exec reads them from there, all but the filters of the convolutions
// computed by Winograd's algorithm, which Load transformed once from the
// model's host copy (package cpuexec shares them among the models of one
// file).
package cpu

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/engine/cpuexec"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Clock is the nominal SM clock (MHz) reported with exec timings, that of
// the V100s the original was measured on.
const Clock = 1380

// Config configures the runtime.
type Config struct {
	// PageSize is the weights page size (0: engine.DefaultPageSize).
	PageSize uint64
	// CacheBytes is the weights cache size; it holds
	// CacheBytes / PageSize pages, allocated as they are first used.
	CacheBytes uint64
	// MaxCacheBytes, if set, is half the memory the process may use (device.Open
	// sets it), which bounds the cache: a larger CacheBytes gets the whole
	// pages that fit, said on Log.
	MaxCacheBytes uint64
	Log           io.Writer
	// Workers is the number of goroutines an inference uses (0: one per
	// CPU, GOMAXPROCS).
	Workers int
	// SkipMeasure leaves exec and weights-load times 0 instead of timing
	// them at Load; for tools that time models themselves (check_model).
	SkipMeasure bool
	// IOPoolBytes bounds the IO regions of the Infers between their
	// copy-input and their release, as a GPU's IO pool does (0:
	// DefaultIOPool): a copy-input that would pass it fails with status
	// 76, and Load keeps only the batch sizes whose region fits.
	IOPoolBytes uint64
}

// DefaultIOPool is the IO pool of a Config without one: the original's
// io_pool_size.
const DefaultIOPool = 512 << 20

// Runtime runs models on the CPU.
type Runtime struct {
	cfg     Config
	pages   *PageStore
	workers *cpuexec.Workers

	// mu serialises inferences, which share the workspace and the
	// workers, and guards workspace. (The pages have locks of their own:
	// PageStore.)
	mu        sync.Mutex
	workspace []byte

	io ioPool
}

// ioPool counts the bytes of the IO regions in use (CopyInput to Release),
// which the worker's stages take and give back on their own goroutines.
type ioPool struct {
	size uint64
	used atomic.Uint64
}

// take reserves n bytes, or reports that they do not fit.
func (p *ioPool) take(n uint64) bool {
	for {
		u := p.used.Load()
		if n > p.size-u {
			return false
		}
		if p.used.CompareAndSwap(u, u+n) {
			return true
		}
	}
}

func (p *ioPool) give(n uint64) { p.used.Add(-n) }

func gib(b uint64) float64 { return float64(b) / (1 << 30) }

// The worker offers the cache as made.
var _ runtime.Paged = (*Runtime)(nil)

// Pages is the number of pages of the weights cache, the same for every
// GPU (runtime.Paged).
func (r *Runtime) Pages(int) int { return r.pages.Len() }

// New returns a CPU runtime.
func New(cfg Config) (*Runtime, error) {
	if cfg.PageSize == 0 {
		cfg.PageSize = engine.DefaultPageSize
	}
	if cfg.PageSize > 1<<40 {
		return nil, fmt.Errorf("cpu runtime: page size %d too large", cfg.PageSize)
	}
	n := cfg.CacheBytes / cfg.PageSize
	if cfg.MaxCacheBytes > 0 && cfg.CacheBytes > cfg.MaxCacheBytes {
		n = cfg.MaxCacheBytes / cfg.PageSize
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "CPU: a weights cache of %.1f GiB does not fit in %.1f GiB (half the memory this process may use); using %d pages (%.1f GiB)\n",
				gib(cfg.CacheBytes), gib(cfg.MaxCacheBytes), n, gib(n*cfg.PageSize))
		}
	}
	if n > 1<<24 {
		return nil, fmt.Errorf("cpu runtime: weights cache of %d pages too large", n)
	}
	if cfg.IOPoolBytes == 0 {
		cfg.IOPoolBytes = DefaultIOPool
	}
	w := cpuexec.NewWorkers(cfg.Workers)
	r := &Runtime{cfg: cfg, pages: NewPageStore(int64(cfg.PageSize), int(n)), workers: w}
	r.io.size = cfg.IOPoolBytes
	return r, nil
}

// Name implements runtime.Runtime.
func (r *Runtime) Name() string {
	return fmt.Sprintf("cpu (%d threads, %s kernels)", r.workers.Size(), cpuexec.Kernels())
}

// NumGPUs implements runtime.Runtime: the CPU is one device.
func (r *Runtime) NumGPUs() int { return 1 }

// InputStage implements runtime.Runtime: inputs are copied in a stage of
// their own, as on a GPU.
func (r *Runtime) InputStage() bool { return true }

// PageStore is the weights cache.
func (r *Runtime) PageStore() *PageStore { return r.pages }

// Close implements runtime.Runtime.
func (r *Runtime) Close() error {
	r.workers.Close()
	return nil
}

// checkGPU validates a device index.
func checkGPU(gpu int) error {
	if gpu != 0 {
		return runtime.Errorf(workerapi.ErrInvalidGPU, "invalid GPU %d (the CPU runtime has GPU 0 only)", gpu)
	}
	return nil
}

// reserveWorkspace grows the shared workspace to n bytes.
func (r *Runtime) reserveWorkspace(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if int64(len(r.workspace)) < n {
		r.workspace = make([]byte, n)
	}
}

// run executes v with the given weights pages on the shared workspace.
func (r *Runtime) run(v *variant, io []byte, pages [][]byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return v.exec.Run(r.workers, cpuexec.Memory{IO: io, Workspace: r.workspace, Pages: pages})
}

// batchesUpTo lists the prepared batch sizes not above max (1 at least).
func batchesUpTo(max int) []int {
	i := 1
	for i < len(engine.BatchSizes) && engine.BatchSizes[i] <= max {
		i++
	}
	return slices.Clone(engine.BatchSizes[:i])
}
