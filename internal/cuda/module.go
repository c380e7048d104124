//go:build linux && cgo

package cuda

/*
#include <stdlib.h>
#include "driver.h"

#cgo noescape cw_cuModuleLoadData
#cgo nocallback cw_cuModuleLoadData
#cgo noescape cw_cuModuleGetFunction
#cgo nocallback cw_cuModuleGetFunction
#cgo noescape cw_launch
#cgo nocallback cw_launch
*/
import "C"

import (
	"errors"
	"math"
	"unsafe"
)

// Module is a loaded CUDA module (CUmodule).
type Module struct{ p unsafe.Pointer }

// ModuleLoadData loads a cubin, or NUL-terminated PTX, into the current
// context.
func ModuleLoadData(image []byte) (Module, error) {
	if len(image) == 0 {
		return Module{}, errors.New("cuda: cuModuleLoadData: empty image")
	}
	var m unsafe.Pointer
	err := drvCheck("cuModuleLoadData", C.cw_cuModuleLoadData(&m, unsafe.Pointer(&image[0])))
	return Module{m}, err
}

// Function returns the kernel called name (declare it extern "C").
func (m Module) Function(name string) (Function, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var f unsafe.Pointer
	err := drvCheck("cuModuleGetFunction", C.cw_cuModuleGetFunction(&f, m.p, cname))
	return Function{f}, err
}

// Unload unloads the module.
func (m Module) Unload() error { return drvCheck("cuModuleUnload", C.cw_cuModuleUnload(m.p)) }

// Function is a kernel (CUfunction).
type Function struct{ p unsafe.Pointer }

// Dim3 is a grid or block size.
type Dim3 struct{ X, Y, Z uint32 }

// KernelArgs holds a kernel's arguments, in the order of its parameter
// list. Reuse one with Reset to launch without allocating.
type KernelArgs struct {
	buf     []byte
	offsets []C.uint
}

// Reset empties a.
func (a *KernelArgs) Reset() { a.buf, a.offsets = a.buf[:0], a.offsets[:0] }

func (a *KernelArgs) put(v uint64, size int) *KernelArgs {
	for len(a.buf)%size != 0 {
		a.buf = append(a.buf, 0)
	}
	a.offsets = append(a.offsets, C.uint(len(a.buf)))
	for i := range size {
		a.buf = append(a.buf, byte(v>>(8*i)))
	}
	return a
}

// Ptr appends a device pointer argument.
func (a *KernelArgs) Ptr(p DevicePtr) *KernelArgs { return a.put(uint64(p), 8) }

// Int32 appends an int argument.
func (a *KernelArgs) Int32(v int32) *KernelArgs { return a.put(uint64(uint32(v)), 4) }

// Uint32 appends an unsigned int argument.
func (a *KernelArgs) Uint32(v uint32) *KernelArgs { return a.put(uint64(v), 4) }

// Int64 appends a long long argument.
func (a *KernelArgs) Int64(v int64) *KernelArgs { return a.put(uint64(v), 8) }

// Float32 appends a float argument.
func (a *KernelArgs) Float32(v float32) *KernelArgs { return a.put(uint64(math.Float32bits(v)), 4) }

// Bytes appends an argument passed by value as raw bytes, such as a
// struct, aligned to align bytes (the struct's alignment, a power of 2).
func (a *KernelArgs) Bytes(b []byte, align int) *KernelArgs {
	for len(a.buf)%align != 0 {
		a.buf = append(a.buf, 0)
	}
	a.offsets = append(a.offsets, C.uint(len(a.buf)))
	a.buf = append(a.buf, b...)
	return a
}

// Launch queues the kernel on s. The arguments are copied at launch (or
// into the graph being captured), so a may be reused at once. The kernel
// image gives each argument's size: a must match its parameter list.
func (f Function) Launch(grid, block Dim3, sharedMem uint32, s Stream, a *KernelArgs) error {
	var args *C.char
	var offsets *C.uint
	if len(a.offsets) > 0 {
		args, offsets = (*C.char)(unsafe.Pointer(&a.buf[0])), &a.offsets[0]
	}
	return drvCheck("cuLaunchKernel", C.cw_launch(f.p,
		C.uint(grid.X), C.uint(grid.Y), C.uint(grid.Z), C.uint(block.X), C.uint(block.Y), C.uint(block.Z),
		C.uint(sharedMem), s.p, args, offsets, C.int(len(a.offsets))))
}
