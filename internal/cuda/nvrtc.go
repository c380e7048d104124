//go:build linux && cgo

package cuda

/*
#include <stdlib.h>
#include "nvrtc.h"

#cgo noescape cw_nvrtcVersion
#cgo nocallback cw_nvrtcVersion
#cgo noescape cw_nvrtcCreateProgram
#cgo nocallback cw_nvrtcCreateProgram
#cgo noescape cw_nvrtcCompileProgram
#cgo nocallback cw_nvrtcCompileProgram
#cgo noescape cw_nvrtcGetProgramLogSize
#cgo nocallback cw_nvrtcGetProgramLogSize
#cgo noescape cw_nvrtcGetProgramLog
#cgo nocallback cw_nvrtcGetProgramLog
#cgo noescape cw_nvrtcGetCUBINSize
#cgo nocallback cw_nvrtcGetCUBINSize
#cgo noescape cw_nvrtcGetCUBIN
#cgo nocallback cw_nvrtcGetCUBIN
#cgo noescape cw_nvrtcGetPTXSize
#cgo nocallback cw_nvrtcGetPTXSize
#cgo noescape cw_nvrtcGetPTX
#cgo nocallback cw_nvrtcGetPTX
#cgo noescape cw_nvrtcDestroyProgram
#cgo nocallback cw_nvrtcDestroyProgram
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// NVRTC opens its builtins library (libnvrtc-builtins.so.<version>) at
// compile time; it lies next to libnvrtc.so.
var nvrtc = loader{spec: libSpec{
	names:    []string{"libnvrtc.so.13", "libnvrtc.so.12"},
	siblings: []string{"libnvrtc-builtins.so.*"},
	table:    func() (*C.cw_sym, C.int) { return C.cw_nvrtc_syms(), C.cw_nvrtc_nsyms() },
}}

// LoadNVRTC opens NVRTC, the runtime CUDA C++ compiler.
func LoadNVRTC() (*Library, error) { return nvrtc.load() }

func rtcCheck(fn string, rc C.int) error {
	if rc == 0 {
		return nil
	}
	if rc == C.CW_NOSYM {
		return nvrtc.noSymbol(fn)
	}
	msg := fmt.Sprintf("NVRTC result %d", int(rc))
	if s := C.cw_nvrtcGetErrorString(rc); s != nil {
		msg = C.GoString(s)
	}
	return &Error{Func: fn, Code: int(rc), Msg: msg}
}

// NVRTCVersion is NVRTC's version, e.g. 13, 0.
func NVRTCVersion() (major, minor int, err error) {
	var ma, mi C.int
	err = rtcCheck("nvrtcVersion", C.cw_nvrtcVersion(&ma, &mi))
	return int(ma), int(mi), err
}

// Program is an NVRTC program.
type Program struct{ p unsafe.Pointer }

// NewProgram creates a program from CUDA C++ source; name is used in
// messages.
func NewProgram(src, name string) (*Program, error) {
	csrc, cname := C.CString(src), C.CString(name)
	defer C.free(unsafe.Pointer(csrc))
	defer C.free(unsafe.Pointer(cname))
	var p unsafe.Pointer
	if err := rtcCheck("nvrtcCreateProgram", C.cw_nvrtcCreateProgram(&p, csrc, cname, 0, nil, nil)); err != nil {
		return nil, err
	}
	return &Program{p}, nil
}

// Compile compiles the program with nvcc-style options, e.g.
// "--gpu-architecture=sm_90". On failure the error holds the log.
func (p *Program) Compile(opts ...string) error {
	copts := make([]*C.char, len(opts)+1)
	for i, o := range opts {
		copts[i] = C.CString(o)
		defer C.free(unsafe.Pointer(copts[i]))
	}
	err := rtcCheck("nvrtcCompileProgram", C.cw_nvrtcCompileProgram(p.p, C.int(len(opts)), &copts[0]))
	if err != nil {
		if log, lerr := p.Log(); lerr == nil && log != "" {
			err.(*Error).Msg += "\n" + log
		}
	}
	return err
}

// Log is the compiler's log.
func (p *Program) Log() (string, error) {
	b, err := p.get("nvrtcGetProgramLog", func(n *C.size_t) C.int { return C.cw_nvrtcGetProgramLogSize(p.p, n) },
		func(b *C.char) C.int { return C.cw_nvrtcGetProgramLog(p.p, b) })
	if len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return string(b), err
}

// CUBIN is the compiled binary, for an sm_XY architecture.
func (p *Program) CUBIN() ([]byte, error) {
	return p.get("nvrtcGetCUBIN", func(n *C.size_t) C.int { return C.cw_nvrtcGetCUBINSize(p.p, n) },
		func(b *C.char) C.int { return C.cw_nvrtcGetCUBIN(p.p, b) })
}

// PTX is the compiled PTX, NUL-terminated as ModuleLoadData wants it.
func (p *Program) PTX() ([]byte, error) {
	return p.get("nvrtcGetPTX", func(n *C.size_t) C.int { return C.cw_nvrtcGetPTXSize(p.p, n) },
		func(b *C.char) C.int { return C.cw_nvrtcGetPTX(p.p, b) })
}

func (p *Program) get(fn string, size func(*C.size_t) C.int, get func(*C.char) C.int) ([]byte, error) {
	var n C.size_t
	if err := rtcCheck(fn+"Size", size(&n)); err != nil || n == 0 {
		return nil, err
	}
	b := make([]byte, n)
	if err := rtcCheck(fn, get((*C.char)(unsafe.Pointer(&b[0])))); err != nil {
		return nil, err
	}
	return b, nil
}

// Destroy releases the program.
func (p *Program) Destroy() error {
	return rtcCheck("nvrtcDestroyProgram", C.cw_nvrtcDestroyProgram(&p.p))
}

// CompileCUBIN compiles src for compute capability major.minor and returns
// the cubin. name is used in messages.
func CompileCUBIN(src, name string, major, minor int, opts ...string) ([]byte, error) {
	p, err := NewProgram(src, name)
	if err != nil {
		return nil, err
	}
	defer p.Destroy()
	arch := fmt.Sprintf("--gpu-architecture=sm_%d%d", major, minor)
	if err := p.Compile(append([]string{arch}, opts...)...); err != nil {
		return nil, err
	}
	return p.CUBIN()
}
