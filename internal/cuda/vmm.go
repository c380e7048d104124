//go:build linux && cgo

package cuda

/*
#include "driver.h"

#cgo noescape cw_cuMemGetAllocationGranularity
#cgo nocallback cw_cuMemGetAllocationGranularity
#cgo noescape cw_cuMemCreate
#cgo nocallback cw_cuMemCreate
#cgo noescape cw_cuMemAddressReserve
#cgo nocallback cw_cuMemAddressReserve
#cgo noescape cw_cuMemSetAccess
#cgo nocallback cw_cuMemSetAccess
*/
import "C"

// Virtual memory management: physical allocations (MemCreate) mapped at
// addresses reserved beforehand (MemAddressReserve, MemMap), so that the
// same address can be backed by different memory over time. The CUDA
// runtime maps a model's weights pages at a fixed address per graph set:
// a graph captured once reads whichever pages are mapped there.

// MemHandle is a physical allocation on a device
// (CUmemGenericAllocationHandle).
type MemHandle uint64

func deviceProp(d Device) C.cw_mem_prop {
	return C.cw_mem_prop{_type: 1, location: C.cw_mem_location{_type: 1, id: C.int(d)}}
}

// AllocationGranularity is the granularity of MemCreate, MemMap and
// MemAddressReserve sizes and addresses on device d (2 MiB on Hopper).
func AllocationGranularity(d Device) (uint64, error) {
	prop := deviceProp(d)
	var g C.size_t
	err := drvCheck("cuMemGetAllocationGranularity", C.cw_cuMemGetAllocationGranularity(&g, &prop, 0))
	return uint64(g), err
}

// MemCreate allocates n bytes of device d's memory, not yet mapped
// anywhere; n is a multiple of AllocationGranularity.
func MemCreate(d Device, n uint64) (MemHandle, error) {
	prop := deviceProp(d)
	var h C.ulonglong
	err := drvCheck("cuMemCreate", C.cw_cuMemCreate(&h, C.size_t(n), &prop, 0))
	return MemHandle(h), err
}

// Release frees the allocation once it is no longer mapped.
func (h MemHandle) Release() error {
	return drvCheck("cuMemRelease", C.cw_cuMemRelease(C.ulonglong(h)))
}

// MemAddressReserve reserves n bytes of the device address space,
// aligned to the granularity; nothing backs them until MemMap.
func MemAddressReserve(n uint64) (DevicePtr, error) {
	var p C.cw_dptr
	err := drvCheck("cuMemAddressReserve", C.cw_cuMemAddressReserve(&p, C.size_t(n), 0, 0, 0))
	return DevicePtr(p), err
}

// MemAddressFree returns a reservation; it must be unmapped.
func MemAddressFree(p DevicePtr, n uint64) error {
	return drvCheck("cuMemAddressFree", C.cw_cuMemAddressFree(C.cw_dptr(p), C.size_t(n)))
}

// MemMap backs the n reserved bytes at p with the whole of allocation h
// (of n bytes). The range is not accessible until MemSetAccess.
func MemMap(p DevicePtr, n uint64, h MemHandle) error {
	return drvCheck("cuMemMap", C.cw_cuMemMap(C.cw_dptr(p), C.size_t(n), 0, C.ulonglong(h), 0))
}

// MemUnmap removes the mappings of the n bytes at p, which must cover
// whole mappings; the range stays reserved. It does not wait for work
// in flight that reads the range: the caller must.
func MemUnmap(p DevicePtr, n uint64) error {
	return drvCheck("cuMemUnmap", C.cw_cuMemUnmap(C.cw_dptr(p), C.size_t(n)))
}

// MemSetAccess makes the mapped n bytes at p readable and writable by
// device d.
func MemSetAccess(p DevicePtr, n uint64, d Device) error {
	desc := C.cw_mem_access{location: C.cw_mem_location{_type: 1, id: C.int(d)}, flags: 3}
	return drvCheck("cuMemSetAccess", C.cw_cuMemSetAccess(C.cw_dptr(p), C.size_t(n), &desc, 1))
}
