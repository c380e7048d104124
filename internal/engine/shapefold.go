package engine

import (
	"math"

	"github.com/clockwork-go/clockwork/internal/onnx"
)

// Shape arithmetic. Exporters often write a Reshape's target as arithmetic
// on a tensor's shape: PyTorch's x.view(x.size(0), -1) becomes Shape,
// Gather, Unsqueeze, Concat and Reshape. The engine's shapes are static
// but for the batch size, so the import folds that arithmetic into
// integer constants whose elements may grow with the batch size
// (tensor.perBatch), and Reshape resolves its target per plan. Every
// shape the engine computes is linear in the batch size; Shape checks
// this at batch sizes 1 to 3 rather than assume it.

// maxFoldElems bounds an integer tensor that folding makes: shape
// arithmetic is small, and a file must not make the import allocate
// much more than its own size.
const maxFoldElems = 1 << 16

// sym is one element of an integer constant: c + n × batch.
type sym struct{ c, n int64 }

func (t *tensor) at(k int) sym {
	s := sym{c: t.i64[k]}
	if t.perBatch != nil {
		s.n = t.perBatch[k]
	}
	return s
}

// newIntTensor is a zero INT64 constant of shape dims, which set fills.
func newIntTensor(r *nodeReader, dims []int) (*tensor, error) {
	n, ok := checkedElems(dims)
	if !ok || n > maxFoldElems {
		return nil, r.errorf("shape arithmetic with %v elements: at most %d are supported", dims, maxFoldElems)
	}
	return &tensor{dims: dims, dtype: int32(onnx.TensorProto_INT64), i64: make([]int64, n)}, nil
}

// set makes element k of an integer constant s.
func (t *tensor) set(k int, s sym) {
	t.i64[k] = s.c
	if s.n != 0 {
		if t.perBatch == nil {
			t.perBatch = make([]int64, len(t.i64))
		}
		t.perBatch[k] = s.n
	}
}

// fold computes the node at import if it is shape arithmetic: Shape of
// any tensor; Gather, Unsqueeze, Squeeze, Concat, Slice, Add, Sub, Mul
// and Div of integer constants; Cast of a constant. It also transposes
// constants, as exporters write weights stored the other way round. ok is
// false for any other node, which translate reads.
func (r *nodeReader) fold() (c *tensor, ok bool, err error) {
	op := r.np.GetOpType()
	switch op {
	case "Shape":
		c, err = r.shape()
		return c, true, err
	case "Cast", "Transpose":
		if !r.constInputs(false) {
			return nil, false, nil
		}
		if op == "Cast" {
			c, err = r.castConst()
		} else {
			c, err = r.transposeConst()
		}
		return c, true, err
	case "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Add", "Sub", "Mul", "Div":
		if !r.constInputs(true) {
			return r.foldMore(op)
		}
	default:
		return r.foldMore(op)
	}
	switch op {
	case "Gather":
		c, err = r.gather()
	case "Unsqueeze", "Squeeze":
		c, err = r.squeezeConst(op)
	case "Concat":
		c, err = r.concatConst()
	case "Slice":
		c, err = r.slice()
	default:
		c, err = r.arith(op)
	}
	return c, true, err
}

// constInputs is whether every input the node has is a well-formed
// constant, of integers if ints.
func (r *nodeReader) constInputs(ints bool) bool {
	for _, name := range r.np.GetInput() {
		if name == "" {
			continue
		}
		v, ok := r.b.names[name]
		if !ok {
			return false
		}
		val := &r.b.m.values[v]
		if val.kind != valConst || val.err != nil || val.c == nil || ints && val.c.i64 == nil {
			return false
		}
	}
	return len(r.np.GetInput()) > 0
}

// constInput returns input i, a constant that must be present.
func (r *nodeReader) constInput(i int) (*tensor, error) {
	c, _, err := r.constant(i)
	if err == nil && c == nil {
		err = r.errorf("missing input %d", i)
	}
	return c, err
}

// intInput returns input i, a constant (nil if absent) that must not
// depend on the batch size.
func (r *nodeReader) intInput(i int, what string) (*tensor, error) {
	c, _, err := r.constant(i)
	if err != nil || c == nil {
		return nil, err
	}
	if c.i64 == nil {
		return nil, r.errorf("the %s must be an integer tensor", what)
	}
	if c.perBatch != nil {
		return nil, r.errorf("the %s depend on the batch size", what)
	}
	return c, nil
}

// shape is Shape's output, with start and end (opset 15) as ONNX clamps
// them.
func (r *nodeReader) shape() (*tensor, error) {
	if err := r.inputs(1, 1); err != nil {
		return nil, err
	}
	v, s, err := r.requiredShapes(0)
	if err != nil {
		return nil, err
	}
	rank := len(s[0])
	start, err := r.a.int("start", 0, -maxDim, maxDim)
	if err != nil {
		return nil, err
	}
	end, err := r.a.int("end", maxDim, -maxDim, maxDim)
	if err != nil {
		return nil, err
	}
	start, end = clampAxis(start, rank), clampAxis(end, rank)
	out, err := newIntTensor(r, []int{max(0, end-start)})
	if err != nil {
		return nil, err
	}
	for k := start; k < end; k++ {
		per := s[1][k] - s[0][k]
		d := sym{c: int64(s[0][k] - per), n: int64(per)}
		if s[2][k] != s[0][k]+2*per {
			return nil, r.errorf("dimension %d of %q (%d, %d and %d at batch sizes 1, 2 and 3) is not linear in the batch size",
				k, r.b.m.values[v].name, s[0][k], s[1][k], s[2][k])
		}
		out.set(k-start, d)
	}
	return out, nil
}

// clampAxis counts a negative axis from the end and clamps it to
// [0, rank], as Shape and Slice do.
func clampAxis(a, rank int) int {
	if a < 0 {
		a += rank
	}
	return min(max(a, 0), rank)
}

func (r *nodeReader) gather() (*tensor, error) {
	if err := r.inputs(2, 2); err != nil {
		return nil, err
	}
	data, err := r.constInput(0)
	if err != nil {
		return nil, err
	}
	idx, err := r.intInput(1, "indices")
	if err != nil {
		return nil, err
	}
	if idx == nil {
		return nil, r.errorf("missing input 1")
	}
	if len(data.dims) == 0 {
		return nil, r.errorf("data is a scalar")
	}
	a, err := r.a.int("axis", 0, -maxDim, maxDim)
	if err != nil {
		return nil, err
	}
	n := &node{op: r.np.GetOpType(), name: r.name}
	axis, err := normAxis(n, a, len(data.dims))
	if err != nil {
		return nil, err
	}
	dims := append(append(append([]int{}, data.dims[:axis]...), idx.dims...), data.dims[axis+1:]...)
	out, err := newIntTensor(r, dims)
	if err != nil {
		return nil, err
	}
	outer, size, inner := numElems(data.dims[:axis]), data.dims[axis], numElems(data.dims[axis+1:])
	k := 0
	for o := range outer {
		for _, ix := range idx.i64 {
			if ix < -int64(size) || ix >= int64(size) {
				return nil, r.errorf("index %d out of range for axis of size %d", ix, size)
			}
			if ix < 0 {
				ix += int64(size)
			}
			for j := range inner {
				out.set(k, data.at((o*size+int(ix))*inner+j))
				k++
			}
		}
	}
	return out, nil
}

// squeezeConst is Squeeze or Unsqueeze of an integer constant: the same
// elements under another shape. Squeeze without axes drops every axis of
// size 1.
func (r *nodeReader) squeezeConst(op string) (*tensor, error) {
	n := &node{op: op, name: r.name}
	if err := r.axes(n, 13); err != nil {
		return nil, err
	}
	c := r.b.m.values[n.in[0]].c
	var dims []int
	var err error
	switch {
	case op == "Unsqueeze" && n.axes == nil:
		return nil, r.errorf("missing axes")
	case op == "Unsqueeze":
		dims, err = n.unsqueezeShape(c.dims)
	case n.axes == nil:
		for _, d := range c.dims {
			if d != 1 {
				dims = append(dims, d)
			}
		}
	default:
		dims, err = n.squeezeShape(c.dims)
	}
	if err != nil {
		return nil, err
	}
	return &tensor{dims: dims, dtype: c.dtype, i64: c.i64, perBatch: c.perBatch}, nil
}

func (r *nodeReader) concatConst() (*tensor, error) {
	if !r.a.has("axis") {
		return nil, r.errorf("missing attribute \"axis\"")
	}
	a, err := r.a.int("axis", 0, -maxDim, maxDim)
	if err != nil {
		return nil, err
	}
	var ins []*tensor
	shapes := [][]int{}
	for i := range r.np.GetInput() {
		c, _, err := r.constant(i)
		if err != nil {
			return nil, err
		}
		if c == nil {
			return nil, r.errorf("missing input %d", i)
		}
		ins = append(ins, c)
		shapes = append(shapes, c.dims)
	}
	n := &node{op: "Concat", name: r.name, axis: a}
	dims, err := n.concatShape(shapes)
	if err != nil {
		return nil, err
	}
	out, err := newIntTensor(r, dims)
	if err != nil {
		return nil, err
	}
	axis, _ := normAxis(n, a, len(dims))
	k := 0
	for o := range numElems(dims[:axis]) {
		for _, c := range ins {
			chunk := numElems(c.dims[axis:])
			for j := range chunk {
				out.set(k, c.at(o*chunk+j))
				k++
			}
		}
	}
	return out, nil
}

// slice is Slice of an integer constant.
func (r *nodeReader) slice() (*tensor, error) {
	args, err := r.readSlice()
	if err != nil {
		return nil, err
	}
	data, err := r.constInput(0)
	if err != nil {
		return nil, err
	}
	first, step, dims, err := args.resolve(&node{op: "Slice", name: r.name}, data.dims)
	if err != nil {
		return nil, err
	}
	out, err := newIntTensor(r, dims)
	if err != nil {
		return nil, err
	}
	stride := rowMajorStrides(data.dims)
	idx := make([]int, len(dims))
	for k := range len(out.i64) {
		src := 0
		for d := range idx {
			src += (first[d] + idx[d]*step[d]) * stride[d]
		}
		out.set(k, data.at(src))
		advance(idx, dims)
	}
	return out, nil
}

// arith is Add, Sub, Mul, Div or Equal of two integer constants,
// broadcasting. A product of two elements that both depend on the batch
// size, a division of one that does not come out whole, and a comparison
// whose result would depend on the batch size are not supported.
// Division truncates, as ONNX runtimes do for integers. Equal makes a
// BOOL constant.
func (r *nodeReader) arith(op string) (*tensor, error) {
	a, b, dims, err := r.twoConsts()
	if err != nil {
		return nil, err
	}
	out, err := newIntTensor(r, dims)
	if err != nil {
		return nil, err
	}
	if op == "Equal" {
		out.dtype = int32(onnx.TensorProto_BOOL)
	}
	for k := range out.i64 {
		y, err := r.arith1(op, a.at(bcastIndex(k, dims, a.dims)), b.at(bcastIndex(k, dims, b.dims)))
		if err != nil {
			return nil, err
		}
		out.set(k, y)
	}
	return out, nil
}

// advance steps idx to the next index of a row-major tensor of shape
// dims.
func advance(idx, dims []int) {
	for d := len(idx) - 1; d >= 0; d-- {
		if idx[d]++; idx[d] < dims[d] {
			return
		}
		idx[d] = 0
	}
}

// foldLimit bounds the operands of shape arithmetic, so that no result
// overflows.
const foldLimit = 1 << 31

func (r *nodeReader) arith1(op string, x, y sym) (sym, error) {
	for _, v := range []int64{x.c, x.n, y.c, y.n} {
		if v < -foldLimit || v > foldLimit {
			return sym{}, r.errorf("value %d out of range for shape arithmetic", v)
		}
	}
	switch op {
	case "Add":
		return sym{x.c + y.c, x.n + y.n}, nil
	case "Sub":
		return sym{x.c - y.c, x.n - y.n}, nil
	case "Mul":
		if x.n != 0 && y.n != 0 {
			return sym{}, r.errorf("a product of two values that depend on the batch size is not supported")
		}
		return sym{x.c * y.c, x.c*y.n + x.n*y.c}, nil
	case "Equal":
		d := sym{c: x.c - y.c, n: x.n - y.n} // equal where d.c + d.n × batch = 0
		switch {
		case d.n == 0 && d.c == 0:
			return sym{c: 1}, nil
		case d.n != 0 && -d.c%d.n == 0 && -d.c/d.n >= 1:
			return sym{}, r.errorf("a comparison whose result depends on the batch size is not supported")
		}
		return sym{}, nil
	}
	if y.n != 0 {
		return sym{}, r.errorf("a division by a value that depends on the batch size is not supported")
	}
	if y.c == 0 {
		return sym{}, r.errorf("division by zero")
	}
	if x.n != 0 && (x.c%y.c != 0 || x.n%y.c != 0) {
		return sym{}, r.errorf("a division of a value that depends on the batch size that does not come out whole is not supported")
	}
	return sym{x.c / y.c, x.n / y.c}, nil
}

// castConst is Cast of a constant: integers to INT64 or INT32 (kept as
// int64, as the import keeps INT32 data) or to FLOAT, floats to FLOAT or
// to an integer type (truncating, as C does).
func (r *nodeReader) castConst() (*tensor, error) {
	if err := r.inputs(1, 1); err != nil {
		return nil, err
	}
	to, err := r.a.int("to", 0, 0, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	c, err := r.constInput(0)
	if err != nil {
		return nil, err
	}
	switch onnx.TensorProto_DataType(to) {
	case onnx.TensorProto_FLOAT:
		if c.f32 != nil {
			cp := *c
			return &cp, nil
		}
		if c.perBatch != nil {
			return nil, r.errorf("a cast to FLOAT of values that depend on the batch size is not supported")
		}
		f := make([]float32, len(c.i64))
		for i, v := range c.i64 {
			f[i] = float32(v)
		}
		return floatTensor(f, c.dims...), nil
	case onnx.TensorProto_INT64, onnx.TensorProto_INT32:
		if c.i64 != nil {
			cp := *c
			return &cp, nil
		}
		out, err := newIntTensor(r, c.dims)
		if err != nil {
			return nil, err
		}
		for i, v := range c.f32 {
			if !(v > -foldLimit && v < foldLimit) {
				return nil, r.errorf("value %v out of range for a cast to %s", v, dtypeName(int32(to)))
			}
			out.i64[i] = int64(v)
		}
		return out, nil
	}
	return nil, r.errorf("a cast to %s is not supported (float32, and int64 or int32 for shape arithmetic)", dtypeName(int32(to)))
}
