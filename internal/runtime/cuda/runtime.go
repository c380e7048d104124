//go:build linux && cgo

package cuda

import (
	"errors"
	"fmt"
	"io"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Runtime runs models on every CUDA device of the machine; device g is
// the protocol's GPU g.
type Runtime struct {
	cfg     Config
	log     io.Writer
	devices []*device
	host    *cu.HostMem  // the pinned host IO pool: staging, then lending
	hostIO  *pool        // staging, at the start of host
	lendIO  *pool        // AllocHost's, after hostIO
	lent    atomic.Int64 // bytes lent by AllocHost
	closed  atomic.Bool  // AllocHost lends no more (Close)
	clocks  *clockMonitor
	ios     sync.Pool // of *ioBlock
	name    string
	spin    bool // stages' waits spin (Config.Spin)

	// Saves to Config.ChoicesFile, one at a time; choicesOff once one
	// failed or the file is not a choices file.
	choicesMu  sync.Mutex
	choicesOff bool

	// Where host lies, for telling its buffers (hostOffset), kept apart
	// because Close clears host when it frees it.
	hostBase, hostEnd uintptr
}

// New opens the NVIDIA libraries and sets up every GPU: contexts,
// streams, memory (the weights cache, IO pool, workspace and profiling
// areas), cuDNN and cuBLAS handles, the runtime's kernels and a
// completion checker. It fails if a library or a GPU is missing.
func New(cfg Config) (*Runtime, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.ProfilePages <= 0 {
		cfg.ProfilePages = DefaultProfilePages
	}
	if cfg.PageSize == 0 || cfg.PageSize%poolAlign != 0 {
		return nil, fmt.Errorf("cuda runtime: page size %d is not a positive multiple of %d", cfg.PageSize, poolAlign)
	}
	if _, err := cu.LoadDriver(); err != nil {
		return nil, err
	}
	if err := cu.Init(); err != nil {
		return nil, err
	}
	n, err := cu.DeviceCount()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errors.New("cuda runtime: no CUDA device")
	}
	// cuDNN opens cuBLAS and NVRTC by soname: load them first.
	for _, load := range []func() (*cu.Library, error){cu.LoadNVRTC, cu.LoadCUBLAS, cu.LoadCUDNN} {
		if _, err := load(); err != nil {
			return nil, err
		}
	}
	drv, err := cu.DriverVersion()
	if err != nil {
		return nil, err
	}
	major, minor, err := cu.NVRTCVersion()
	if err != nil {
		return nil, err
	}
	if !cfg.SkipVersionLine {
		fmt.Fprintln(cfg.Log, versionLine(drv, major, minor))
	}

	staging := min(alignUp(cfg.HostIOPoolSize-cfg.HostIOPoolSize/lendShare, poolAlign), cfg.HostIOPoolSize)
	r := &Runtime{cfg: cfg, log: cfg.Log, hostIO: newPool(staging), lendIO: newPool(cfg.HostIOPoolSize - staging),
		spin: cfg.Spin.spins(n, goruntime.GOMAXPROCS(0))}
	r.ios.New = func() any { return new(ioBlock) }
	cubins := map[[2]int][]byte{}
	for i := range n {
		d, err := openDevice(i, &r.cfg, cubins, r.spin)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("cuda runtime: GPU %d: %w", i, err)
		}
		r.devices = append(r.devices, d)
	}
	if err := r.devices[0].enter(); err != nil {
		r.Close()
		return nil, err
	}
	r.host, err = cu.MemHostAlloc(int(max(cfg.HostIOPoolSize, poolAlign)), cu.HostAllocPortable)
	r.devices[0].leave()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("cuda runtime: host IO pool of %d bytes: %w", cfg.HostIOPoolSize, err)
	}
	r.hostBase = uintptr(r.host.Ptr(0))
	r.hostEnd = r.hostBase + uintptr(r.host.Len())
	r.clocks = startClockMonitor(r.devices, r.log, cfg.ClockPoll)
	driver := fmt.Sprintf("CUDA %d", drv)
	if v, err := cu.NVMLDriverVersion(); err == nil && r.clocks != nil {
		driver = v
	}
	for _, d := range r.devices {
		d.fp.Driver = driver
	}
	r.loadChoices()

	names := map[string]int{}
	var order []string
	for _, d := range r.devices {
		if names[d.name] == 0 {
			order = append(order, d.name)
		}
		names[d.name]++
	}
	var parts []string
	for _, nm := range order {
		parts = append(parts, fmt.Sprintf("%d × %s", names[nm], nm))
	}
	v := cu.CUDNNVersion()
	tf32 := "off"
	if cfg.TF32 {
		tf32 = "on"
	}
	waits := "parked"
	if r.spin {
		waits = "spinning"
	}
	exec := "gated"
	for _, d := range r.devices {
		if d.exec.gate == nil {
			exec = "ungated"
		}
	}
	r.name = fmt.Sprintf("cuda (%s; CUDA driver %d.%d, NVRTC %d.%d, cuDNN %d.%d.%d; TF32 %s; waits %s; exec %s)",
		strings.Join(parts, ", "), drv/1000, drv%1000/10, major, minor, v/10000, v%10000/100, v%100, tf32, waits, exec)
	return r, nil
}

// versionLine is the original's "Using CUDA Driver 13000 Runtime 13000".
func versionLine(drv, major, minor int) string {
	return fmt.Sprintf("Using CUDA Driver %d Runtime %d", drv, major*1000+minor*10)
}

// VersionLine is the original worker's first start-up line, which it
// prints before "Starting Clockwork Worker": the driver's CUDA version and
// NVRTC's. It loads the two libraries but sets up no GPU.
func VersionLine() (string, error) {
	if _, err := cu.LoadDriver(); err != nil {
		return "", err
	}
	if _, err := cu.LoadNVRTC(); err != nil {
		return "", err
	}
	drv, err := cu.DriverVersion()
	if err != nil {
		return "", err
	}
	major, minor, err := cu.NVRTCVersion()
	if err != nil {
		return "", err
	}
	return versionLine(drv, major, minor), nil
}

// Name implements runtime.Runtime.
func (r *Runtime) Name() string { return r.name }

// NumGPUs implements runtime.Runtime.
func (r *Runtime) NumGPUs() int { return len(r.devices) }

// InputStage implements runtime.Runtime: inputs are copied to the GPU in
// a stage of their own, as the original did.
func (r *Runtime) InputStage() bool { return true }

// The worker offers each GPU's cache as made.
var _ runtime.Paged = (*Runtime)(nil)

// Pages is the number of weights pages of GPU gpu's cache (possibly fewer
// than configured, see Config.WeightsCacheSize).
func (r *Runtime) Pages(gpu int) int {
	if gpu < 0 || gpu >= len(r.devices) {
		return 0
	}
	return r.devices[gpu].pages
}

// Close implements runtime.Runtime. Models must be closed or no longer in
// use.
func (r *Runtime) Close() error {
	if r.clocks != nil {
		r.clocks.close()
		r.clocks = nil
	}
	var errs []error
	// Lending stops first: an AllocHost either sees it stopped, or has
	// counted its buffer in lent before it is read here.
	r.closed.Store(true)
	lent := r.lent.Load()
	if lent > 0 {
		// Freeing it under a buffer still in use would crash the process.
		errs = append(errs, fmt.Errorf("cuda runtime: closed with %d bytes of pinned host memory still lent; left allocated", lent))
	} else if r.host != nil {
		errs = append(errs, r.freeHost(r.host))
	}
	for i, d := range r.devices {
		// The pool lives in GPU 0's primary context, which its last
		// release would reset, freeing the pool with it.
		errs = append(errs, d.close(i == 0 && lent > 0 && r.host != nil))
	}
	r.devices = nil
	return errors.Join(errs...)
}

// freeHost frees pinned host memory (allocated portable, for every
// context) in the context of a usable GPU. Where none is left, it stays:
// a broken context can free nothing, and the process's end reclaims it.
func (r *Runtime) freeHost(h *cu.HostMem) error {
	d := r.usableDevice()
	if d == nil {
		return nil
	}
	if err := d.enter(); err != nil {
		return err
	}
	defer d.leave()
	return h.Free()
}

// lendShare is the part of the pinned host IO pool that AllocHost lends
// (one half); the rest stages the copies of outputs, and of inputs in
// other memory. The two are separate pools: a pool gives space back in
// allocation order, and an input lent for the whole of its Infer would
// hold back every staging block after it.
const lendShare = 2

// AllocHost implements runtime.HostMemory with the lending part of the
// pinned host IO pool: an input read or decompressed into it is copied to
// the GPU without staging.
func (r *Runtime) AllocHost(n int) []byte {
	if n <= 0 {
		return nil
	}
	size := int64(alignUp(uint64(n), poolAlign)) // the block's size
	r.lent.Add(size)
	if r.closed.Load() {
		r.lent.Add(-size)
		return nil
	}
	off, ok := r.lendIO.alloc(uint64(n))
	if !ok {
		r.lent.Add(-size)
		return nil
	}
	off += r.hostIO.size
	return r.host.Bytes()[off : off+uint64(n) : off+uint64(n)]
}

// FreeHost implements runtime.HostMemory.
func (r *Runtime) FreeHost(b []byte) bool {
	off, ok := r.hostOffset(b)
	if !ok || off < r.hostIO.size {
		return false
	}
	r.lent.Add(-int64(r.lendIO.free(off - r.hostIO.size)))
	return true
}

// hostOffset reports whether b lies in the pinned host IO pool, and where.
func (r *Runtime) hostOffset(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if p < r.hostBase || p+uintptr(len(b)) > r.hostEnd {
		return 0, false
	}
	return uint64(p - r.hostBase), true
}

// device returns GPU gpu, or an error with status 13.
func (r *Runtime) device(gpu int) (*device, error) {
	if gpu < 0 || gpu >= len(r.devices) {
		return nil, runtime.Errorf(workerapi.ErrInvalidGPU, "invalid GPU %d (%d GPUs)", gpu, len(r.devices))
	}
	return r.devices[gpu], nil
}
