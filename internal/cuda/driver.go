//go:build linux && cgo

package cuda

/*
#include "driver.h"

#cgo noescape cw_cuDriverGetVersion
#cgo nocallback cw_cuDriverGetVersion
#cgo noescape cw_cuGetErrorName
#cgo nocallback cw_cuGetErrorName
#cgo noescape cw_cuGetErrorString
#cgo nocallback cw_cuGetErrorString
#cgo noescape cw_cuDeviceGetCount
#cgo nocallback cw_cuDeviceGetCount
#cgo noescape cw_cuDeviceGet
#cgo nocallback cw_cuDeviceGet
#cgo noescape cw_cuDeviceGetName
#cgo nocallback cw_cuDeviceGetName
#cgo noescape cw_cuDeviceGetAttribute
#cgo nocallback cw_cuDeviceGetAttribute
#cgo noescape cw_cuDeviceTotalMem
#cgo nocallback cw_cuDeviceTotalMem
#cgo noescape cw_cuDevicePrimaryCtxRetain
#cgo nocallback cw_cuDevicePrimaryCtxRetain
#cgo noescape cw_cuCtxGetCurrent
#cgo nocallback cw_cuCtxGetCurrent
#cgo noescape cw_cuCtxGetStreamPriorityRange
#cgo nocallback cw_cuCtxGetStreamPriorityRange
#cgo noescape cw_cuMemGetInfo
#cgo nocallback cw_cuMemGetInfo
*/
import "C"

import (
	"fmt"
	"unsafe"
)

var driver = loader{spec: libSpec{
	names: []string{"libcuda.so.1"},
	table: func() (*C.cw_sym, C.int) { return C.cw_driver_syms(), C.cw_driver_nsyms() },
}}

// LoadDriver opens the CUDA driver library, libcuda.so.1. It does not
// initialise the driver (see Init).
func LoadDriver() (*Library, error) { return driver.load() }

// errNotReady is CUDA_ERROR_NOT_READY, the answer of an event or stream
// query for work still in flight.
const errNotReady = 600

func drvCheck(fn string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	return drvError(fn, rc)
}

func drvError(fn string, rc C.int) error {
	if rc == C.CW_NOSYM {
		return driver.noSymbol(fn)
	}
	var name, desc *C.char
	C.cw_cuGetErrorName(rc, &name)
	C.cw_cuGetErrorString(rc, &desc)
	msg := fmt.Sprintf("CUDA error %d", int(rc))
	if name != nil {
		msg = C.GoString(name)
	}
	if desc != nil {
		msg += ": " + C.GoString(desc)
	}
	return &Error{Func: fn, Code: int(rc), Msg: msg, driver: true}
}

// Init initialises the driver (cuInit). It must precede every other call
// but LoadDriver and DriverVersion.
func Init() error { return drvCheck("cuInit", C.cw_cuInit(0)) }

// DriverVersion is the CUDA version the driver supports, e.g. 13000.
func DriverVersion() (int, error) {
	var v C.int
	return int(v), drvCheck("cuDriverGetVersion", C.cw_cuDriverGetVersion(&v))
}

// DeviceCount is the number of CUDA devices.
func DeviceCount() (int, error) {
	var n C.int
	return int(n), drvCheck("cuDeviceGetCount", C.cw_cuDeviceGetCount(&n))
}

// Device is a CUDA device (CUdevice).
type Device int32

// GetDevice returns the device of the given ordinal.
func GetDevice(ordinal int) (Device, error) {
	var d C.int
	return Device(d), drvCheck("cuDeviceGet", C.cw_cuDeviceGet(&d, C.int(ordinal)))
}

// Name is the device's product name.
func (d Device) Name() (string, error) {
	var buf [256]C.char
	if err := drvCheck("cuDeviceGetName", C.cw_cuDeviceGetName(&buf[0], C.int(len(buf)), C.int(d))); err != nil {
		return "", err
	}
	return C.GoString(&buf[0]), nil
}

// DeviceAttribute is a CUdevice_attribute.
type DeviceAttribute int32

// Device attributes used by this project.
const (
	AttrMaxThreadsPerBlock      DeviceAttribute = 1
	AttrMultiprocessorCount     DeviceAttribute = 16
	AttrCanMapHostMemory        DeviceAttribute = 19
	AttrPCIBusID                DeviceAttribute = 33
	AttrPCIDeviceID             DeviceAttribute = 34
	AttrAsyncEngineCount        DeviceAttribute = 40
	AttrUnifiedAddressing       DeviceAttribute = 41
	AttrPCIDomainID             DeviceAttribute = 50
	AttrComputeCapabilityMajor  DeviceAttribute = 75
	AttrComputeCapabilityMinor  DeviceAttribute = 76
	AttrStreamPrioritiesSupport DeviceAttribute = 78
	AttrVirtualMemoryManagement DeviceAttribute = 102
)

// Attribute returns one attribute of the device.
func (d Device) Attribute(a DeviceAttribute) (int, error) {
	var v C.int
	return int(v), drvCheck("cuDeviceGetAttribute", C.cw_cuDeviceGetAttribute(&v, C.int(a), C.int(d)))
}

// ComputeCapability returns the device's compute capability, e.g. 9, 0.
func (d Device) ComputeCapability() (major, minor int, err error) {
	if major, err = d.Attribute(AttrComputeCapabilityMajor); err != nil {
		return 0, 0, err
	}
	minor, err = d.Attribute(AttrComputeCapabilityMinor)
	return major, minor, err
}

// PCIBusID is the device's PCI address, "domain:bus:device.0" in hex, the
// key that maps a CUDA device to its NVML device.
func (d Device) PCIBusID() (string, error) {
	var v [3]int
	for i, a := range []DeviceAttribute{AttrPCIDomainID, AttrPCIBusID, AttrPCIDeviceID} {
		var err error
		if v[i], err = d.Attribute(a); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%08x:%02x:%02x.0", v[0], v[1], v[2]), nil
}

// TotalMem is the device's memory in bytes.
func (d Device) TotalMem() (uint64, error) {
	var n C.size_t
	return uint64(n), drvCheck("cuDeviceTotalMem", C.cw_cuDeviceTotalMem(&n, C.int(d)))
}

// CtxFlags are context creation flags (CU_CTX_*).
type CtxFlags uint32

// Scheduling flags: how a thread waiting for the GPU behaves.
const (
	CtxSchedAuto         CtxFlags = 0
	CtxSchedSpin         CtxFlags = 1
	CtxSchedYield        CtxFlags = 2
	CtxSchedBlockingSync CtxFlags = 4
)

// PrimaryCtxSetFlags sets the flags of the device's primary context; call
// it before PrimaryCtxRetain.
func (d Device) PrimaryCtxSetFlags(f CtxFlags) error {
	return drvCheck("cuDevicePrimaryCtxSetFlags", C.cw_cuDevicePrimaryCtxSetFlags(C.int(d), C.uint(f)))
}

// PrimaryCtxRetain returns the device's primary context, the one cuDNN and
// cuBLAS use, creating it on first use.
func (d Device) PrimaryCtxRetain() (Context, error) {
	var c unsafe.Pointer
	err := drvCheck("cuDevicePrimaryCtxRetain", C.cw_cuDevicePrimaryCtxRetain(&c, C.int(d)))
	return Context{c}, err
}

// PrimaryCtxRelease releases one PrimaryCtxRetain.
func (d Device) PrimaryCtxRelease() error {
	return drvCheck("cuDevicePrimaryCtxRelease", C.cw_cuDevicePrimaryCtxRelease(C.int(d)))
}

// Context is a CUDA context (CUcontext).
type Context struct{ p unsafe.Pointer }

// SetCurrent makes c the calling OS thread's current context. A goroutine
// that calls CUDA must be locked to its thread (runtime.LockOSThread).
func (c Context) SetCurrent() error { return drvCheck("cuCtxSetCurrent", C.cw_cuCtxSetCurrent(c.p)) }

// CurrentContext returns the calling thread's current context.
func CurrentContext() (Context, error) {
	var c unsafe.Pointer
	err := drvCheck("cuCtxGetCurrent", C.cw_cuCtxGetCurrent(&c))
	return Context{c}, err
}

// SetCurrentCtxFlags sets the flags of the current context (cuCtxSetFlags,
// CUDA 12.1 and later).
func SetCurrentCtxFlags(f CtxFlags) error {
	return drvCheck("cuCtxSetFlags", C.cw_cuCtxSetFlags(C.uint(f)))
}

// CtxSynchronize waits for all work of the current context.
func CtxSynchronize() error { return drvCheck("cuCtxSynchronize", C.cw_cuCtxSynchronize()) }

// StreamPriorityRange returns the current context's stream priorities; the
// greatest priority is numerically the lowest.
func StreamPriorityRange() (least, greatest int, err error) {
	var l, g C.int
	err = drvCheck("cuCtxGetStreamPriorityRange", C.cw_cuCtxGetStreamPriorityRange(&l, &g))
	return int(l), int(g), err
}

// MemGetInfo returns the free and total memory of the current context's
// device.
func MemGetInfo() (free, total uint64, err error) {
	var f, t C.size_t
	err = drvCheck("cuMemGetInfo", C.cw_cuMemGetInfo(&f, &t))
	return uint64(f), uint64(t), err
}
