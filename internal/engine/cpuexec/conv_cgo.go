//go:build cgo

package cpuexec

// #cgo noescape cw_depthwise_plane
// #cgo nocallback cw_depthwise_plane
// #cgo noescape cw_im2col
// #cgo nocallback cw_im2col
// #include "kernels.h"
import "C"

import "fmt"

// window is k's geometry as the C kernels take it; lo and hi bound the
// output columns whose taps all read inside (for depthwise planes).
func (k *convKernel) window(lo, hi int) C.struct_cw_window {
	o := k.op
	return C.struct_cw_window{
		h: C.long(k.h), w: C.long(k.w), oh: C.long(k.oh), ow: C.long(k.ow),
		kh: C.long(o.KernelH), kw: C.long(o.KernelW), sh: C.long(o.StrideH), sw: C.long(o.StrideW),
		dh: C.long(o.DilationH), dw: C.long(o.DilationW), pt: C.long(o.PadTop), pl: C.long(o.PadLeft),
		lo: C.long(lo), hi: C.long(hi),
	}
}

// im2col writes patches as im2colGo does, with im2col.c.
func (k *convKernel) im2col(xg, cols []float32, p0, np int) { k.im2colWith(cpuISA, xg, cols, p0, np) }

func (k *convKernel) im2colWith(set isa, xg, cols []float32, p0, np int) {
	if set == isaGo {
		k.im2colGo(xg, cols, p0, np)
		return
	}
	// C reads and writes without bounds checks: the spans are checked here.
	if len(xg) < k.cg*k.h*k.w || len(cols) < k.kdim*np || p0 < 0 || np < 0 || p0+np > k.p {
		panic(fmt.Sprintf("cpuexec: im2col of positions %d+%d of %d from %d floats into %d (%d channels of %d×%d, %d rows)",
			p0, np, k.p, len(xg), len(cols), k.cg, k.h, k.w, k.kdim))
	}
	if np == 0 {
		return
	}
	g := k.window(0, 0)
	C.cw_im2col(C.int(set), &g, C.long(k.cg), cfloats(xg), cfloats(cols), C.long(p0), C.long(np))
}

// plane writes one output plane as planeGo does, with depthwise.c.
func (d *depthwiseKernel) plane(src, w []float32, b float32, z, dst []float32) {
	d.planeWith(cpuISA, src, w, b, z, dst)
}

func (d *depthwiseKernel) planeWith(set isa, src, w []float32, b float32, z, dst []float32) {
	if set == isaGo {
		d.planeGo(src, w, b, z, dst)
		return
	}
	k := d.conv
	o := k.op
	// C reads and writes without bounds checks: the spans are checked here.
	if len(src) < k.h*k.w || len(w) < o.KernelH*o.KernelW || len(dst) < k.p || z != nil && len(z) < k.p {
		panic(fmt.Sprintf("cpuexec: depthwise plane of %d, %d, %d, %d floats for %d×%d → %d×%d by %d×%d",
			len(src), len(w), len(z), len(dst), k.h, k.w, k.oh, k.ow, o.KernelH, o.KernelW))
	}
	g := k.window(d.lo, d.hi)
	C.cw_depthwise_plane(C.int(set), &g, cfloats(src), cfloats(w), C.float(b), cfloats(z), cfloats(dst))
}
