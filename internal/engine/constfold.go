package engine

import (
	"math"

	"github.com/clockwork-go/clockwork/internal/onnx"
)

// More constant folds, for what PyTorch exports around attention: the
// scale 1/√d as Sqrt and Div of float constants, and expand(n, -1, -1) as
// ConstantOfShape, Equal and Where choosing between the batch size and 1
// before an Expand.

// foldMore folds the node if it is one of these with constant inputs;
// ok is false otherwise.
func (r *nodeReader) foldMore(op string) (c *tensor, ok bool, err error) {
	switch op {
	case "Add", "Sub", "Mul", "Div", "Sqrt":
		if !r.constInputs(false) || !r.floatInputs() {
			return nil, false, nil
		}
		c, err = r.floatArith(op)
	case "Equal":
		if !r.constInputs(true) {
			return nil, false, nil
		}
		c, err = r.arith(op)
	case "Where":
		if !r.constInputs(false) {
			return nil, false, nil
		}
		c, err = r.where()
	case "ConstantOfShape":
		if !r.constInputs(true) {
			return nil, false, nil
		}
		c, err = r.constantOfShape()
	default:
		return nil, false, nil
	}
	return c, true, err
}

// floatInputs is whether every input the node has is a float constant.
func (r *nodeReader) floatInputs() bool {
	for _, name := range r.np.GetInput() {
		if name != "" && r.b.m.values[r.b.names[name]].c.f32 == nil {
			return false
		}
	}
	return true
}

// foldedElems is the number of elements of a folded result of shape dims,
// refused beyond maxFoldElems or the largest input, whichever is more: a
// fold may rewrite weights, but not broadcast them into more than the
// file holds.
func (r *nodeReader) foldedElems(dims []int, ins ...*tensor) (int, error) {
	limit := maxFoldElems
	for _, t := range ins {
		limit = max(limit, len(t.f32)+len(t.i64))
	}
	n, ok := checkedElems(dims)
	if !ok || n > limit {
		return 0, r.errorf("a constant of shape %v: folds make at most %d elements", dims, limit)
	}
	return n, nil
}

// floatArith is Sqrt of a float constant, or Add, Sub, Mul or Div of two,
// broadcasting, in float32 as ONNX computes them.
func (r *nodeReader) floatArith(op string) (*tensor, error) {
	if op == "Sqrt" {
		if err := r.inputs(1, 1); err != nil {
			return nil, err
		}
		x, err := r.constInput(0)
		if err != nil {
			return nil, err
		}
		y := make([]float32, len(x.f32))
		for i, v := range x.f32 {
			y[i] = float32(math.Sqrt(float64(v)))
		}
		return floatTensor(y, x.dims...), nil
	}
	a, b, dims, err := r.twoConsts()
	if err != nil {
		return nil, err
	}
	n, err := r.foldedElems(dims, a, b)
	if err != nil {
		return nil, err
	}
	y := make([]float32, n)
	for k := range y {
		u, v := a.f32[bcastIndex(k, dims, a.dims)], b.f32[bcastIndex(k, dims, b.dims)]
		switch op {
		case "Add":
			y[k] = u + v
		case "Sub":
			y[k] = u - v
		case "Mul":
			y[k] = u * v
		default:
			y[k] = u / v
		}
	}
	return floatTensor(y, dims...), nil
}

// twoConsts returns the node's two inputs, constants, and the shape they
// broadcast to.
func (r *nodeReader) twoConsts() (a, b *tensor, dims []int, err error) {
	if err := r.inputs(2, 2); err != nil {
		return nil, nil, nil, err
	}
	if a, err = r.constInput(0); err != nil {
		return nil, nil, nil, err
	}
	if b, err = r.constInput(1); err != nil {
		return nil, nil, nil, err
	}
	dims, ok := broadcastShape(a.dims, b.dims)
	if !ok {
		return nil, nil, nil, r.errorf("shapes %v and %v do not broadcast", a.dims, b.dims)
	}
	return a, b, dims, nil
}

// bcastIndex is the element of a tensor of shape in that element k of
// the broadcast shape out reads.
func bcastIndex(k int, out, in []int) int {
	idx, stride := 0, 1
	for d := 1; d <= len(in); d++ {
		i := k / numElems(out[len(out)-d+1:]) % out[len(out)-d]
		if s := in[len(in)-d]; s != 1 {
			idx += i * stride
		}
		stride *= in[len(in)-d]
	}
	return idx
}

// where is Where of constants: a condition without batch-size terms and
// two integer or two float constants, broadcasting.
func (r *nodeReader) where() (*tensor, error) {
	if err := r.inputs(3, 3); err != nil {
		return nil, err
	}
	var in [3]*tensor
	for i := range in {
		var err error
		if in[i], err = r.constInput(i); err != nil {
			return nil, err
		}
	}
	cond, x, y := in[0], in[1], in[2]
	if cond.i64 == nil || cond.perBatch != nil {
		return nil, r.errorf("the condition must be a boolean constant")
	}
	if (x.f32 == nil) != (y.f32 == nil) {
		return nil, r.errorf("inputs of types %s and %s", dtypeName(x.dtype), dtypeName(y.dtype))
	}
	dims, ok := broadcastShape(cond.dims, x.dims)
	if ok {
		dims, ok = broadcastShape(dims, y.dims)
	}
	if !ok {
		return nil, r.errorf("shapes %v, %v and %v do not broadcast", cond.dims, x.dims, y.dims)
	}
	n, err := r.foldedElems(dims, x, y)
	if err != nil {
		return nil, err
	}
	pick := func(k int) (*tensor, int) {
		if cond.i64[bcastIndex(k, dims, cond.dims)] != 0 {
			return x, bcastIndex(k, dims, x.dims)
		}
		return y, bcastIndex(k, dims, y.dims)
	}
	if x.f32 != nil {
		out := make([]float32, n)
		for k := range out {
			t, i := pick(k)
			out[k] = t.f32[i]
		}
		return floatTensor(out, dims...), nil
	}
	out, err := newIntTensor(r, dims)
	if err != nil {
		return nil, err
	}
	for k := range out.i64 {
		t, i := pick(k)
		out.set(k, t.at(i))
	}
	return out, nil
}

// constantOfShape is ConstantOfShape of a shape without batch-size terms:
// its value attribute (a float 0 if absent) repeated.
func (r *nodeReader) constantOfShape() (*tensor, error) {
	if err := r.inputs(1, 1); err != nil {
		return nil, err
	}
	s, err := r.intInput(0, "shape")
	if err != nil {
		return nil, err
	}
	if len(s.dims) != 1 {
		return nil, r.errorf("the shape must be a 1-D tensor, has shape %v", s.dims)
	}
	dims := make([]int, len(s.i64))
	for i, d := range s.i64 {
		if d < 0 || d > maxElems {
			return nil, r.errorf("invalid shape value %d", d)
		}
		dims[i] = int(d)
	}
	value := floatTensor([]float32{0}, 1)
	if r.a.has("value") {
		at, err := r.a.get("value", onnx.AttributeProto_TENSOR)
		if err != nil {
			return nil, err
		}
		if value, err = parseTensor(at.GetT()); err != nil {
			return nil, r.errorf("%v", msgOf(err))
		}
		if len(value.f32)+len(value.i64) != 1 {
			return nil, r.errorf("the value must have one element, has shape %v", value.dims)
		}
	}
	n, err := r.foldedElems(dims)
	if err != nil {
		return nil, err
	}
	if value.f32 != nil {
		out := make([]float32, n)
		for i := range out {
			out[i] = value.f32[0]
		}
		return floatTensor(out, dims...), nil
	}
	out, err := newIntTensor(r, dims)
	if err != nil {
		return nil, err
	}
	out.dtype = value.dtype
	for i := range out.i64 {
		out.i64[i] = value.i64[0]
	}
	return out, nil
}
