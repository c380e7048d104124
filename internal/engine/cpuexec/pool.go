package cpuexec

import (
	"fmt"
	"math"
	"slices"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// poolKernel pools one (image, channel) plane per unit. Where the phases
// fit (newPhases), a pool runs over its input laid out in them
// (depthwise.c): a max pool's padding -inf, an average pool's +0, which
// changes no sum Go's loop makes (it starts from +0, so no sum is ever -0,
// and x + 0 is x for every other x), each output then divided by its
// window's count.
type poolKernel struct {
	op                   *engine.Pool
	planes, h, w, oh, ow int
	ph                   *phases   // nil but for pools whose phases fit
	div                  []float32 // an average pool's divisor at each output position (1 for none)
}

func newPool(o *engine.Pool) (kernel, int, error) {
	x, y := o.X.Shape, o.Y.Shape
	if len(x) != 4 || len(y) != 4 || x[0] != y[0] || x[1] != y[1] || o.KernelH < 1 || o.KernelW < 1 ||
		o.StrideH < 1 || o.StrideW < 1 || o.DilationH < 1 || o.DilationW < 1 {
		return nil, 0, fmt.Errorf("bad shapes X%v Y%v", x, y)
	}
	k := &poolKernel{op: o, planes: x[0] * x[1], h: x[2], w: x[3], oh: y[2], ow: y[3]}
	if (o.Mode == engine.PoolMax || o.Mode == engine.PoolAvg) && k.oh > 0 && k.ow > 0 && o.PadTop >= 0 && o.PadLeft >= 0 {
		if p := newPhases(k.h, k.w, k.oh, k.ow, o.KernelH, o.KernelW, o.StrideH, o.StrideW, o.DilationH, o.DilationW,
			o.PadTop, o.PadLeft); p != nil {
			k.ph = p
			if o.Mode == engine.PoolAvg {
				k.div = make([]float32, k.oh*k.ow)
				for oh := range k.oh {
					for ow := range k.ow {
						k.div[oh*k.ow+ow] = float32(max(1, k.divisor(oh, ow)))
					}
				}
			}
			return k, k.work(), nil
		}
	}
	return k, 0, nil
}

// work is the floats of scratch a run over the phases takes: theirs, and a
// max pool's keys (depthwise.c: ints that order the floats as Go's max
// does, one integer maximum a tap), as many as the phases and a vector.
func (k *poolKernel) work() int {
	if k.div != nil {
		return k.ph.work()
	}
	return k.ph.work() + k.ph.size() + slack
}

func (k *poolKernel) run(mem *memory, part, parts int, s *scratch) {
	x, y := mem.f32(k.op.X), mem.f32(k.op.Y)
	lo, hi := span(k.planes, part, parts)
	if k.ph != nil {
		k.phasePlanes(x, y, s.buf[:k.work()], lo, hi)
		return
	}
	k.planesGo(x, y, lo, hi)
}

// planesGo pools the planes of units [lo, hi) of x into y, window by
// window.
func (k *poolKernel) planesGo(x, y []float32, lo, hi int) {
	o := k.op
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
					if div := k.divisor(oh, ow); div > 0 {
						acc /= float32(div)
					}
				}
				dst[oh*k.ow+ow] = acc
			}
		}
	}
}

// divisor is the count an average pool divides output (oh, ow) by: its
// window's positions inside the input, or inside the padded input where
// the pool counts the padding; 0 for none.
func (k *poolKernel) divisor(oh, ow int) int {
	o := k.op
	h0, w0 := oh*o.StrideH-o.PadTop, ow*o.StrideW-o.PadLeft
	if o.CountIncludePad {
		return count(h0+o.PadTop, o.KernelH, o.DilationH, k.h+o.PadTop+o.PadBottom) *
			count(w0+o.PadLeft, o.KernelW, o.DilationW, k.w+o.PadLeft+o.PadRight)
	}
	return count(h0, o.KernelH, o.DilationH, k.h) * count(w0, o.KernelW, o.DilationW, k.w)
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

// gapKernel averages, sums or takes the maximum of one (image, channel)
// plane per unit. A sum adds the plane in sixteen lanes, as
// globalpool.c's vectors do.
type gapKernel struct {
	op           *engine.GlobalPool
	planes, size int
}

func newGlobalPool(o *engine.GlobalPool) (kernel, error) {
	x := o.X.Shape
	if len(x) < 3 || o.Y.Elems() != x[0]*x[1] || o.X.Elems() == 0 {
		return nil, fmt.Errorf("bad shapes X%v Y%v", x, o.Y.Shape)
	}
	return &gapKernel{op: o, planes: x[0] * x[1], size: o.X.Elems() / max(1, x[0]*x[1])}, nil
}

func (k *gapKernel) run(mem *memory, part, parts int, _ *scratch) {
	lo, hi := span(k.planes, part, parts)
	k.pool(mem.f32(k.op.X), mem.f32(k.op.Y), lo, hi)
}

// planesGo writes the mean, sum or maximum of x's planes [lo, hi) to y.
func (k *gapKernel) planesGo(x, y []float32, lo, hi int) {
	for u := lo; u < hi; u++ {
		plane := x[u*k.size:][:k.size]
		if k.op.Mode == engine.PoolMax {
			y[u] = slices.Max(plane)
			continue
		}
		var acc [16]float32
		for j, v := range plane {
			acc[j%16] += v
		}
		// The lanes folded in halves: i + (i+8), then i + (i+4), i + (i+2), 0 + 1.
		s := (((acc[0] + acc[8]) + (acc[4] + acc[12])) + ((acc[2] + acc[10]) + (acc[6] + acc[14]))) +
			(((acc[1] + acc[9]) + (acc[5] + acc[13])) + ((acc[3] + acc[11]) + (acc[7] + acc[15])))
		if k.op.Mode == engine.PoolSum {
			y[u] = s
			continue
		}
		y[u] = s / float32(k.size)
	}
}

// resizeKernel resizes one plane per unit by the op's table.
type resizeKernel struct {
	op                   *engine.Resize
	planes, h, w, oh, ow int
}

func newResize(o *engine.Resize) (kernel, error) {
	x, y := o.X.Shape, o.Y.Shape
	if len(x) != 4 || len(y) != 4 || x[0] != y[0] || x[1] != y[1] || o.Table.Elems() != 3*(y[2]+y[3]) {
		return nil, fmt.Errorf("resize of X%v into Y%v with a table of %d", x, y, o.Table.Elems())
	}
	return &resizeKernel{op: o, planes: x[0] * x[1], h: x[2], w: x[3], oh: y[2], ow: y[3]}, nil
}

// run clamps the table's indices, so that no table reads outside a plane.
func (k *resizeKernel) run(mem *memory, part, parts int, _ *scratch) {
	x, y, t := mem.f32(k.op.X), mem.f32(k.op.Y), mem.f32(k.op.Table)
	rows, cols := t[:3*k.oh], t[3*k.oh:]
	idx := func(v float32, n int) int { return min(max(int(v), 0), n-1) }
	lo, hi := span(k.planes, part, parts)
	for p := lo; p < hi; p++ {
		xp, yp := x[p*k.h*k.w:][:k.h*k.w], y[p*k.oh*k.ow:][:k.oh*k.ow]
		for oy := range k.oh {
			r0, r1, wy := idx(rows[3*oy], k.h)*k.w, idx(rows[3*oy+1], k.h)*k.w, rows[3*oy+2]
			for ox := range k.ow {
				c0, c1, wx := idx(cols[3*ox], k.w), idx(cols[3*ox+1], k.w), cols[3*ox+2]
				yp[oy*k.ow+ox] = lerp(lerp(xp[r0+c0], xp[r0+c1], wx), lerp(xp[r1+c0], xp[r1+c1], wx), wy)
			}
		}
	}
}

// lerp is a·(1 − w) + b·w, and a itself for w = 0 (so that nearest
// resizing copies its element, infinities included).
func lerp(a, b, w float32) float32 {
	if w == 0 {
		return a
	}
	return a*(1-w) + b*w
}
