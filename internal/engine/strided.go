package engine

import (
	"fmt"
	"slices"

	"github.com/clockwork-go/clockwork/internal/onnx"
)

// Strided copies. Transpose, Slice, Split and Gather (each run of its
// indices) copy their input's elements in another order: each runs as a Binary op,
// Y = X·1 with X read from an offset with strides permuted (Transpose) or
// stepped (the others), so that neither executor needs a kernel of its
// own for them; multiplying by one is exact. The 1 is a constant of the
// model (builder.oneValue). Transposes of constants fold at import
// instead.

// transposeNode reads a Transpose of a computed tensor.
func (r *nodeReader) transposeNode(n *node) error {
	n.kind = nTranspose
	var err error
	if n.perm, err = r.a.ints("perm", -1, 0, maxDim); err != nil {
		return err
	}
	if err := r.unary(n); err != nil {
		return err
	}
	n.in = append(n.in, r.b.oneValue())
	return nil
}

// sliceNode reads a Slice of a computed tensor.
func (r *nodeReader) sliceNode(n *node) error {
	var err error
	if n.slice, err = r.readSlice(); err != nil {
		return err
	}
	if slices.ContainsFunc(n.slice.steps, func(st int64) bool { return st < 0 }) {
		return r.reversedSlice(n)
	}
	return r.stridedCopy(n)
}

// reversedSlice reads a Slice with negative steps, such as x[..., ::-1]
// (RGB to BGR as tf2onnx writes it): the slice of its positive steps,
// then for each negative one a Gather of the elements it takes, in its
// order (gatherRuns: a few channels, not a whole image's width).
func (r *nodeReader) reversedSlice(n *node) error {
	x, s, err := r.requiredShapes(0)
	if err != nil {
		return err
	}
	first, step, counts, err := n.slice.resolve(n, s[0])
	if err != nil {
		return err
	}
	batch := batchAxes(s)
	var forward sliceArgs
	type reversal struct {
		axis    int
		indices []int64 // those the step takes, in its order
	}
	var reversed []reversal
	for i, st := range n.slice.steps {
		d := i
		if n.slice.axes != nil {
			d = (int(n.slice.axes[i]) + len(s[0])) % len(s[0])
		}
		if st > 0 {
			forward.starts = append(forward.starts, n.slice.starts[i])
			forward.ends = append(forward.ends, n.slice.ends[i])
			forward.axes = append(forward.axes, int64(d))
			forward.steps = append(forward.steps, st)
			continue
		}
		if batch[d] {
			return r.errorf("it slices the batch axis of %v (axis %d)", s[0], d)
		}
		if counts[d] == 0 {
			return r.errorf("the slice of %v is empty", s[0])
		}
		idx := make([]int64, counts[d])
		for k := range idx {
			idx[k] = int64(first[d] + k*step[d])
		}
		reversed = append(reversed, reversal{d, idx})
	}
	v := x
	if forward.starts != nil {
		v = r.addBefore(node{kind: nSlice, slice: forward, in: []int{x, r.b.oneValue()}, batchAxes: batch}, "positive steps")
	}
	for k, rv := range reversed {
		nd, err := r.gatherRuns(v, rv.indices, rv.axis)
		if err != nil {
			return err
		}
		if k == len(reversed)-1 {
			n.become(nd)
			break
		}
		v = r.addBefore(nd, fmt.Sprintf("axis %d reversed", rv.axis))
	}
	return nil
}

// gatherNode reads a Gather of a computed tensor by constant indices. One
// index, such as x[:, 0], is a slice of one element along the axis, which
// a scalar index drops; several, such as x[:, [2, 1, 0]] (RGB to BGR), are
// the slices of their runs of consecutive indices, concatenated
// (gatherRuns).
func (r *nodeReader) gatherNode(n *node) error {
	if err := r.inputs(2, 2); err != nil {
		return err
	}
	idx, err := r.intInput(1, "indices")
	if err != nil {
		return err
	}
	if idx == nil || len(idx.i64) == 0 || len(idx.dims) > 1 {
		return r.errorf("only a Gather of constant indices, a scalar or a list, is supported")
	}
	axis, err := r.a.int("axis", 0, -maxDim, maxDim)
	if err != nil {
		return err
	}
	if len(idx.dims) == 1 && len(idx.i64) > 1 {
		x, err := r.required(0)
		if err != nil {
			return err
		}
		nd, err := r.gatherRuns(x, idx.i64, axis)
		n.become(nd)
		return err
	}
	n.gather = &gatherArgs{index: idx.i64[0], axis: axis, scalar: len(idx.dims) == 0}
	return r.stridedCopy(n)
}

// maxGatherRuns bounds the slices a Gather of several indices becomes.
const maxGatherRuns = 64

// gatherRuns is the node that gathers indices along axis of x: the
// concatenation of the slices of the indices' runs of consecutive indices
// (added before it), or the one slice where there is one run. The caller
// names it.
func (r *nodeReader) gatherRuns(x int, indices []int64, axis int) (node, error) {
	s, err := r.b.shapesOf(x)
	if err != nil {
		return node{}, err
	}
	rank := len(s[0])
	if axis < -rank || axis >= rank {
		return node{}, r.errorf("axis %d out of range for rank %d", axis, rank)
	}
	d := (axis + rank) % rank
	size := int64(s[0][d])
	var runs [][2]int64 // [begin, end) of each
	for _, i := range indices {
		if i < -size || i >= size {
			return node{}, r.errorf("index %d out of range for axis %d of %v", i, axis, s[0])
		}
		if i < 0 {
			i += size
		}
		if k := len(runs) - 1; k >= 0 && runs[k][1] == i {
			runs[k][1]++
			continue
		}
		runs = append(runs, [2]int64{i, i + 1})
	}
	if len(runs) > maxGatherRuns {
		return node{}, r.errorf("indices %v are %d runs of consecutive indices (%d at most)", indices, len(runs), maxGatherRuns)
	}
	slice := func(run [2]int64) node {
		return node{kind: nSlice, slice: sliceArgs{starts: run[:1], ends: run[1:], axes: []int64{int64(d)}},
			in: []int{x, r.b.oneValue()}, batchAxes: batchAxes(s)}
	}
	if len(runs) == 1 {
		return slice(runs[0]), nil
	}
	cat := node{kind: nConcat, axis: d}
	for _, run := range runs {
		cat.in = append(cat.in, r.addBefore(slice(run), fmt.Sprintf("indices %d to %d", run[0], run[1]-1)))
	}
	return cat, nil
}

// tileNode reads a Tile of a computed tensor by constant repeats (not of
// the batch axis): an Unsqueeze puts an axis of 1 before each repeated
// axis, an Expand (a strided copy) repeats it, and a Reshape merges each
// pair, so that y[…, r·d, …] holds x[…, d, …] r times over.
func (r *nodeReader) tileNode(n *node) error {
	if err := r.inputs(2, 2); err != nil {
		return err
	}
	reps, err := r.intInput(1, "repeats")
	if err != nil {
		return err
	}
	x, s, err := r.requiredShapes(0)
	if err != nil {
		return err
	}
	if reps == nil || len(reps.dims) != 1 || len(reps.i64) != len(s[0]) {
		return r.errorf("the repeats must be a constant list of %d, one for each axis of %v", len(s[0]), s[0])
	}
	batch := batchAxes(s)
	var at, expand []int
	var first, growth []int64
	for d, k := range reps.i64 {
		if k < 1 || k > maxDim {
			return r.errorf("repeats %v: each must be in [1, %d]", reps.i64, maxDim)
		}
		if batch[d] && k != 1 {
			return r.errorf("repeats %v repeat axis %d of %v, the batch axis", reps.i64, d, s[0])
		}
		if k > 1 {
			at = append(at, d+len(at))
			expand = append(expand, int(k))
		}
		expand = append(expand, 1)
		delta := int64(s[1][d] - s[0][d])
		first, growth = append(first, k*(int64(s[0][d])-delta)), append(growth, k*delta)
	}
	if len(at) == 0 {
		n.kind, n.view, n.in = nView, viewIdentity, []int{x}
		return nil
	}
	spaced := r.addBefore(node{kind: nView, view: viewUnsqueeze, axes: at, in: []int{x}}, "axes to repeat along")
	repeated := r.addBefore(node{kind: nExpand, shape: expand, in: []int{spaced, r.b.oneValue()}}, "repeated")
	n.kind, n.view, n.in = nView, viewReshape, []int{repeated}
	if !slices.ContainsFunc(growth, func(g int64) bool { return g != 0 }) {
		growth = nil
	}
	return r.setTarget(n, first, growth)
}

// stridedCopy makes n an nSlice of input 0, with the constant 1 its Binary
// multiplies by.
func (r *nodeReader) stridedCopy(n *node) error {
	n.kind = nSlice
	x, s, err := r.requiredShapes(0)
	if err != nil {
		return err
	}
	n.in, n.batchAxes = []int{x, r.b.oneValue()}, batchAxes(s)
	return nil
}

// batchAxes marks the axes whose size differs between a value's shapes
// at batch sizes 1, 2 and 3: the batch axis, wherever transposes moved
// it, or an axis it was merged into.
func batchAxes(s [3][]int) []bool {
	axes := make([]bool, len(s[0]))
	for d := range axes {
		axes[d] = s[0][d] != s[1][d] || s[1][d] != s[2][d]
	}
	return axes
}

// oneValue is the constant 1 that the strided copies multiply by, one
// for the whole model.
func (b *builder) oneValue() int {
	if b.one < 0 {
		b.one = b.m.addValue(value{name: "strided copy/one", kind: valConst, c: floatTensor([]float32{1}, 1)})
	}
	return b.one
}

// split translates a Split into a strided copy (nSlice) per output: the
// sizes given, attribute before opset 13 and input from it, or equal
// parts (the last smaller where they do not divide, from opset 18).
func (b *builder) split(r *nodeReader) error {
	a := r.a
	axis, err := a.int("axis", 0, -maxDim, maxDim)
	if err != nil {
		return err
	}
	var sizes []int64
	if b.m.opset < 13 {
		if err := r.inputs(1, 1); err != nil {
			return err
		}
		at, err := a.get("split", onnx.AttributeProto_INTS)
		if err != nil {
			return err
		}
		sizes = at.GetInts()
	} else {
		if err := r.inputs(1, 2); err != nil {
			return err
		}
		c, err := r.intInput(1, "split sizes")
		if err != nil {
			return err
		}
		if c != nil {
			sizes = c.i64
		}
	}
	x, s, err := r.requiredShapes(0)
	if err != nil {
		return err
	}
	n := &node{op: "Split", name: r.name}
	d, err := normAxis(n, axis, len(s[0]))
	if err != nil {
		return err
	}
	size := s[0][d]
	if batchAxes(s)[d] {
		return r.errorf("splitting the batch axis is not supported")
	}
	outs := r.np.GetOutput()
	if sizes == nil {
		parts := len(outs)
		if b.m.opset >= 18 {
			if parts, err = a.int("num_outputs", int64(len(outs)), 1, maxDim); err != nil {
				return err
			}
		}
		if parts != len(outs) || b.m.opset < 18 && size%parts != 0 {
			return r.errorf("cannot split an axis of %d into %d equal parts", size, len(outs))
		}
		part := (size + parts - 1) / parts
		for k := range parts {
			sizes = append(sizes, int64(max(0, min(part, size-k*part))))
		}
	}
	var sum int64
	for _, p := range sizes {
		if p < 0 || p > maxDim {
			return r.errorf("invalid split size %d", p)
		}
		sum += p
	}
	if len(sizes) != len(outs) || sum != int64(size) {
		return r.errorf("split sizes %v for %d outputs of an axis of %d", sizes, len(outs), size)
	}
	one := b.oneValue()
	var start int64
	for k, o := range outs {
		part := node{op: "Split", name: r.name, kind: nSlice, in: []int{x, one}, batchAxes: batchAxes(s),
			slice: sliceArgs{starts: []int64{start}, ends: []int64{start + sizes[k]}, axes: []int64{int64(d)}}}
		start += sizes[k]
		if o == "" {
			continue
		}
		if b.defined(o) {
			return r.errorf("output %q is already defined", o)
		}
		b.m.nodes = append(b.m.nodes, part)
		b.m.nodes[len(b.m.nodes)-1].out = b.m.addValue(value{name: o, kind: valNode, prod: len(b.m.nodes) - 1})
		b.names[o] = len(b.m.values) - 1
	}
	return nil
}

// sliceArgs are a Slice's starts, ends, axes and steps as given (axes and
// steps nil if absent).
type sliceArgs struct{ starts, ends, axes, steps []int64 }

// readSlice reads the node's sliceArgs: attributes (without steps) before
// opset 10, constant inputs from it.
func (r *nodeReader) readSlice() (sliceArgs, error) {
	var s sliceArgs
	if r.b.m.opset < 10 {
		if err := r.inputs(1, 1); err != nil {
			return s, err
		}
		for _, p := range []struct {
			name string
			to   *[]int64
		}{{"starts", &s.starts}, {"ends", &s.ends}, {"axes", &s.axes}} {
			at, err := r.a.get(p.name, onnx.AttributeProto_INTS)
			if err != nil {
				return s, err
			}
			*p.to = at.GetInts()
		}
	} else {
		if err := r.inputs(3, 5); err != nil {
			return s, err
		}
		for i, p := range []struct {
			name string
			to   *[]int64
		}{{"starts", &s.starts}, {"ends", &s.ends}, {"axes", &s.axes}, {"steps", &s.steps}} {
			c, err := r.intInput(i+1, p.name)
			if err != nil {
				return s, err
			}
			if c != nil {
				*p.to = c.i64
			}
		}
	}
	if s.starts == nil || len(s.ends) != len(s.starts) || s.axes != nil && len(s.axes) != len(s.starts) || s.steps != nil && len(s.steps) != len(s.starts) {
		return s, r.errorf("starts, ends, axes and steps must have one value per sliced axis")
	}
	return s, nil
}

// resolve is, for an input of shape dims, each axis's first element, step
// and count of elements, clamped as ONNX clamps them.
func (s sliceArgs) resolve(n *node, dims []int) (first, step, counts []int, err error) {
	rank := len(dims)
	first, step, counts = make([]int, rank), make([]int, rank), slices.Clone(dims)
	for d := range step {
		step[d] = 1
	}
	seen := make([]bool, rank)
	for i := range s.starts {
		a := int64(i)
		if s.axes != nil {
			a = s.axes[i]
		}
		if a < -int64(rank) || a >= int64(rank) {
			return nil, nil, nil, n.errorf("axis %d out of range for rank %d", a, rank)
		}
		d, _ := normAxis(n, int(a), rank)
		if seen[d] {
			return nil, nil, nil, n.errorf("axis %d given twice", a)
		}
		seen[d] = true
		size := int64(dims[d])
		st := int64(1)
		if s.steps != nil {
			// Past ±(size+1) a step takes the first element only, as that.
			st = min(max(s.steps[i], -size-1), size+1)
		}
		if st == 0 {
			return nil, nil, nil, n.errorf("step 0")
		}
		b, e := min(max(s.starts[i], -size-1), size+1), min(max(s.ends[i], -size-1), size+1)
		if b < 0 {
			b += size
		}
		if e < 0 {
			e += size
		}
		var count int64
		if st > 0 {
			b, e = min(max(b, 0), size), min(max(e, 0), size)
			count = max(0, (e-b+st-1)/st)
		} else {
			b, e = min(max(b, 0), size-1), min(max(e, -1), size-1)
			count = max(0, (b-e-st-1)/-st)
		}
		first[d], step[d], counts[d] = int(b), int(st), int(count)
	}
	return first, step, counts, nil
}

// transposeConst is Transpose of a constant, float or integer.
func (r *nodeReader) transposeConst() (*tensor, error) {
	if err := r.inputs(1, 1); err != nil {
		return nil, err
	}
	n := &node{op: "Transpose", name: r.name}
	var err error
	if n.perm, err = r.a.ints("perm", -1, 0, maxDim); err != nil {
		return nil, err
	}
	c, err := r.constInput(0)
	if err != nil {
		return nil, err
	}
	perm, err := n.permFor(len(c.dims))
	if err != nil {
		return nil, err
	}
	out := &tensor{dims: permuted(c.dims, perm), dtype: c.dtype}
	out.f32 = transposed(c.f32, c.dims, perm)
	out.i64 = transposed(c.i64, c.dims, perm)
	out.perBatch = transposed(c.perBatch, c.dims, perm)
	return out, nil
}

// transposed is data, of shape dims, with its axes in the order perm
// gives; nil if data is.
func transposed[T any](data []T, dims, perm []int) []T {
	if data == nil {
		return nil
	}
	xs := rowMajorStrides(dims)
	ys := permuted(dims, perm)
	out := make([]T, len(data))
	idx := make([]int, len(ys))
	for k := range out {
		src := 0
		for d, p := range perm {
			src += idx[d] * xs[p]
		}
		out[k] = data[src]
		advance(idx, ys)
	}
	return out
}

// permFor is n's permutation for an input of the given rank: its perm,
// which must name each axis once, or the axes reversed.
func (n *node) permFor(rank int) ([]int, error) {
	if n.perm == nil {
		p := make([]int, rank)
		for i := range p {
			p[i] = rank - 1 - i
		}
		return p, nil
	}
	if len(n.perm) != rank {
		return nil, n.errorf("perm %v for an input of rank %d", n.perm, rank)
	}
	seen := make([]bool, rank)
	for _, a := range n.perm {
		if a >= rank || seen[a] {
			return nil, n.errorf("perm %v is not a permutation of the axes of a rank-%d input", n.perm, rank)
		}
		seen[a] = true
	}
	return n.perm, nil
}

// permuted is x's dimensions in the order perm gives.
func permuted(x, perm []int) []int {
	y := make([]int, len(perm))
	for d, p := range perm {
		y[d] = x[p]
	}
	return y
}

// transposeStrides merges the dimensions of a Transpose's output y for
// its Binary and gives X's element strides over them: dimension d of y
// is dimension perm[d] of x.
func transposeStrides(x, perm, y []int) (dims, sx, sOne []int) {
	xs := rowMajorStrides(x)
	fx := make([]int, len(y))
	for d, p := range perm {
		fx[d] = xs[p]
	}
	return mergeDims(y, fx, make([]int, len(y)))
}

// sliceGeom is a Slice's or Gather's first element, step and count of
// elements along each axis of x, and its output shape.
func (n *node) sliceGeom(x []int) (first, step, counts, y []int, err error) {
	g := n.gather
	if g == nil {
		if first, step, counts, err = n.slice.resolve(n, x); err != nil {
			return nil, nil, nil, nil, err
		}
		y = counts
	} else {
		d, err := normAxis(n, g.axis, len(x))
		if err != nil {
			return nil, nil, nil, nil, err
		}
		size, i := int64(x[d]), g.index
		if i < -size || i >= size {
			return nil, nil, nil, nil, n.errorf("index %d out of range for axis of size %d", i, size)
		}
		if i < 0 {
			i += size
		}
		first, step, counts = make([]int, len(x)), make([]int, len(x)), slices.Clone(x)
		for a := range step {
			step[a] = 1
		}
		first[d], counts[d] = int(i), 1
		y = counts
		if g.scalar {
			y = slices.Delete(slices.Clone(counts), d, d+1)
		}
	}
	if numElems(counts) == 0 {
		return nil, nil, nil, nil, n.errorf("the slice of %v is empty", x)
	}
	for d := range x {
		if d < len(n.batchAxes) && n.batchAxes[d] &&
			(first[d] != 0 || step[d] != 1 || counts[d] != x[d] || g != nil && g.scalar && (g.axis+len(x))%len(x) == d) {
			return nil, nil, nil, nil, n.errorf("it slices the batch axis of %v (axis %d)", x, d)
		}
	}
	return first, step, counts, y, nil
}
