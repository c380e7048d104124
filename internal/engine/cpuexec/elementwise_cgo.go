//go:build cgo

package cpuexec

// #cgo noescape cw_binary
// #cgo nocallback cw_binary
// #include "kernels.h"
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// The dims and strides of a Binary op go to C as they are: Go's int is C's
// long on every platform this builds for (LP64).
var _ [unsafe.Sizeof(C.long(0)) - unsafe.Sizeof(0)]struct{}
var _ [unsafe.Sizeof(0) - unsafe.Sizeof(C.long(0))]struct{}

// binary writes A op B for units [lo, hi), in elementwise.c's loops.
func (k *binaryKernel) binary(a, b, y []float32, lo, hi int) { k.binaryWith(cpuISA, a, b, y, lo, hi) }

func (k *binaryKernel) binaryWith(set isa, a, b, y []float32, lo, hi int) {
	if set == isaGo {
		k.binaryGo(a, b, y, lo, hi)
		return
	}
	o := k.op
	// C reads without bounds checks: newBinary checked the strides against
	// the tensors' sizes, this the buffers and the units.
	if len(a) < o.A.Elems() || len(b) < o.B.Elems() || len(y) < k.rows*k.inner || lo < 0 || hi > k.rows*k.nChunks {
		panic(fmt.Sprintf("cpuexec: binary over units [%d, %d) of %d beyond its operands (%d, %d, %d floats)",
			lo, hi, k.rows*k.nChunks, len(a), len(b), len(y)))
	}
	C.cw_binary(C.int(set), cBinaryOps[o.Op], C.long(len(o.Dims)), clongs(o.Dims), clongs(o.StrideA), clongs(o.StrideB),
		cfloats(a), cfloats(b), cfloats(y), C.long(k.inner), chunk, C.long(lo), C.long(hi))
}

func clongs(v []int) *C.long { return (*C.long)(unsafe.Pointer(unsafe.SliceData(v))) }

// cBinaryOps names engine.BinaryOp's operators as elementwise.c does.
var cBinaryOps = [...]C.int{engine.Add: C.CW_ADD, engine.Mul: C.CW_MUL, engine.Sub: C.CW_SUB, engine.Div: C.CW_DIV,
	engine.Max: C.CW_MAX, engine.Min: C.CW_MIN}
