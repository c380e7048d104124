//go:build cgo

package cpuexec

// #cgo noescape cw_depthwise
// #cgo nocallback cw_depthwise
// #cgo noescape cw_pool
// #cgo nocallback cw_pool
// #cgo noescape cw_global_pool
// #cgo nocallback cw_global_pool
// #cgo noescape cw_im2col_panels
// #cgo nocallback cw_im2col_panels
// #include "kernels.h"
import "C"

import (
	"fmt"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// window is p's geometry as the C kernels take it.
func (p *phases) window() C.struct_cw_window {
	return C.struct_cw_window{
		h: C.long(p.h), w: C.long(p.w), oh: C.long(p.oh), ow: C.long(p.ow),
		kh: C.long(p.kh), kw: C.long(p.kw), sh: C.long(p.sh), sw: C.long(p.sw),
		dh: C.long(p.dh), dw: C.long(p.dw), pt: C.long(p.pt), pl: C.long(p.pl),
		hs: C.long(p.hs), ws: C.long(p.ws),
	}
}

// window is k's geometry as the C kernels take it (im2col.c, which lays
// out no phases).
func (k *convKernel) window() C.struct_cw_window {
	o := k.op
	p := phases{h: k.h, w: k.w, oh: k.oh, ow: k.ow, kh: o.KernelH, kw: o.KernelW, sh: o.StrideH, sw: o.StrideW,
		dh: o.DilationH, dw: o.DilationW, pt: o.PadTop, pl: o.PadLeft}
	return p.window()
}

// im2colWork is the floats of work im2colPanel needs for up to np
// positions: a channel's input rows, padded as the window sees them.
func (k *convKernel) im2colWork(np int) int {
	g := k.window()
	return int(C.cw_im2col_work(&g, C.long(np)))
}

// im2colPanel writes the patches of positions [p0, p0+np) packed as
// packB packs them, with im2col.c straight into panel; work holds
// im2colWork(np) floats.
func (k *convKernel) im2colPanel(xg, work, panel []float32, p0, np int) {
	k.im2colPanelWith(cpuISA, xg, work, panel, p0, np)
}

// im2colPanelWith is im2colPanel on instruction set set; for isaGo (the
// tests' reference), with im2colGo into work, which then holds kdim·np
// floats, and packed.
func (k *convKernel) im2colPanelWith(set isa, xg, work, panel []float32, p0, np int) {
	if set == isaGo {
		k.im2colGo(xg, work, p0, np)
		packBWith(set, k.kdim, np, work, np, panel)
		return
	}
	// C reads and writes without bounds checks: the spans are checked here
	// (work's by C, against its geometry).
	if len(xg) < k.cg*k.h*k.w || len(panel) < panelFloats(k.kdim, np) || p0 < 0 || np < 0 || p0+np > k.p {
		panic(fmt.Sprintf("cpuexec: im2col of positions %d+%d of %d from %d floats into a panel of %d (%d channels of %d×%d, %d rows)",
			p0, np, k.p, len(xg), len(panel), k.cg, k.h, k.w, k.kdim))
	}
	if np == 0 {
		return
	}
	g := k.window()
	if C.cw_im2col_panels(C.int(set), &g, C.long(k.cg), cfloats(xg), cfloats(panel), C.long(p0), C.long(np),
		cfloats(work), C.long(len(work))) != 0 {
		panic(fmt.Sprintf("cpuexec: im2col of %d positions with %d floats of work (%d channels of %d×%d)",
			np, len(work), k.cg, k.h, k.w))
	}
}

// planes writes output rows [r0, r1) of the planes of units [lo, hi) as
// planesGo does, in one call of depthwise.c with their activation where
// activate.c computes it.
func (d *depthwiseKernel) planes(x, w, bias, z, y, work []float32, lo, hi, r0, r1 int) {
	d.planesWith(cpuISA, x, w, bias, z, y, work, lo, hi, r0, r1)
}

func (d *depthwiseKernel) planesWith(set isa, x, w, bias, z, y, work []float32, lo, hi, r0, r1 int) {
	k := d.conv
	o := k.op
	if set == isaGo {
		d.planesGo(x, w, bias, z, y, work, lo, hi, r0, r1)
		return
	}
	code, a, b, inC := cActivation(o.Act)
	if !inC {
		code = C.CW_ACT_NONE
	}
	// C reads and writes without bounds checks: the spans are checked here.
	if lo < 0 || lo > hi || r0 < 0 || r0 > r1 || r1 > k.oh || len(x) < hi*k.h*k.w || len(w) < k.m*o.KernelH*o.KernelW ||
		bias != nil && len(bias) < k.m || z != nil && len(z) < hi*k.p || len(y) < hi*k.p || len(work) < d.cFloats(d.band) {
		panic(fmt.Sprintf("cpuexec: depthwise planes %d to %d rows %d to %d of %d, %d, %d, %d, %d, %d floats for %d channels of %d×%d → %d×%d by %d×%d",
			lo, hi, r0, r1, len(x), len(w), len(bias), len(z), len(y), len(work), k.m, k.h, k.w, k.oh, k.ow, o.KernelH, o.KernelW))
	}
	if lo == hi || r0 == r1 {
		return
	}
	g := d.window()
	C.cw_depthwise(C.int(set), &g, C.long(k.m), C.long(d.band), C.long(d.tw), cfloats(x), cfloats(w), cfloats(bias),
		cfloats(z), cfloats(y), cfloats(work), C.long(lo), C.long(hi), C.long(r0), C.long(r1), code, C.float(a), C.float(b))
	if !inC && o.Act.Kind != engine.ActNone {
		for u := lo; u < hi; u++ {
			activateGo(o.Act, y[u*k.p+r0*k.ow:][:(r1-r0)*k.ow])
		}
	}
}

// phasePlanes pools the planes of units [lo, hi) as planesGo does, with
// depthwise.c, bit for bit: Go's max is exact in any order, and an
// average's sum adds the window's values in Go's order (NaN's payload
// aside: which of two NaNs a sum keeps is the compiler's choice).
func (k *poolKernel) phasePlanes(x, y, work []float32, lo, hi int) {
	k.phasePlanesWith(cpuISA, x, y, work, lo, hi)
}

func (k *poolKernel) phasePlanesWith(set isa, x, y, work []float32, lo, hi int) {
	if set == isaGo {
		k.planesGo(x, y, lo, hi)
		return
	}
	// C reads and writes without bounds checks: the spans are checked here.
	if lo < 0 || lo > hi || len(x) < hi*k.h*k.w || len(y) < hi*k.oh*k.ow || len(work) < k.work() ||
		k.div != nil && len(k.div) != k.oh*k.ow {
		panic(fmt.Sprintf("cpuexec: pool planes %d to %d of %d, %d, %d floats for %d×%d → %d×%d",
			lo, hi, len(x), len(y), len(work), k.h, k.w, k.oh, k.ow))
	}
	g := k.ph.window()
	C.cw_pool(C.int(set), &g, clongs(k.ph.taps), cfloats(k.div), cfloats(x), cfloats(y), cfloats(work), C.long(lo), C.long(hi))
}

// pool writes the pools of x's planes [lo, hi) to y as planesGo does, with
// globalpool.c, bit for bit.
func (k *gapKernel) pool(x, y []float32, lo, hi int) { k.poolWith(cpuISA, x, y, lo, hi) }

func (k *gapKernel) poolWith(set isa, x, y []float32, lo, hi int) {
	if set == isaGo {
		k.planesGo(x, y, lo, hi)
		return
	}
	// C reads and writes without bounds checks: the spans are checked here.
	if lo < 0 || lo > hi || k.size < 1 || len(x) < hi*k.size || len(y) < hi {
		panic(fmt.Sprintf("cpuexec: global pool of planes %d to %d of %d floats from %d into %d", lo, hi, k.size, len(x), len(y)))
	}
	mode := C.CW_GLOBAL_AVG
	switch k.op.Mode {
	case engine.PoolSum:
		mode = C.CW_GLOBAL_SUM
	case engine.PoolMax:
		mode = C.CW_GLOBAL_MAX
	}
	C.cw_global_pool(C.int(set), C.int(mode), cfloats(x), cfloats(y), C.long(k.size), C.long(lo), C.long(hi))
}
