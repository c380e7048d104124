//go:build linux && cgo

package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/clockwork-go/clockwork/internal/affinity"
	"github.com/clockwork-go/clockwork/internal/cuda"
)

const (
	pageSize   = 16 << 20
	cachePage  = 64 // pages in the weights cache: 1 GiB
	wsSize     = 256 << 20
	blasWSSize = 32 << 20
)

// Model weights live in one page, first pageA, then pageB after a rebind.
const pageA, pageB = 1, 62

// probe holds what the checks set up. Each resource comes with the error
// that keeps it from use, nil once it is ready.
type probe struct {
	opt options

	gpuErr  error // no driver or no device
	dev     cuda.Device
	ctx     cuda.Context
	cc      [2]int
	exec    cuda.Stream // graphs, cuDNN, cuBLAS and kernels
	weights cuda.Stream // weight copies
	spin    *spinner

	nvmlLib error // NVML not loaded or initialised
	nvmlErr error // no NVML device for the CUDA device
	nvml    cuda.NVMLDevice

	cacheErr error
	cache    cuda.DevicePtr // cachePage pages
	pinned   *cuda.HostMem  // 100 MB of pinned host memory to copy
	model    *model         // weights of the test network
	ws       cuda.DevicePtr // workspace for cuDNN
	blasWS   cuda.DevicePtr // workspace for cuBLAS

	rtcLib  error
	blasLib error
	blasErr error
	blas    cuda.BLAS
	dnnLib  error
	dnnErr  error
	dnn     cuda.DNN
	layer   *dnnLayer // descriptors shared by all batch sizes
	gapErr  error
	gap     cuda.Function
}

func newProbe(o options) *probe {
	return &probe{
		opt:      o,
		gpuErr:   errors.New("no CUDA driver"),
		nvmlLib:  errors.New("no NVML"),
		nvmlErr:  errors.New("no NVML"),
		cacheErr: errors.New("no weights cache"),
		rtcLib:   errors.New("no NVRTC"),
		blasLib:  errors.New("no cuBLAS"),
		blasErr:  errors.New("no cuBLAS"),
		dnnLib:   errors.New("no cuDNN"),
		dnnErr:   errors.New("no cuDNN"),
		gapErr:   errors.New("no NVRTC kernel"),
	}
}

// need returns the first error that keeps a check from running.
func need(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *probe) run(r *runner) {
	r.check("libcuda", p.loadDriver)
	r.check("libnvidia-ml", p.loadNVML)
	// cuDNN may open cuBLAS and NVRTC by soname: load them first.
	r.check("libnvrtc", p.loadNVRTC)
	r.check("libcublas", p.loadCUBLAS)
	r.check("libcudnn", p.loadCUDNN)
	r.check("device", p.setupDevice)
	r.check("nvml-device", p.nvmlDevice)
	r.check("weights-cache", p.setupCache)
	r.check("h2d-pages", p.transfer)
	r.check("cublas", p.setupBLAS)
	r.check("sgemm", p.sgemm)
	r.check("nvrtc-kernel", p.kernel)
	r.check("cudnn", p.setupDNN)
	for i, b := range p.opt.batches {
		c := &batchCase{b: b}
		r.check(fmt.Sprintf("conv-b%d", b), func() (string, error) { return p.conv(c) })
		r.check(fmt.Sprintf("graph-b%d", b), func() (string, error) { return p.capture(c) })
		r.check(fmt.Sprintf("replay-b%d-gpu", b), func() (string, error) { return p.replayGPU(c) })
		r.check(fmt.Sprintf("replay-b%d-wall", b), func() (string, error) { return p.replayWall(c) })
		r.check(fmt.Sprintf("replay-b%d-gate", b), func() (string, error) { return p.gated(c) })
		r.check(fmt.Sprintf("rebind-b%d", b), func() (string, error) { return p.rebind(c) })
		if i == 0 {
			r.check("vmm-remap", func() (string, error) { return p.vmm(c) })
		}
		if i == 0 && !p.opt.quick {
			r.check(fmt.Sprintf("overlap-b%d", b), func() (string, error) { return p.overlap(c) })
		}
	}
}

func describe(lib *cuda.Library) string {
	s := lib.Path
	if len(lib.Preloaded) > 0 {
		s += " (opened first: " + strings.Join(lib.Preloaded, ", ") + ")"
	}
	if len(lib.Missing) > 0 {
		s += "; missing symbols: " + strings.Join(lib.Missing, ", ")
	}
	return s
}

func (p *probe) loadDriver() (string, error) {
	lib, err := cuda.LoadDriver()
	if err != nil {
		return "", err
	}
	p.gpuErr = errors.New("CUDA driver loaded but not initialised")
	v, err := cuda.DriverVersion()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s, driver supports CUDA %d.%d", describe(lib), v/1000, v%1000/10), nil
}

func (p *probe) loadNVML() (string, error) {
	lib, err := cuda.LoadNVML()
	if err != nil {
		return "", err
	}
	if err := cuda.NVMLInit(); err != nil {
		p.nvmlLib = fmt.Errorf("no NVML: %w", err)
		return "", err
	}
	p.nvmlLib = nil
	v, err := cuda.NVMLDriverVersion()
	if err != nil {
		return "", err
	}
	n, err := cuda.NVMLDeviceCount()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s, driver %s, %d GPUs", describe(lib), v, n), nil
}

func (p *probe) loadNVRTC() (string, error) {
	lib, err := cuda.LoadNVRTC()
	if err != nil {
		return "", err
	}
	major, minor, err := cuda.NVRTCVersion()
	if err != nil {
		return "", err
	}
	p.rtcLib = nil
	return fmt.Sprintf("%s, NVRTC %d.%d", describe(lib), major, minor), nil
}

func (p *probe) loadCUBLAS() (string, error) {
	lib, err := cuda.LoadCUBLAS()
	if err != nil {
		return "", err
	}
	p.blasLib = nil
	return describe(lib), nil
}

func (p *probe) loadCUDNN() (string, error) {
	lib, err := cuda.LoadCUDNN()
	if err != nil {
		return "", err
	}
	p.dnnLib = nil
	v := cuda.CUDNNVersion()
	return fmt.Sprintf("%s, cuDNN %d.%d.%d", describe(lib), v/10000, v%10000/100, v%100), nil
}

// setupDevice initialises the driver, makes the device's primary context
// (spin-wait scheduling) current and creates the streams and the spinner.
func (p *probe) setupDevice() (string, error) {
	if _, err := cuda.LoadDriver(); err != nil {
		return "", p.gpuErr
	}
	if err := cuda.Init(); err != nil {
		p.gpuErr = fmt.Errorf("no usable CUDA driver: %w", err)
		return "", err
	}
	n, err := cuda.DeviceCount()
	if err != nil {
		return "", err
	}
	if p.opt.device >= n {
		p.gpuErr = fmt.Errorf("no CUDA device %d (%d devices)", p.opt.device, n)
		return "", p.gpuErr
	}
	p.gpuErr = errors.New("CUDA device not set up")
	if p.dev, err = cuda.GetDevice(p.opt.device); err != nil {
		return "", err
	}
	name, err := p.dev.Name()
	if err != nil {
		return "", err
	}
	total, err := p.dev.TotalMem()
	if err != nil {
		return "", err
	}
	if p.cc[0], p.cc[1], err = p.dev.ComputeCapability(); err != nil {
		return "", err
	}
	sms, err := p.dev.Attribute(cuda.AttrMultiprocessorCount)
	if err != nil {
		return "", err
	}
	bus, err := p.dev.PCIBusID()
	if err != nil {
		return "", err
	}
	if err := p.dev.PrimaryCtxSetFlags(cuda.CtxSchedSpin); err != nil {
		return "", err
	}
	if p.ctx, err = p.dev.PrimaryCtxRetain(); err != nil {
		return "", err
	}
	if err := p.ctx.SetCurrent(); err != nil {
		return "", err
	}
	free, _, err := cuda.MemGetInfo()
	if err != nil {
		return "", err
	}
	least, greatest, err := cuda.StreamPriorityRange()
	if err != nil {
		return "", err
	}
	if p.exec, err = cuda.NewStream(cuda.StreamNonBlocking, 0); err != nil {
		return "", err
	}
	if p.weights, err = cuda.NewStream(cuda.StreamNonBlocking, 0); err != nil {
		return "", err
	}
	if p.spin, err = startSpinner(p.ctx, p.opt.spinCPU); err != nil {
		return "", err
	}
	p.gpuErr = nil
	return fmt.Sprintf("GPU%d %s, cc %d.%d, %d SMs, %.1f GiB (%.1f free), PCI %s, stream priorities %d..%d, spin-wait context",
		p.opt.device, name, p.cc[0], p.cc[1], sms, gib(total), gib(free), bus, least, greatest), nil
}

func gib(n uint64) float64 { return float64(n) / (1 << 30) }

// nvmlDevice finds the CUDA device in NVML by PCI address and reports what
// `profile` checks and the worker reports.
func (p *probe) nvmlDevice() (string, error) {
	if err := need(p.gpuErr, p.nvmlLib); err != nil {
		return "", err
	}
	bus, err := p.dev.PCIBusID()
	if err != nil {
		return "", err
	}
	d, err := cuda.NVMLDeviceByPCIBusID(bus)
	if err != nil {
		p.nvmlErr = err
		return "", err
	}
	p.nvml, p.nvmlErr = d, nil
	var parts []string
	add := func(format string, v any, err error) {
		if err != nil {
			var ce *cuda.Error
			if errors.As(err, &ce) && ce.Code == cuda.NVMLErrorNotSupported {
				err = errors.New("not supported")
			}
			format, v = strings.Fields(format)[0]+" %v", err
		}
		parts = append(parts, fmt.Sprintf(format, v))
	}
	name, err := d.Name()
	add("%v", name, err)
	sm, err := d.Clock(cuda.ClockSM)
	add("SM clock %v MHz", sm, err)
	maxSM, err := d.MaxClock(cuda.ClockSM)
	add("max %v MHz", maxSM, err)
	app, err := d.ApplicationsClock(cuda.ClockSM)
	add("applications-clock %v MHz", app, err)
	pm, err := d.PersistenceMode()
	add("persistence %v", pm, err)
	cm, err := d.ComputeMode()
	add("compute mode %v", cm, err)
	w, err := d.PCIeLinkWidth()
	add("PCIe x%v", w, err)
	major, minor, err := d.ComputeCapability()
	add("cc %v", fmt.Sprintf("%d.%d", major, minor), err)
	cpus, err := d.CPUAffinity()
	add("CPUs %v", affinity.FormatList(cpus), err)
	return strings.Join(parts, ", "), nil
}

// smClock is the SM clock in MHz, or 0 without NVML.
func (p *probe) smClock() uint32 {
	if p.nvmlErr != nil {
		return 0
	}
	mhz, _ := p.nvml.Clock(cuda.ClockSM)
	return mhz
}

func (p *probe) pageAddr(i int) cuda.DevicePtr { return p.cache.Add(uint64(i) * pageSize) }

// setupCache allocates the weights cache, the workspaces and pinned host
// memory, and puts the test network's weights in page pageA.
func (p *probe) setupCache() (string, error) {
	if err := need(p.gpuErr); err != nil {
		return "", err
	}
	var err error
	if p.cache, err = cuda.MemAlloc(cachePage * pageSize); err != nil {
		return "", err
	}
	if p.ws, err = cuda.MemAlloc(wsSize); err != nil {
		return "", err
	}
	if p.blasWS, err = cuda.MemAlloc(blasWSSize); err != nil {
		return "", err
	}
	if p.pinned, err = cuda.MemHostAlloc(transferBytes, cuda.HostAllocPortable); err != nil {
		return "", err
	}
	fill(p.pinned.Float32s(), 7, 1)
	if p.model, err = newModel(); err != nil {
		return "", err
	}
	if err := p.model.upload(p, pageA); err != nil {
		return "", err
	}
	p.cacheErr = nil
	return fmt.Sprintf("cuMemAlloc 1 GiB at %#x = %d pages of 16 MiB; cuMemHostAlloc %d MB pinned; model weights %d bytes in page %d",
		uint64(p.cache), cachePage, transferBytes/1000000, p.model.bytes, pageA), nil
}

// setupBLAS creates the cuBLAS handle on the exec stream with its own
// workspace and TF32 off unless -tf32.
func (p *probe) setupBLAS() (string, error) {
	if err := need(p.gpuErr, p.cacheErr, p.blasLib); err != nil {
		return "", err
	}
	h, err := cuda.NewBLAS()
	if err != nil {
		return "", err
	}
	v, err := h.Version()
	if err != nil {
		return "", err
	}
	math := cuda.BLASDefaultMath
	if p.opt.tf32 {
		math = cuda.BLASTF32Math
	}
	// SetStream resets the workspace: set it after.
	for _, err := range []error{h.SetStream(p.exec), h.SetWorkspace(p.blasWS, blasWSSize), h.SetMathMode(math)} {
		if err != nil {
			return "", err
		}
	}
	p.blas, p.blasErr = h, nil
	return fmt.Sprintf("cuBLAS %d, 32 MiB workspace, math mode %d", v, math), nil
}

// setupDNN creates the cuDNN handle on the exec stream and the
// descriptors of the test layer.
func (p *probe) setupDNN() (string, error) {
	if err := need(p.gpuErr, p.cacheErr, p.dnnLib); err != nil {
		return "", err
	}
	h, err := cuda.NewDNN()
	if err != nil {
		return "", err
	}
	if err := h.SetStream(p.exec); err != nil {
		return "", err
	}
	if p.layer, err = newDNNLayer(p.opt.tf32); err != nil {
		return "", err
	}
	p.dnn, p.dnnErr = h, nil
	return fmt.Sprintf("cuDNN %d handle on the exec stream; conv math %v", cuda.CUDNNVersion(), p.layer.math), nil
}

// tolerance is the largest relative error accepted from the GPU.
func (p *probe) tolerance() float64 {
	if p.opt.tf32 {
		return 1e-2
	}
	return 1e-4
}
