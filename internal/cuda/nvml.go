//go:build linux && cgo

package cuda

/*
#include <stdlib.h>
#include "nvml.h"

#cgo noescape cw_nvmlSystemGetDriverVersion
#cgo nocallback cw_nvmlSystemGetDriverVersion
#cgo noescape cw_nvmlDeviceGetCount
#cgo nocallback cw_nvmlDeviceGetCount
#cgo noescape cw_nvmlDeviceGetHandleByIndex
#cgo nocallback cw_nvmlDeviceGetHandleByIndex
#cgo noescape cw_nvmlDeviceGetHandleByPciBusId
#cgo nocallback cw_nvmlDeviceGetHandleByPciBusId
#cgo noescape cw_nvmlDeviceGetName
#cgo nocallback cw_nvmlDeviceGetName
#cgo noescape cw_nvmlDeviceGetClockInfo
#cgo nocallback cw_nvmlDeviceGetClockInfo
#cgo noescape cw_nvmlDeviceGetMaxClockInfo
#cgo nocallback cw_nvmlDeviceGetMaxClockInfo
#cgo noescape cw_nvmlDeviceGetApplicationsClock
#cgo nocallback cw_nvmlDeviceGetApplicationsClock
#cgo noescape cw_nvmlDeviceGetPersistenceMode
#cgo nocallback cw_nvmlDeviceGetPersistenceMode
#cgo noescape cw_nvmlDeviceGetComputeMode
#cgo nocallback cw_nvmlDeviceGetComputeMode
#cgo noescape cw_nvmlDeviceGetCurrPcieLinkWidth
#cgo nocallback cw_nvmlDeviceGetCurrPcieLinkWidth
#cgo noescape cw_nvmlDeviceGetCudaComputeCapability
#cgo nocallback cw_nvmlDeviceGetCudaComputeCapability
#cgo noescape cw_nvmlDeviceGetMemoryInfo
#cgo nocallback cw_nvmlDeviceGetMemoryInfo
#cgo noescape cw_nvmlDeviceGetCpuAffinity
#cgo nocallback cw_nvmlDeviceGetCpuAffinity
*/
import "C"

import (
	"fmt"
	"math/bits"
	"unsafe"
)

var nvml = loader{spec: libSpec{
	names: []string{"libnvidia-ml.so.1"},
	table: func() (*C.cw_sym, C.int) { return C.cw_nvml_syms(), C.cw_nvml_nsyms() },
}}

// LoadNVML opens NVML, the management library that ships with the driver.
func LoadNVML() (*Library, error) { return nvml.load() }

// NVMLErrorNotSupported is the Code of an NVML query the device does not
// support.
const NVMLErrorNotSupported = 3

func nvmlCheck(fn string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	if rc == C.CW_NOSYM {
		return nvml.noSymbol(fn)
	}
	msg := fmt.Sprintf("NVML error %d", int(rc))
	if s := C.cw_nvmlErrorString(rc); s != nil {
		msg = C.GoString(s)
	}
	return &Error{Func: fn, Code: int(rc), Msg: msg}
}

// NVMLInit initialises NVML (nvmlInit_v2).
func NVMLInit() error { return nvmlCheck("nvmlInit", C.cw_nvmlInit()) }

// NVMLShutdown releases NVML.
func NVMLShutdown() error { return nvmlCheck("nvmlShutdown", C.cw_nvmlShutdown()) }

// NVMLDriverVersion is the driver's version, e.g. "580.82.07".
func NVMLDriverVersion() (string, error) {
	var buf [96]C.char
	err := nvmlCheck("nvmlSystemGetDriverVersion", C.cw_nvmlSystemGetDriverVersion(&buf[0], C.uint(len(buf))))
	return C.GoString(&buf[0]), err
}

// NVMLDeviceCount is the number of GPUs NVML sees, which CUDA may order
// differently (see NVMLDeviceByPCIBusID).
func NVMLDeviceCount() (int, error) {
	var n C.uint
	return int(n), nvmlCheck("nvmlDeviceGetCount", C.cw_nvmlDeviceGetCount(&n))
}

// NVMLDevice is an NVML device handle.
type NVMLDevice struct{ p unsafe.Pointer }

// NVMLDeviceByIndex returns NVML's device i.
func NVMLDeviceByIndex(i int) (NVMLDevice, error) {
	var d unsafe.Pointer
	err := nvmlCheck("nvmlDeviceGetHandleByIndex", C.cw_nvmlDeviceGetHandleByIndex(C.uint(i), &d))
	return NVMLDevice{d}, err
}

// NVMLDeviceByPCIBusID returns the device at a PCI address such as
// "00000000:3B:00.0" (see Device.PCIBusID).
func NVMLDeviceByPCIBusID(id string) (NVMLDevice, error) {
	cid := C.CString(id)
	defer C.free(unsafe.Pointer(cid))
	var d unsafe.Pointer
	err := nvmlCheck("nvmlDeviceGetHandleByPciBusId", C.cw_nvmlDeviceGetHandleByPciBusId(cid, &d))
	return NVMLDevice{d}, err
}

// Name is the device's product name.
func (d NVMLDevice) Name() (string, error) {
	var buf [96]C.char
	err := nvmlCheck("nvmlDeviceGetName", C.cw_nvmlDeviceGetName(d.p, &buf[0], C.uint(len(buf))))
	return C.GoString(&buf[0]), err
}

// ClockType is an nvmlClockType_t.
type ClockType int32

// Clock domains.
const (
	ClockGraphics ClockType = 0
	ClockSM       ClockType = 1
	ClockMem      ClockType = 2
	ClockVideo    ClockType = 3
)

// Clock is the current clock of a domain in MHz.
func (d NVMLDevice) Clock(t ClockType) (uint32, error) {
	var mhz C.uint
	return uint32(mhz), nvmlCheck("nvmlDeviceGetClockInfo", C.cw_nvmlDeviceGetClockInfo(d.p, C.int(t), &mhz))
}

// MaxClock is the highest clock of a domain in MHz.
func (d NVMLDevice) MaxClock(t ClockType) (uint32, error) {
	var mhz C.uint
	return uint32(mhz), nvmlCheck("nvmlDeviceGetMaxClockInfo", C.cw_nvmlDeviceGetMaxClockInfo(d.p, C.int(t), &mhz))
}

// ApplicationsClock is the clock set with nvidia-smi -ac, in MHz
// (deprecated by NVIDIA in CUDA 13; may be unsupported).
func (d NVMLDevice) ApplicationsClock(t ClockType) (uint32, error) {
	var mhz C.uint
	return uint32(mhz), nvmlCheck("nvmlDeviceGetApplicationsClock",
		C.cw_nvmlDeviceGetApplicationsClock(d.p, C.int(t), &mhz))
}

// PersistenceMode reports whether the driver stays loaded with no client
// (nvidia-smi -pm 1).
func (d NVMLDevice) PersistenceMode() (bool, error) {
	var m C.int
	err := nvmlCheck("nvmlDeviceGetPersistenceMode", C.cw_nvmlDeviceGetPersistenceMode(d.p, &m))
	return m == 1, err
}

// ComputeMode is an nvmlComputeMode_t.
type ComputeMode int32

// Compute modes.
const (
	ComputeDefault          ComputeMode = 0
	ComputeExclusiveThread  ComputeMode = 1
	ComputeProhibited       ComputeMode = 2
	ComputeExclusiveProcess ComputeMode = 3
)

var computeModeNames = [...]string{"Default", "Exclusive_Thread", "Prohibited", "Exclusive_Process"}

func (m ComputeMode) String() string {
	if m >= 0 && int(m) < len(computeModeNames) {
		return computeModeNames[m]
	}
	return fmt.Sprintf("compute mode %d", int32(m))
}

// ComputeMode is the device's compute mode (nvidia-smi -c).
func (d NVMLDevice) ComputeMode() (ComputeMode, error) {
	var m C.int
	err := nvmlCheck("nvmlDeviceGetComputeMode", C.cw_nvmlDeviceGetComputeMode(d.p, &m))
	return ComputeMode(m), err
}

// PCIeLinkWidth is the current PCIe link width (lanes).
func (d NVMLDevice) PCIeLinkWidth() (int, error) {
	var w C.uint
	return int(w), nvmlCheck("nvmlDeviceGetCurrPcieLinkWidth", C.cw_nvmlDeviceGetCurrPcieLinkWidth(d.p, &w))
}

// ComputeCapability is the device's CUDA compute capability.
func (d NVMLDevice) ComputeCapability() (major, minor int, err error) {
	var ma, mi C.int
	err = nvmlCheck("nvmlDeviceGetCudaComputeCapability", C.cw_nvmlDeviceGetCudaComputeCapability(d.p, &ma, &mi))
	return int(ma), int(mi), err
}

// Memory returns the device's total, free and used memory in bytes.
func (d NVMLDevice) Memory() (total, free, used uint64, err error) {
	var m C.cw_nvml_memory
	err = nvmlCheck("nvmlDeviceGetMemoryInfo", C.cw_nvmlDeviceGetMemoryInfo(d.p, &m))
	return uint64(m.total), uint64(m.free), uint64(m.used), err
}

// CPUAffinity lists the CPUs close to the device (its NUMA node), as
// NVML reports them for up to 1024 CPUs.
func (d NVMLDevice) CPUAffinity() ([]int, error) {
	var set [1024 / 64]C.ulong
	if err := nvmlCheck("nvmlDeviceGetCpuAffinity",
		C.cw_nvmlDeviceGetCpuAffinity(d.p, C.uint(len(set)), &set[0])); err != nil {
		return nil, err
	}
	var cpus []int
	for i, w := range set {
		for w != 0 {
			b := bits.TrailingZeros64(uint64(w))
			cpus = append(cpus, i*64+b)
			w &^= 1 << b
		}
	}
	return cpus, nil
}
