package cpuexec

import (
	"fmt"
	"math"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// chunk is the number of elements per unit of elementwise work.
const chunk = 16384

// binaryKernel computes a Binary op row by row over its merged dims: the
// last dim is the row, cut into chunks.
type binaryKernel struct {
	op                   *engine.Binary
	rows, inner, nChunks int
}

func newBinary(o *engine.Binary) (kernel, error) {
	d := o.Dims
	if len(d) == 0 || len(o.StrideA) != len(d) || len(o.StrideB) != len(d) || numElems(d) != o.Y.Elems() {
		return nil, fmt.Errorf("bad dims %v for Y%v", d, o.Y.Shape)
	}
	lastA, lastB := 0, 0
	for i, n := range d {
		if n < 1 || o.StrideA[i] < 0 || o.StrideB[i] < 0 {
			return nil, fmt.Errorf("bad dims %v", d)
		}
		lastA += (n - 1) * o.StrideA[i]
		lastB += (n - 1) * o.StrideB[i]
	}
	if lastA >= o.A.Elems() || lastB >= o.B.Elems() {
		return nil, fmt.Errorf("strides %v, %v overrun A%v or B%v", o.StrideA, o.StrideB, o.A.Shape, o.B.Shape)
	}
	inner := d[len(d)-1]
	k := &binaryKernel{op: o, rows: numElems(d[:len(d)-1]), inner: inner, nChunks: (inner + chunk - 1) / chunk}
	return k, nil
}

func numElems(d []int) int {
	n := 1
	for _, v := range d {
		n *= v
	}
	return n
}

func (k *binaryKernel) run(mem *memory, part, parts int, _ *scratch) {
	o := k.op
	a, b, y := mem.f32(o.A), mem.f32(o.B), mem.f32(o.Y)
	lo, hi := span(k.rows*k.nChunks, part, parts)
	if lo >= hi {
		return
	}
	k.binary(a, b, y, lo, hi)
	// Units follow one another in Y.
	activate(o.Act, y[k.start(lo):k.start(hi)])
}

// start is the index in Y of unit u's first element (Y's length for the
// unit past the last).
func (k *binaryKernel) start(u int) int { return u/k.nChunks*k.inner + u%k.nChunks*chunk }

// binaryGo writes A op B for units [lo, hi): binary, in Go.
func (k *binaryKernel) binaryGo(a, b, y []float32, lo, hi int) {
	o := k.op
	last := len(o.Dims) - 1
	sa, sb := o.StrideA[last], o.StrideB[last]
	for u := lo; u < hi; u++ {
		row, c := u/k.nChunks, u%k.nChunks
		// Offsets of the row's first element in A and B.
		ao, bo, r := 0, 0, row
		for d := last - 1; d >= 0; d-- {
			i := r % o.Dims[d]
			r /= o.Dims[d]
			ao += i * o.StrideA[d]
			bo += i * o.StrideB[d]
		}
		j0 := c * chunk
		n := min(chunk, k.inner-j0)
		out := y[row*k.inner+j0:][:n]
		ao += j0 * sa
		bo += j0 * sb
		switch {
		case o.Op == engine.Add && sa == 1 && sb == 1:
			av, bv := a[ao:][:n], b[bo:][:n]
			for j := range out {
				out[j] = av[j] + bv[j]
			}
		case o.Op == engine.Mul && sa == 1 && sb == 1:
			av, bv := a[ao:][:n], b[bo:][:n]
			for j := range out {
				out[j] = av[j] * bv[j]
			}
		case o.Op == engine.Add && sa == 1 && sb == 0:
			av, s := a[ao:][:n], b[bo]
			for j := range out {
				out[j] = av[j] + s
			}
		case o.Op == engine.Mul && sa == 1 && sb == 0:
			av, s := a[ao:][:n], b[bo]
			for j := range out {
				out[j] = av[j] * s
			}
		case o.Op == engine.Add && sa == 0 && sb == 1:
			s, bv := a[ao], b[bo:][:n]
			for j := range out {
				out[j] = s + bv[j]
			}
		case o.Op == engine.Mul && sa == 0 && sb == 1:
			s, bv := a[ao], b[bo:][:n]
			for j := range out {
				out[j] = s * bv[j]
			}
		default:
			for j := range out {
				out[j] = o.Op.Apply(a[ao+j*sa], b[bo+j*sb])
			}
		}
	}
}

// affineKernel scales and shifts one (image, channel) plane per unit.
type affineKernel struct {
	op                  *engine.Affine
	planes, chans, size int
}

func newAffine(o *engine.Affine) (kernel, error) {
	x := o.X.Shape
	if len(x) < 2 || o.Y.Elems() != o.X.Elems() || o.Scale.Elems() != x[1] || o.Shift.Elems() != x[1] {
		return nil, fmt.Errorf("bad shapes X%v Y%v scale%v shift%v", x, o.Y.Shape, o.Scale.Shape, o.Shift.Shape)
	}
	return &affineKernel{op: o, planes: x[0] * x[1], chans: x[1], size: numElems(x[2:])}, nil
}

func (k *affineKernel) run(mem *memory, part, parts int, _ *scratch) {
	o := k.op
	x, y, sc, sh := mem.f32(o.X), mem.f32(o.Y), mem.f32(o.Scale), mem.f32(o.Shift)
	lo, hi := span(k.planes, part, parts)
	for u := lo; u < hi; u++ {
		out := y[u*k.size:][:k.size]
		affine(x[u*k.size:][:k.size], out, sc[u%k.chans], sh[u%k.chans])
		activate(o.Act, out)
	}
}

// affineGo writes x·s + t to y (as long; x may be y), the product rounded
// before the sum (the conversion keeps Go from fusing them on arm64), as
// activate.c computes it.
func affineGo(x, y []float32, s, t float32) {
	y = y[:len(x)]
	for j, v := range x {
		y[j] = float32(v*s) + t
	}
}

// unaryKernel applies an activation (or none: a copy) in chunks.
type unaryKernel struct {
	x, y engine.TensorRef
	act  engine.Activation
	n    int
}

func newUnary(x, y engine.TensorRef, act engine.Activation) (kernel, error) {
	if x.Elems() != y.Elems() {
		return nil, fmt.Errorf("X%v and Y%v differ in size", x.Shape, y.Shape)
	}
	return &unaryKernel{x: x, y: y, act: act, n: x.Elems()}, nil
}

func (k *unaryKernel) run(mem *memory, part, parts int, _ *scratch) {
	x, y := mem.f32(k.x), mem.f32(k.y)
	lo, hi := span((k.n+chunk-1)/chunk, part, parts)
	for u := lo; u < hi; u++ {
		j0 := u * chunk
		out := y[j0:min(k.n, j0+chunk)]
		copy(out, x[j0:])
		activate(k.act, out)
	}
}

// concatKernel copies one (outer index, input) block per unit.
type concatKernel struct {
	op           *engine.Concat
	outer, inner int
	blocks       []int // elements per outer index of each input
	starts       []int // their offsets within an outer slice of Y
	yRow         int
}

func newConcat(o *engine.Concat) (kernel, error) {
	y := o.Y.Shape
	if o.Axis < 0 || o.Axis >= len(y) {
		return nil, fmt.Errorf("axis %d for Y%v", o.Axis, y)
	}
	k := &concatKernel{op: o, outer: numElems(y[:o.Axis]), inner: numElems(y[o.Axis+1:])}
	for _, x := range o.Xs {
		if len(x.Shape) != len(y) {
			return nil, fmt.Errorf("input %v for Y%v", x.Shape, y)
		}
		k.starts = append(k.starts, k.yRow)
		k.blocks = append(k.blocks, x.Shape[o.Axis]*k.inner)
		k.yRow += x.Shape[o.Axis] * k.inner
		if x.Elems() != k.outer*x.Shape[o.Axis]*k.inner {
			return nil, fmt.Errorf("input %v for Y%v", x.Shape, y)
		}
	}
	if k.yRow*k.outer != o.Y.Elems() {
		return nil, fmt.Errorf("inputs do not fill Y%v", y)
	}
	return k, nil
}

func (k *concatKernel) run(mem *memory, part, parts int, _ *scratch) {
	y := mem.f32(k.op.Y)
	n := len(k.op.Xs)
	lo, hi := span(k.outer*n, part, parts)
	for u := lo; u < hi; u++ {
		o, i := u/n, u%n
		b := k.blocks[i]
		x := mem.f32(k.op.Xs[i])
		copy(y[o*k.yRow+k.starts[i]:][:b], x[o*b:][:b])
	}
}

// padKernel writes one row of Y per unit: zeros, or X's row between
// zeros.
type padKernel struct {
	op                   *engine.Pad
	planes, h, w, oh, ow int
}

func newPad(o *engine.Pad) (kernel, error) {
	x, y := o.X.Shape, o.Y.Shape
	if len(x) != 4 || len(y) != 4 || x[0] != y[0] || x[1] != y[1] || min(o.Top, o.Left, o.Bottom, o.Right) < 0 ||
		y[2] != o.Top+x[2]+o.Bottom || y[3] != o.Left+x[3]+o.Right {
		return nil, fmt.Errorf("pad of X%v into Y%v by %d, %d, %d, %d", x, y, o.Top, o.Left, o.Bottom, o.Right)
	}
	return &padKernel{op: o, planes: x[0] * x[1], h: x[2], w: x[3], oh: y[2], ow: y[3]}, nil
}

func (k *padKernel) run(mem *memory, part, parts int, _ *scratch) {
	x, y := mem.f32(k.op.X), mem.f32(k.op.Y)
	lo, hi := span(k.planes*k.oh, part, parts)
	for u := lo; u < hi; u++ {
		p, oy := u/k.oh, u%k.oh
		row := y[u*k.ow:][:k.ow]
		clear(row)
		if iy := oy - k.op.Top; iy >= 0 && iy < k.h {
			copy(row[k.op.Left:], x[(p*k.h+iy)*k.w:][:k.w])
		}
	}
}

// softmaxKernel normalises one group per unit, accumulating in float64; a
// group that is a row goes to softmaxRow.
type softmaxKernel struct {
	op *engine.Softmax
}

func newSoftmax(o *engine.Softmax) (kernel, error) {
	if o.Outer < 0 || o.Len < 1 || o.Inner < 1 || o.Outer*o.Len*o.Inner != o.X.Elems() || o.X.Elems() != o.Y.Elems() {
		return nil, fmt.Errorf("bad geometry %d×%d×%d for X%v", o.Outer, o.Len, o.Inner, o.X.Shape)
	}
	return &softmaxKernel{op: o}, nil
}

func (k *softmaxKernel) run(mem *memory, part, parts int, _ *scratch) {
	o := k.op
	x, y := mem.f32(o.X), mem.f32(o.Y)
	lo, hi := span(o.Outer*o.Inner, part, parts)
	for u := lo; u < hi; u++ {
		base := u/o.Inner*o.Len*o.Inner + u%o.Inner
		if o.Inner == 1 && !o.Log {
			softmaxRow(x[base:][:o.Len], y[base:][:o.Len])
			continue
		}
		softmaxGo(x[base:], y[base:], o.Len, o.Inner, o.Log)
	}
}

// softmaxRowGo writes the softmax of x to y (as long), in Go: softmaxRow
// where activate.c is not built.
func softmaxRowGo(x, y []float32) { softmaxGo(x, y, len(x), 1, false) }

// softmaxGo writes the softmax of the n floats x[0], x[stride], … to y at
// the same places, or with log its logarithm: x − max less the logarithm of
// the sum of exp(x − max), accumulated in float64.
func softmaxGo(x, y []float32, n, stride int, log bool) {
	m := float32(math.Inf(-1))
	for j := range n {
		m = max(m, x[j*stride])
	}
	var sum float64
	for j := range n {
		e := math.Exp(float64(x[j*stride] - m))
		y[j*stride] = float32(e)
		sum += e
	}
	if log {
		logSum := math.Log(sum)
		for j := range n {
			y[j*stride] = float32(float64(x[j*stride]-m) - logSum)
		}
		return
	}
	for j := range n {
		y[j*stride] = float32(float64(y[j*stride]) / sum)
	}
}

// layerNormKernel normalises one row per unit in double precision: the
// mean and the variance (of the differences from the mean) summed in eight
// lanes, element j in lane j mod 8, the lanes added in a fixed tree, so
// that layernorm.c's vectors make the same sums on every instruction set.
type layerNormKernel struct {
	op *engine.LayerNorm
}

func newLayerNorm(o *engine.LayerNorm) (kernel, error) {
	if o.Outer < 1 || o.Len < 1 || o.Outer*o.Len != o.X.Elems() || o.X.Elems() != o.Y.Elems() ||
		o.Scale.Present() && o.Scale.Elems() != o.Len || o.Bias.Present() && o.Bias.Elems() != o.Len {
		return nil, fmt.Errorf("bad geometry %d×%d for X%v, scale%v, bias%v", o.Outer, o.Len, o.X.Shape, o.Scale.Shape, o.Bias.Shape)
	}
	return &layerNormKernel{op: o}, nil
}

func (k *layerNormKernel) run(mem *memory, part, parts int, _ *scratch) {
	o := k.op
	lo, hi := span(o.Outer, part, parts)
	layerNormRows(mem.f32(o.X), mem.f32(o.Y), mem.f32(o.Scale), mem.f32(o.Bias), o.Len, float64(o.Epsilon), lo, hi)
}

// layerNormRowsGo normalises rows [lo, hi) of n floats of x into y (which
// may be x), scale and bias nil for none. The explicit conversions keep
// each product rounded before it is added (Go fuses a·b + c on arm64
// otherwise), as layernorm.c computes.
func layerNormRowsGo(x, y, scale, bias []float32, n int, eps float64, lo, hi int) {
	for r := lo; r < hi; r++ {
		row, out := x[r*n:][:n], y[r*n:][:n]
		var acc [8]float64
		for j, v := range row {
			acc[j%8] += float64(v)
		}
		mean := laneSum(&acc) / float64(n)
		acc = [8]float64{}
		for j, v := range row {
			d := float64(v) - mean
			acc[j%8] += float64(d * d)
		}
		inv := 1 / math.Sqrt(laneSum(&acc)/float64(n)+eps)
		for j, v := range row {
			v := (float64(v) - mean) * inv
			if scale != nil {
				v = float64(v * float64(scale[j]))
			}
			if bias != nil {
				v += float64(bias[j])
			}
			out[j] = float32(v)
		}
	}
}

// laneSum adds eight lanes as layernorm.c does: ((0 + 4) + (2 + 6)) +
// ((1 + 5) + (3 + 7)).
func laneSum(a *[8]float64) float64 {
	return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
}

// lrnKernel normalises one (image, channel) plane per unit across the
// channels around it, accumulating in float64.
type lrnKernel struct {
	op                  *engine.LRN
	chans, size, lo, hi int // the window is channels c−lo to c+hi
}

func newLRN(o *engine.LRN) (kernel, error) {
	x := o.X.Shape
	if len(x) < 3 || o.Y.Elems() != o.X.Elems() || o.Size < 1 {
		return nil, fmt.Errorf("LRN of size %d over X%v into Y%v", o.Size, x, o.Y.Shape)
	}
	return &lrnKernel{op: o, chans: x[1], size: numElems(x[2:]), lo: (o.Size - 1) / 2, hi: o.Size / 2}, nil
}

func (k *lrnKernel) run(mem *memory, part, parts int, _ *scratch) {
	o := k.op
	x, y := mem.f32(o.X), mem.f32(o.Y)
	scale := float64(o.Alpha) / float64(o.Size)
	lo, hi := span(len(x)/k.size, part, parts)
	for p := lo; p < hi; p++ {
		c, first := p%k.chans, p-p%k.chans // the plane's channel and its image's first plane
		from, to := first+max(0, c-k.lo), first+min(k.chans-1, c+k.hi)
		for s := range k.size {
			var sq float64
			for q := from; q <= to; q++ {
				v := float64(x[q*k.size+s])
				sq += v * v
			}
			y[p*k.size+s] = float32(float64(x[p*k.size+s]) / math.Pow(float64(o.Bias)+scale*sq, float64(o.Beta)))
		}
	}
}
