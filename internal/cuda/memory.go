//go:build linux && cgo

package cuda

/*
#include "driver.h"

#cgo noescape cw_cuMemAlloc
#cgo nocallback cw_cuMemAlloc
#cgo noescape cw_cuMemHostAlloc
#cgo nocallback cw_cuMemHostAlloc
*/
import "C"

import "unsafe"

// DevicePtr is an address in device memory (CUdeviceptr).
type DevicePtr uint64

// Add returns p offset by off bytes.
func (p DevicePtr) Add(off uint64) DevicePtr { return p + DevicePtr(off) }

// MemAlloc allocates n bytes of device memory in the current context.
func MemAlloc(n uint64) (DevicePtr, error) {
	var p C.cw_dptr
	return DevicePtr(p), drvCheck("cuMemAlloc", C.cw_cuMemAlloc(&p, C.size_t(n)))
}

// MemFree frees memory from MemAlloc.
func MemFree(p DevicePtr) error { return drvCheck("cuMemFree", C.cw_cuMemFree(C.cw_dptr(p))) }

// HostAllocFlags are cuMemHostAlloc flags.
type HostAllocFlags uint32

// Host allocation flags.
const (
	HostAllocPortable      HostAllocFlags = 1 // pinned for every context, not only the current one
	HostAllocDeviceMap     HostAllocFlags = 2 // mapped into the device address space
	HostAllocWriteCombined HostAllocFlags = 4 // fast to copy to the device, slow for the CPU to read
)

// HostMem is page-locked (pinned) host memory. Asynchronous copies must
// use it: the DMA engine reads and writes it after the call returns, so
// it can be neither Go memory nor pageable memory.
type HostMem struct {
	p unsafe.Pointer
	n int
}

// MemHostAlloc allocates n bytes of pinned host memory.
func MemHostAlloc(n int, flags HostAllocFlags) (*HostMem, error) {
	var p unsafe.Pointer
	if err := drvCheck("cuMemHostAlloc", C.cw_cuMemHostAlloc(&p, C.size_t(n), C.uint(flags))); err != nil {
		return nil, err
	}
	return &HostMem{p: p, n: n}, nil
}

// Len is the size in bytes.
func (h *HostMem) Len() int { return h.n }

// Bytes is the memory as a byte slice.
func (h *HostMem) Bytes() []byte { return unsafe.Slice((*byte)(h.p), h.n) }

// Float32s is the memory as float32s (pinned memory is page aligned).
func (h *HostMem) Float32s() []float32 { return unsafe.Slice((*float32)(h.p), h.n/4) }

// Ptr is the address of byte off, for the copy functions.
func (h *HostMem) Ptr(off int) unsafe.Pointer {
	if off < 0 || off > h.n {
		panic("cuda: HostMem offset out of range")
	}
	return unsafe.Add(h.p, off)
}

// Free releases the memory; h must not be used afterwards.
func (h *HostMem) Free() error {
	err := drvCheck("cuMemFreeHost", C.cw_cuMemFreeHost(h.p))
	h.p, h.n = nil, 0
	return err
}

// MemcpyHtoDAsync copies n bytes from pinned host memory (HostMem.Ptr) to
// the device on stream s.
func MemcpyHtoDAsync(dst DevicePtr, src unsafe.Pointer, n uint64, s Stream) error {
	return drvCheck("cuMemcpyHtoDAsync", C.cw_cuMemcpyHtoDAsync(C.cw_dptr(dst), src, C.size_t(n), s.p))
}

// MemcpyDtoHAsync copies n bytes from the device to pinned host memory
// (HostMem.Ptr) on stream s.
func MemcpyDtoHAsync(dst unsafe.Pointer, src DevicePtr, n uint64, s Stream) error {
	return drvCheck("cuMemcpyDtoHAsync", C.cw_cuMemcpyDtoHAsync(dst, C.cw_dptr(src), C.size_t(n), s.p))
}

// MemcpyDtoDAsync copies n bytes between device addresses on stream s.
func MemcpyDtoDAsync(dst, src DevicePtr, n uint64, s Stream) error {
	return drvCheck("cuMemcpyDtoDAsync", C.cw_cuMemcpyDtoDAsync(C.cw_dptr(dst), C.cw_dptr(src), C.size_t(n), s.p))
}

// MemsetD8Async sets n bytes to v on stream s.
func MemsetD8Async(dst DevicePtr, v uint8, n uint64, s Stream) error {
	return drvCheck("cuMemsetD8Async", C.cw_cuMemsetD8Async(C.cw_dptr(dst), C.uchar(v), C.size_t(n), s.p))
}

// MemsetD32Async sets n 32-bit words to v on stream s.
func MemsetD32Async(dst DevicePtr, v uint32, n uint64, s Stream) error {
	return drvCheck("cuMemsetD32Async", C.cw_cuMemsetD32Async(C.cw_dptr(dst), C.uint(v), C.size_t(n), s.p))
}
