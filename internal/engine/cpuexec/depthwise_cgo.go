//go:build cgo

package cpuexec

// #cgo noescape cw_depthwise_plane
// #cgo nocallback cw_depthwise_plane
// #include "kernels.h"
import "C"

import "fmt"

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
	g := C.struct_cw_depthwise{
		h: C.long(k.h), w: C.long(k.w), oh: C.long(k.oh), ow: C.long(k.ow),
		kh: C.long(o.KernelH), kw: C.long(o.KernelW), sh: C.long(o.StrideH), sw: C.long(o.StrideW),
		dh: C.long(o.DilationH), dw: C.long(o.DilationW), pt: C.long(o.PadTop), pl: C.long(o.PadLeft),
		lo: C.long(d.lo), hi: C.long(d.hi),
	}
	C.cw_depthwise_plane(C.int(set), &g, cfloats(src), cfloats(w), C.float(b), cfloats(z), cfloats(dst))
}
