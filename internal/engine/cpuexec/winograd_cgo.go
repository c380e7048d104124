//go:build cgo

package cpuexec

// #cgo noescape cw_winograd_work
// #cgo nocallback cw_winograd_work
// #cgo noescape cw_winograd_filters
// #cgo nocallback cw_winograd_filters
// #cgo noescape cw_winograd_input
// #cgo nocallback cw_winograd_input
// #cgo noescape cw_winograd_output
// #cgo nocallback cw_winograd_output
// #include "kernels.h"
import "C"

import "fmt"

// winogradFiltersOf writes the transforms of filters [f0, f1) of w to u as
// winogradFiltersGo does, with winograd.c.
func winogradFiltersOf(mc int, w, u []float32, f0, f1 int) {
	winogradFiltersWith(cpuISA, mc, w, u, f0, f1)
}

func winogradFiltersWith(set isa, mc int, w, u []float32, f0, f1 int) {
	if set == isaGo {
		winogradFiltersGo(mc, w, u, f0, f1)
		return
	}
	// C reads and writes without bounds checks: the spans are checked here.
	if f0 < 0 || f0 > f1 || f1 > mc || len(w) < 9*mc || len(u) < 16*mc {
		panic(fmt.Sprintf("cpuexec: Winograd filters %d to %d of %d from %d floats into %d", f0, f1, mc, len(w), len(u)))
	}
	if f0 < f1 {
		C.cw_winograd_filters(C.int(set), C.long(mc), cfloats(w), cfloats(u), C.long(f0), C.long(f1))
	}
}

// input writes the transformed patches of tiles [t0, t0+nt) of x's planes
// to v as inputGo does, with winograd.c.
func (w *winogradKernel) input(x, v []float32, ld, t0, nt int, work []float32) {
	w.inputWith(cpuISA, x, v, ld, t0, nt, work)
}

func (w *winogradKernel) inputWith(set isa, x, v []float32, ld, t0, nt int, work []float32) {
	if set == isaGo {
		w.inputGo(x, v, ld, t0, nt, work)
		return
	}
	k := w.conv
	if t0 < 0 || nt < 0 || t0+nt > w.tiles || ld < nt+winogradSlack || len(x) < k.c*k.h*k.w || len(v) < (16*k.c-1)*ld+nt+winogradSlack ||
		len(work) < int(C.cw_winograd_work(C.long(w.tw), C.long(nt))) {
		panic(fmt.Sprintf("cpuexec: Winograd input of tiles %d+%d of %d from %d floats into %d, work %d (%d channels of %d×%d)",
			t0, nt, w.tiles, len(x), len(v), len(work), k.c, k.h, k.w))
	}
	if nt > 0 {
		g := k.window()
		C.cw_winograd_input(C.int(set), &g, C.long(k.c), C.long(w.tw), cfloats(x), cfloats(v), C.long(ld), C.long(t0),
			C.long(nt), cfloats(work))
	}
}

// output writes the outputs of tiles [t0, t0+nt) of m channels to y as
// outputGo does, with winograd.c.
func (w *winogradKernel) output(m int, mo []float32, ld int, bias, z, y []float32, t0, nt int, work []float32) {
	w.outputWith(cpuISA, m, mo, ld, bias, z, y, t0, nt, work)
}

func (w *winogradKernel) outputWith(set isa, m int, mo []float32, ld int, bias, z, y []float32, t0, nt int, work []float32) {
	if set == isaGo {
		w.outputGo(m, mo, ld, bias, z, y, t0, nt, work)
		return
	}
	k := w.conv
	o := k.op
	if m < 0 || m > k.m || t0 < 0 || nt < 0 || t0+nt > w.tiles || ld < nt+winogradSlack || len(mo) < (16*m-1)*ld+nt+winogradSlack ||
		bias != nil && len(bias) < m || z != nil && len(z) < m*k.p || len(y) < m*k.p ||
		len(work) < int(C.cw_winograd_work(C.long(w.tw), C.long(nt))) {
		panic(fmt.Sprintf("cpuexec: Winograd output of tiles %d+%d of %d from %d floats (bias %d, Z %d) into %d, work %d (%d channels of %d×%d)",
			t0, nt, w.tiles, len(mo), len(bias), len(z), len(y), len(work), m, k.oh, k.ow))
	}
	if nt == 0 || m == 0 {
		return
	}
	e := epilogueOf(o.Act)
	code, a, b := e.cActivation()
	g := k.window()
	C.cw_winograd_output(C.int(set), &g, C.long(m), C.long(w.tw), cfloats(mo), C.long(ld), cfloats(bias), cfloats(z),
		cfloats(y), C.long(t0), C.long(nt), C.float(e.lo), C.float(e.hi), code, C.float(a), C.float(b), cfloats(work))
	if !e.inGo() {
		return
	}
	for t := t0; t < t0+nt; {
		ty, tx := t/w.tw, t%w.tw
		n := min(w.tw-tx, t0+nt-t)
		x0, x1 := 2*tx, min(2*(tx+n), k.ow)
		for ch := range m {
			e.activateGo(min(2, k.oh-2*ty), x1-x0, y[(ch*k.oh+2*ty)*k.ow+x0:], k.ow)
		}
		t += n
	}
}
