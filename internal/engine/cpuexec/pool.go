package cpuexec

import (
	"fmt"
	"math"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// poolKernel pools one (image, channel) plane per unit.
type poolKernel struct {
	op                   *engine.Pool
	planes, h, w, oh, ow int
}

func newPool(o *engine.Pool) (kernel, error) {
	x, y := o.X.Shape, o.Y.Shape
	if len(x) != 4 || len(y) != 4 || x[0] != y[0] || x[1] != y[1] || o.KernelH < 1 || o.KernelW < 1 ||
		o.StrideH < 1 || o.StrideW < 1 || o.DilationH < 1 || o.DilationW < 1 {
		return nil, fmt.Errorf("bad shapes X%v Y%v", x, y)
	}
	return &poolKernel{op: o, planes: x[0] * x[1], h: x[2], w: x[3], oh: y[2], ow: y[3]}, nil
}

func (k *poolKernel) run(mem *memory, part, parts int, _ []float32) {
	o := k.op
	x, y := mem.f32(o.X), mem.f32(o.Y)
	lo, hi := span(k.planes, part, parts)
	for u := lo; u < hi; u++ {
		src := x[u*k.h*k.w:][:k.h*k.w]
		dst := y[u*k.oh*k.ow:][:k.oh*k.ow]
		for oh := range k.oh {
			h0 := oh*o.StrideH - o.PadTop
			for ow := range k.ow {
				w0 := ow*o.StrideW - o.PadLeft
				acc := float32(0)
				if o.Mode == engine.PoolMax {
					acc = float32(math.Inf(-1))
				}
				khLo, khHi := window(h0, o.KernelH, o.DilationH, k.h)
				kwLo, kwHi := window(w0, o.KernelW, o.DilationW, k.w)
				for kh := khLo; kh < khHi; kh++ {
					row := src[(h0+kh*o.DilationH)*k.w:][:k.w]
					for kw := kwLo; kw < kwHi; kw++ {
						v := row[w0+kw*o.DilationW]
						if o.Mode == engine.PoolMax {
							acc = max(acc, v)
						} else {
							acc += v
						}
					}
				}
				if o.Mode == engine.PoolAvg {
					div := (khHi - khLo) * (kwHi - kwLo)
					if o.CountIncludePad {
						div = count(h0+o.PadTop, o.KernelH, o.DilationH, k.h+o.PadTop+o.PadBottom) *
							count(w0+o.PadLeft, o.KernelW, o.DilationW, k.w+o.PadLeft+o.PadRight)
					}
					if div > 0 {
						acc /= float32(div)
					}
				}
				dst[oh*k.ow+ow] = acc
			}
		}
	}
}

// window is the range [lo, hi) of kernel indices i < k whose positions
// start + i·dil fall inside [0, n).
func window(start, k, dil, n int) (lo, hi int) {
	if start < 0 {
		lo = (-start + dil - 1) / dil
	}
	if start >= n {
		return 0, 0
	}
	hi = min(k, (n-1-start)/dil+1)
	return min(lo, hi), hi
}

// count is the number of kernel positions start + i·dil inside [0, n).
func count(start, k, dil, n int) int {
	lo, hi := window(start, k, dil, n)
	return hi - lo
}

// gapKernel averages one (image, channel) plane per unit.
type gapKernel struct {
	op           *engine.GlobalAvgPool
	planes, size int
}

func newGlobalAvgPool(o *engine.GlobalAvgPool) (kernel, error) {
	x := o.X.Shape
	if len(x) < 3 || o.Y.Elems() != x[0]*x[1] {
		return nil, fmt.Errorf("bad shapes X%v Y%v", x, o.Y.Shape)
	}
	return &gapKernel{op: o, planes: x[0] * x[1], size: o.X.Elems() / max(1, x[0]*x[1])}, nil
}

func (k *gapKernel) run(mem *memory, part, parts int, _ []float32) {
	x, y := mem.f32(k.op.X), mem.f32(k.op.Y)
	lo, hi := span(k.planes, part, parts)
	for u := lo; u < hi; u++ {
		var s float32
		for _, v := range x[u*k.size:][:k.size] {
			s += v
		}
		y[u] = s / float32(k.size)
	}
}
