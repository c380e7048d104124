//go:build linux && cgo

package cuda

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	goruntime "runtime"
	"sync"
	"sync/atomic"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Sizes of the fixed parts of a GPU's memory.
const (
	zeroBytes  = 256 << 10 // a zero bias for convolutions without one (65536 channels)
	blasWSSize = 32 << 20  // cuBLAS workspace (NVIDIA's advice for Hopper)
	reserve    = 1 << 30   // left free for the libraries when the cache is sized from free memory
)

// device is one GPU and everything the runtime set up on it at start-up.
// Nothing on it is allocated afterwards.
type device struct {
	id   int
	dev  cu.Device
	ctx  cu.Context
	name string
	cc   [2]int

	// The serving stages, each used by one goroutine at a time (the
	// worker's executors), and the completion checker they wait on.
	in, exec, out, weights stage
	chk                    *checker

	// load builds and times graphs at Load (under loadMu) in the
	// profiling area; capturers capture graph sets, one per batch size,
	// in parallel, and setsMu orders the changes to any graph set of the
	// GPU (captures and remaps). Each builder has its own stream and
	// cuDNN and cuBLAS handles.
	loadMu, setsMu sync.Mutex
	load           *builder
	capturers      []*builder
	choices        choices     // under loadMu
	fp             fingerprint // what choices depend on
	scratch        *cu.HostMem // pinned, for checks at Load; under loadMu

	k     *kernels
	zeros cu.DevicePtr

	// The weights cache: pages physical allocations of pageSize bytes
	// (handles), mapped in order at cache, where LoadWeights copies into
	// them; graph sets map them again at addresses of their own.
	cache       cu.DevicePtr
	handles     []cu.MemHandle
	pages       int
	pageSize    uint64
	io          cu.DevicePtr
	ioPool      *pool
	ws          region // serving workspace: every graph's activations, slot and library workspaces
	prof        region // the same for graphs being built and timed at Load
	profWeights region // profiling weights area, profPages pages

	clock atomic.Uint32 // SM clock in MHz (0 without NVML)
	fault atomic.Pointer[error]
	log   io.Writer // the runtime's
}

// region is a block of device memory.
type region struct {
	base cu.DevicePtr
	size uint64
}

// stage is a stream with a pair of timing events and a waiter on the
// checker, which times the work between them. The exec stage queues its
// work behind a gate, so that the GPU starts it only once it is all
// queued (nil: ungated).
type stage struct {
	s          cu.Stream
	start, end cu.Event
	w          *waiter
	gate       *cu.Gate
}

func newStage(priority int) (stage, error) {
	var st stage
	var err error
	if st.s, err = cu.NewStream(cu.StreamNonBlocking, priority); err != nil {
		return st, err
	}
	if st.start, err = cu.NewEvent(cu.EventDefault); err != nil {
		return st, err
	}
	if st.end, err = cu.NewEvent(cu.EventDefault); err != nil {
		return st, err
	}
	st.w = newWaiter(st.start, st.end)
	return st, nil
}

func (st *stage) destroy() {
	st.s.Destroy()
	st.start.Destroy()
	st.end.Destroy()
	if st.gate != nil {
		st.gate.Free()
	}
}

// openDevice sets up CUDA device i. cubins caches the compiled kernels by
// compute capability.
func openDevice(i int, cfg *Config, cubins map[[2]int][]byte, spin bool) (_ *device, err error) {
	d := &device{id: i, log: cfg.Log, pageSize: cfg.PageSize, choices: newChoices()}
	if d.dev, err = cu.GetDevice(i); err != nil {
		return nil, err
	}
	if d.name, err = d.dev.Name(); err != nil {
		return nil, err
	}
	if d.cc[0], d.cc[1], err = d.dev.ComputeCapability(); err != nil {
		return nil, err
	}
	sms, err := d.dev.Attribute(cu.AttrMultiprocessorCount)
	if err != nil {
		return nil, err
	}
	// Threads waiting on the GPU spin rather than sleep.
	if err := d.dev.PrimaryCtxSetFlags(cu.CtxSchedSpin); err != nil {
		return nil, err
	}
	if d.ctx, err = d.dev.PrimaryCtxRetain(); err != nil {
		return nil, err
	}
	if err := d.enter(); err != nil {
		d.dev.PrimaryCtxRelease()
		return nil, err
	}
	// On an error, what was made is freed in the context, then the context
	// is let go (a worker that falls back to the CPU kept it, and the GPU
	// memory it held, for good).
	defer func() {
		if err != nil {
			d.dev.PrimaryCtxRelease()
		}
	}()
	defer d.leave()
	defer func() {
		if err != nil {
			d.free()
		}
	}()
	_, greatest, err := cu.StreamPriorityRange()
	if err != nil {
		return nil, err
	}
	for _, s := range []struct {
		st   *stage
		prio int
	}{{&d.in, greatest}, {&d.exec, 0}, {&d.out, greatest}, {&d.weights, 0}} {
		if *s.st, err = newStage(s.prio); err != nil {
			return nil, err
		}
	}
	if d.load, err = newBuilder(cfg.TF32); err != nil {
		return nil, err
	}
	blas, err := d.load.blas.Version()
	if err != nil {
		return nil, err
	}
	d.fp = fingerprint{GPU: d.name, CC: fmt.Sprintf("%d.%d", d.cc[0], d.cc[1]), SMs: sms, CUDNN: cu.CUDNNVersion(),
		CUBLAS: blas, Kernels: kernelsHash()}
	for range engine.BatchSizes {
		b, err := newBuilder(cfg.TF32)
		if err != nil {
			return nil, err
		}
		d.capturers = append(d.capturers, b)
	}
	if !cfg.Ungated {
		if err := d.gateStreams(cfg); err != nil {
			return nil, err
		}
	}
	cubin, ok := cubins[d.cc]
	if !ok {
		if cubin, err = compileKernels(d.cc[0], d.cc[1]); err != nil {
			return nil, err
		}
		cubins[d.cc] = cubin
	}
	if d.k, err = loadKernels(cubin, sms); err != nil {
		return nil, err
	}
	if err := d.allocate(cfg); err != nil {
		return nil, err
	}
	if d.chk, err = startChecker(d.ctx, spin); err != nil {
		return nil, err
	}
	return d, nil
}

// gateStreams puts the exec stage, and the builder that times exec
// graphs, behind gates. Where streams cannot be gated (NewGate's check),
// both run ungated, which is said on cfg.Log.
func (d *device) gateStreams(cfg *Config) error {
	var err error
	if d.exec.gate, err = cu.NewGate(); err == nil {
		d.load.gate, err = cu.NewGate()
	}
	if errors.Is(err, cu.ErrGateUnsupported) {
		if d.exec.gate != nil {
			d.exec.gate.Free()
			d.exec.gate = nil
		}
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "cuda: GPU %d runs Infers ungated (%v): their GPU time includes the host's submission\n", d.id, err)
		}
		return nil
	}
	return err
}

// allocate makes the GPU's memory: the zero bias, the workspaces, the
// profiling weights area, the IO pool and last the weights cache, which
// gets what is left if the configured size does not fit.
func (d *device) allocate(cfg *Config) error {
	var err error
	if d.zeros, err = cu.MemAlloc(zeroBytes); err != nil {
		return err
	}
	if d.ws, err = allocRegion(cfg.WorkspacePoolSize, "workspace pool"); err != nil {
		return err
	}
	if d.prof, err = allocRegion(cfg.WorkspacePoolSize, "profiling workspace"); err != nil {
		return err
	}
	if d.profWeights, err = allocRegion(uint64(cfg.ProfilePages)*cfg.PageSize, "profiling weights area"); err != nil {
		return err
	}
	if cfg.IOPoolSize < poolAlign {
		return fmt.Errorf("IO pool of %d bytes is too small", cfg.IOPoolSize)
	}
	if d.io, err = cu.MemAlloc(cfg.IOPoolSize); err != nil {
		return fmt.Errorf("IO pool of %d bytes: %w", cfg.IOPoolSize, err)
	}
	d.ioPool = newPool(cfg.IOPoolSize)
	if err := d.allocateCache(cfg); err != nil {
		return err
	}
	for _, r := range []region{d.ws, d.profWeights, {d.zeros, zeroBytes}} {
		if err := cu.MemsetD8Async(r.base, 0, r.size, d.load.s); err != nil {
			return err
		}
	}
	if err := d.fillNoise(d.prof); err != nil {
		return err
	}
	return d.load.s.Synchronize()
}

// noiseChunk is the length of the pattern fillNoise repeats.
const noiseChunk = 4 << 20

// fillNoise fills r with floats in [-1, 1) from a fixed generator, on the
// load stream. The profiling workspace holds the inputs of the ways choose
// compares at Load: zero inputs make every convolution's output its bias,
// whatever a way does with the weights, so on the first Load after
// start-up a wrong way agreed with the right one (and its choice may be
// kept in a choices file).
func (d *device) fillNoise(r region) error {
	h, err := d.hostScratch(noiseChunk)
	if err != nil {
		return err
	}
	b := h.Bytes()[:noiseChunk]
	rng := rand.New(rand.NewPCG(0x5eed, 0xc10c))
	for i := 0; i+4 <= len(b); i += 4 {
		binary.LittleEndian.PutUint32(b[i:], math.Float32bits(float32(rng.Float64()*2-1)))
	}
	for off := uint64(0); off < r.size; off += noiseChunk {
		if err := cu.MemcpyHtoDAsync(r.base.Add(off), h.Ptr(0), min(noiseChunk, r.size-off), d.load.s); err != nil {
			return err
		}
	}
	return nil
}

// allocateCache makes the weights cache: a physical allocation per page,
// mapped in order at one reserved range. If the configured size does not
// fit, it takes what is free less reserve, and says so.
func (d *device) allocateCache(cfg *Config) error {
	if ok, err := d.dev.Attribute(cu.AttrVirtualMemoryManagement); err != nil || ok == 0 {
		return errors.Join(fmt.Errorf("GPU %d does not support virtual memory management, which the weights cache needs", d.id), err)
	}
	gran, err := cu.AllocationGranularity(d.dev)
	if err != nil {
		return err
	}
	if gran == 0 || cfg.PageSize%gran != 0 {
		return fmt.Errorf("page size %d is not a multiple of GPU %d's allocation granularity (%d bytes)", cfg.PageSize, d.id, gran)
	}
	want := int(cfg.WeightsCacheSize / cfg.PageSize)
	free, _, err := cu.MemGetInfo()
	if err != nil {
		return err
	}
	d.pages = want
	if fit := int(max(free, reserve)-reserve) / int(cfg.PageSize); fit < want {
		d.pages = fit
		fmt.Fprintf(cfg.Log, "GPU%d: a weights cache of %d pages (%.1f GiB) does not fit in %.1f GiB of free memory; using %d pages (%.1f GiB)\n",
			d.id, want, gib(uint64(want)*cfg.PageSize), gib(free), d.pages, gib(uint64(d.pages)*cfg.PageSize))
	}
	if d.pages == 0 {
		return nil
	}
	size := uint64(d.pages) * cfg.PageSize
	if d.cache, err = cu.MemAddressReserve(size); err != nil {
		return fmt.Errorf("weights cache of %d pages: reserving addresses: %w", d.pages, err)
	}
	for p := range d.pages {
		h, err := cu.MemCreate(d.dev, cfg.PageSize)
		if err != nil {
			return fmt.Errorf("weights cache page %d of %d: %w", p, d.pages, err)
		}
		d.handles = append(d.handles, h)
		if err := cu.MemMap(d.pageAddr(p), cfg.PageSize, h); err != nil {
			return fmt.Errorf("weights cache page %d of %d: %w", p, d.pages, err)
		}
	}
	return cu.MemSetAccess(d.cache, size, d.dev)
}

// freeCache undoes allocateCache, in the current context.
func (d *device) freeCache() {
	if d.cache == 0 {
		return
	}
	for p := range d.handles {
		cu.MemUnmap(d.pageAddr(p), d.pageSize)
	}
	for _, h := range d.handles {
		h.Release()
	}
	cu.MemAddressFree(d.cache, uint64(d.pages)*d.pageSize)
	d.cache, d.handles = 0, nil
}

func gib(n uint64) float64 { return float64(n) / (1 << 30) }

func allocRegion(n uint64, what string) (region, error) {
	if n < poolAlign {
		return region{}, fmt.Errorf("%s of %d bytes is too small", what, n)
	}
	p, err := cu.MemAlloc(n)
	if err != nil {
		return region{}, fmt.Errorf("%s of %d bytes: %w", what, n, err)
	}
	return region{p, n}, nil
}

// enter locks the calling goroutine to its OS thread and makes the GPU's
// context current there; leave undoes the lock.
func (d *device) enter() error {
	goruntime.LockOSThread()
	if err := d.ctx.SetCurrent(); err != nil {
		goruntime.UnlockOSThread()
		return err
	}
	return nil
}

func (d *device) leave() { goruntime.UnlockOSThread() }

// failed returns the sticky error that broke the GPU's context, if any.
func (d *device) failed() error {
	if p := d.fault.Load(); p != nil {
		return *p
	}
	return nil
}

// note records err if it is one of CUDA's sticky errors (an illegal
// address, a failed launch; cu.Error.Sticky): the context is then unusable
// and every later call on this GPU fails with it. The first such error is
// said on the log. It returns err, saying that the GPU is unusable if it is.
func (d *device) note(err error) error {
	var ce *cu.Error
	if !errors.As(err, &ce) || !ce.Sticky() {
		return err
	}
	if f := d.failed(); f != nil && errors.Is(err, f) {
		return err // the fault itself, as failed returned it
	}
	e := fmt.Errorf("GPU %d is unusable after %w", d.id, err)
	if d.fault.CompareAndSwap(nil, &e) {
		fmt.Fprintf(d.log, "cuda: %v; every later action on it fails with status %d\n", e, workerapi.ErrGPUUnusable)
	}
	return e
}

// code is the status of a CUDA failure on this GPU: ErrGPUUnusable once
// its context is unusable, else other.
func (d *device) code(other int32) int32 {
	if d.failed() != nil {
		return workerapi.ErrGPUUnusable
	}
	return other
}

// close frees everything; the device must be idle. It waits for a Load
// or a capture still running, which would use what is freed.
func (d *device) close(keepContext bool) error {
	d.loadMu.Lock()
	defer d.loadMu.Unlock()
	d.setsMu.Lock()
	defer d.setsMu.Unlock()
	if d.chk != nil {
		d.chk.close()
		d.chk = nil
	}
	if err := d.enter(); err != nil {
		return err
	}
	d.free()
	d.leave()
	if keepContext {
		return nil
	}
	return d.dev.PrimaryCtxRelease()
}

// free releases what openDevice made, in the current context.
func (d *device) free() {
	if d.scratch != nil {
		d.scratch.Free()
	}
	d.freeCache()
	for _, p := range []cu.DevicePtr{d.io, d.ws.base, d.prof.base, d.profWeights.base, d.zeros} {
		if p != 0 {
			cu.MemFree(p)
		}
	}
	for _, b := range append([]*builder{d.load}, d.capturers...) {
		if b != nil {
			b.destroy()
		}
	}
	if d.k != nil {
		d.k.mod.Unload()
	}
	for _, st := range []*stage{&d.in, &d.exec, &d.out, &d.weights} {
		if st.w != nil {
			st.destroy()
		}
	}
}

// hostScratch returns at least n bytes of pinned host memory for checks
// at Load (under loadMu).
func (d *device) hostScratch(n int) (*cu.HostMem, error) {
	if d.scratch != nil && d.scratch.Len() >= n {
		return d.scratch, nil
	}
	if d.scratch != nil {
		d.scratch.Free()
		d.scratch = nil
	}
	h, err := cu.MemHostAlloc(n, cu.HostAllocPortable)
	if err != nil {
		return nil, err
	}
	d.scratch = h
	return h, nil
}

// pageAddr is the address of cache page p.
func (d *device) pageAddr(p int) cu.DevicePtr { return d.cache.Add(uint64(p) * d.pageSize) }
