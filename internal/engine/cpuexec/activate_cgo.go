//go:build cgo

package cpuexec

// #cgo noescape cw_activate
// #cgo nocallback cw_activate
// #cgo noescape cw_softmax
// #cgo nocallback cw_softmax
// #cgo noescape cw_affine
// #cgo nocallback cw_affine
// #cgo noescape cw_layernorm
// #cgo nocallback cw_layernorm
// #include "kernels.h"
import "C"

import (
	"fmt"
	"math"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// minCActivate is the shortest slice activate hands to C: below it the
// call costs more than Go's loop.
const minCActivate = 16

// activate applies act to v in place.
func activate(act engine.Activation, v []float32) { activateWith(cpuISA, act, v) }

func activateWith(set isa, act engine.Activation, v []float32) {
	code, a, b, ok := cActivation(act)
	if set == isaGo || !ok || len(v) < minCActivate {
		activateGo(act, v)
		return
	}
	C.cw_activate(C.int(set), code, C.float(a), C.float(b), cfloats(v), C.long(len(v)))
}

// affine writes x·s + t to y (as long; x may be y), as affineGo does.
func affine(x, y []float32, s, t float32) { affineWith(cpuISA, x, y, s, t) }

func affineWith(set isa, x, y []float32, s, t float32) {
	if set == isaGo || len(x) < minCActivate {
		affineGo(x, y, s, t)
		return
	}
	y = y[:len(x)] // C writes len(x) floats
	C.cw_affine(C.int(set), cfloats(x), cfloats(y), C.long(len(x)), C.float(s), C.float(t))
}

// layerNormRows normalises rows [lo, hi) of n floats as layerNormRowsGo
// does, with layernorm.c.
func layerNormRows(x, y, scale, bias []float32, n int, eps float64, lo, hi int) {
	layerNormRowsWith(cpuISA, x, y, scale, bias, n, eps, lo, hi)
}

func layerNormRowsWith(set isa, x, y, scale, bias []float32, n int, eps float64, lo, hi int) {
	if set == isaGo {
		layerNormRowsGo(x, y, scale, bias, n, eps, lo, hi)
		return
	}
	// C reads and writes without bounds checks: the spans are checked here.
	if lo < 0 || lo > hi || n < 1 || len(x) < hi*n || len(y) < hi*n || scale != nil && len(scale) < n || bias != nil && len(bias) < n {
		panic(fmt.Sprintf("cpuexec: layer norm rows %d to %d of %d from %d floats into %d, scale %d, bias %d",
			lo, hi, n, len(x), len(y), len(scale), len(bias)))
	}
	C.cw_layernorm(C.int(set), cfloats(x), cfloats(y), cfloats(scale), cfloats(bias), C.long(n), C.double(eps), C.long(lo), C.long(hi))
}

// softmaxRow writes the softmax of x to y (as long), as softmaxRowGo does,
// with activate.c's exponentials and its sum in lanes.
func softmaxRow(x, y []float32) { softmaxRowWith(cpuISA, x, y) }

func softmaxRowWith(set isa, x, y []float32) {
	if set == isaGo || len(x) < minCActivate {
		softmaxRowGo(x, y)
		return
	}
	y = y[:len(x)] // C writes len(x) floats
	C.cw_softmax(C.int(set), cfloats(x), cfloats(y), C.long(len(x)))
}

// cActivation is act as activate.c names it, if it computes it.
func cActivation(act engine.Activation) (code C.int, a, b float32, ok bool) {
	switch act.Kind {
	case engine.ActRelu:
		return C.CW_ACT_CLIP, 0, float32(math.Inf(1)), true
	case engine.ActClip:
		return C.CW_ACT_CLIP, act.Min, act.Max, true
	case engine.ActSigmoid:
		return C.CW_ACT_SIGMOID, 0, 0, true
	case engine.ActSilu:
		return C.CW_ACT_SILU, 0, 0, true
	case engine.ActHardSigmoid:
		return C.CW_ACT_HARD_SIGMOID, act.Alpha, act.Beta, true
	case engine.ActHardSwish:
		return C.CW_ACT_HARD_SWISH, act.Alpha, act.Beta, true
	case engine.ActErf:
		return C.CW_ACT_ERF, 0, 0, true
	case engine.ActGelu:
		return C.CW_ACT_GELU, 0, 0, true
	case engine.ActExp:
		return C.CW_ACT_EXP, 0, 0, true
	}
	return 0, 0, 0, false
}
