//go:build cgo

package cpuexec

// // -lm: layernorm.c's sqrt is the instruction, but for a negative
// // argument the compiler calls libm's, which sets errno.
// #cgo CFLAGS: -O3
// #cgo LDFLAGS: -lm
// #include "kernels.h"
import "C"

import "fmt"

// An isa is an instruction set the C kernels (sgemm.c, activate.c) are
// compiled for, or isaGo: gonum's GEMM and the Go loops instead.
type isa int

const (
	isaGo     isa = -1
	isaBase   isa = C.CW_ISA_BASE
	isaAVX2   isa = C.CW_ISA_AVX2
	isaAVX512 isa = C.CW_ISA_AVX512
	numISAs   isa = C.CW_ISAS
)

// cpuISA is the instruction set the kernels run: the widest the CPU has.
var cpuISA = isa(C.cw_isa_best())

func (i isa) String() string {
	if i == isaGo {
		return "go"
	}
	if s := C.GoString(C.cw_isa_name(C.int(i))); s != "" {
		return s
	}
	return fmt.Sprintf("isa(%d)", int(i))
}

// Kernels names the instruction set the executor's kernels run: "avx512",
// "avx2", "base" (the compiler's baseline vectors) or "go" (built without
// cgo).
func Kernels() string { return cpuISA.String() }

// supported says whether the CPU runs i.
func (i isa) supported() bool {
	return i == isaGo || i >= 0 && i < numISAs && C.cw_isa_supported(C.int(i)) != 0
}
