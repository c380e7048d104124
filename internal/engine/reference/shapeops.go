package reference

import (
	"fmt"

	"github.com/clockwork-go/clockwork/internal/onnx"
)

// The operators exporters use for shape arithmetic, and Transpose, on
// float or int64 tensors as ONNX defines them. Each structural one
// computes, for every output element, the input element it takes (take).

// take is the tensor of v's elements src, shaped shape.
func take(v value, shape []int, src []int) value {
	out := value{t: Tensor{Shape: shape}}
	if v.ints != nil {
		out.ints = make([]int64, len(src))
		for k, i := range src {
			out.ints[k] = v.ints[i]
		}
		return out
	}
	out.t.Data = make([]float32, len(src))
	for k, i := range src {
		out.t.Data[k] = v.t.Data[i]
	}
	return out
}

// clamp counts a negative axis from the end and clamps it to [0, rank].
func clamp(a, rank int) int {
	if a < 0 {
		a += rank
	}
	return min(max(a, 0), rank)
}

// listInput is the int list attribute name before opset since, input i
// from it.
func (n node) listInput(name string, i int, opset, since int64) []int {
	if opset < since {
		return n.ints(name)
	}
	v, ok := n.in(i)
	if !ok {
		return nil
	}
	out := make([]int, len(v.ints))
	for j, x := range v.ints {
		out[j] = int(x)
	}
	return out
}

func shapeOp(n node, opset int64) (value, error) {
	x, _ := n.in(0)
	shape := x.t.Shape
	r := len(shape)
	switch n.n.GetOpType() {
	case "Shape":
		start, end := clamp(n.i("start", 0), r), clamp(n.i("end", r), r)
		out := value{t: Tensor{Shape: []int{max(0, end-start)}}, ints: []int64{}}
		for _, d := range shape[start:max(start, end)] {
			out.ints = append(out.ints, int64(d))
		}
		return out, nil
	case "Gather":
		idx, _ := n.in(1)
		axis := (n.i("axis", 0) + r) % r
		outer, dim, inner := size(shape[:axis]), shape[axis], size(shape[axis+1:])
		var src []int
		for o := range outer {
			for _, i := range idx.ints {
				if i < 0 {
					i += int64(dim)
				}
				for j := range inner {
					src = append(src, (o*dim+int(i))*inner+j)
				}
			}
		}
		ys := append(append(append([]int{}, shape[:axis]...), idx.t.Shape...), shape[axis+1:]...)
		return take(x, ys, src), nil
	case "Squeeze", "Unsqueeze":
		axes := n.listInput("axes", 1, opset, 13)
		ys := []int{}
		if n.n.GetOpType() == "Unsqueeze" {
			rank := r + len(axes)
			one := make([]bool, rank)
			for _, a := range axes {
				one[(a+rank)%rank] = true
			}
			j := 0
			for i := range rank {
				if one[i] {
					ys = append(ys, 1)
				} else {
					ys = append(ys, shape[j])
					j++
				}
			}
		} else {
			drop := make([]bool, r)
			for _, a := range axes {
				drop[(a+r)%r] = true
			}
			for i, d := range shape {
				if !drop[i] && (axes != nil || d != 1) {
					ys = append(ys, d)
				}
			}
		}
		return value{t: Tensor{Shape: ys, Data: x.t.Data}, ints: x.ints}, nil
	case "Slice":
		return slice(n, x, opset), nil
	case "Transpose":
		perm := n.ints("perm")
		if perm == nil {
			for i := range r {
				perm = append(perm, r-1-i)
			}
		}
		ys := make([]int, r)
		for d, p := range perm {
			ys[d] = shape[p]
		}
		src := make([]int, size(ys))
		idx := make([]int, r)
		for k := range src {
			rem := k
			for d := r - 1; d >= 0; d-- {
				idx[d] = rem % ys[d]
				rem /= ys[d]
			}
			// The element of x at idx permuted back.
			xi := make([]int, r)
			for d, p := range perm {
				xi[p] = idx[d]
			}
			for d := range r {
				src[k] = src[k]*shape[d] + xi[d]
			}
		}
		return take(x, ys, src), nil
	}
	return cast(n, x)
}

func slice(n node, x value, opset int64) value {
	return sliceOf(x, n.listInput("starts", 1, opset, 10), n.listInput("ends", 2, opset, 10),
		n.listInput("axes", 3, opset, 10), n.listInput("steps", 4, opset, 10))
}

// sliceOf is Slice's output for x with the given arguments (axes and
// steps nil if absent).
func sliceOf(x value, starts, ends, axes, steps []int) value {
	shape := x.t.Shape
	r := len(shape)
	first, step, ys := make([]int, r), make([]int, r), append([]int{}, shape...)
	for d := range step {
		step[d] = 1
	}
	for i := range starts {
		d := i
		if axes != nil {
			d = (axes[i] + r) % r
		}
		st := 1
		if steps != nil {
			st = steps[i]
		}
		b, e := starts[i], ends[i]
		if b < 0 {
			b += shape[d]
		}
		if e < 0 {
			e += shape[d]
		}
		var count int
		if st > 0 {
			b, e = min(max(b, 0), shape[d]), min(max(e, 0), shape[d])
			for j := b; j < e; j += st {
				count++
			}
		} else {
			b, e = min(max(b, 0), shape[d]-1), min(max(e, -1), shape[d]-1)
			for j := b; j > e; j += st {
				count++
			}
		}
		first[d], step[d], ys[d] = b, st, count
	}
	var src []int
	idx := make([]int, r)
	for k := range size(ys) {
		rem := k
		for d := r - 1; d >= 0; d-- {
			idx[d] = rem % ys[d]
			rem /= ys[d]
		}
		off := 0
		for d := range r {
			off = off*shape[d] + first[d] + idx[d]*step[d]
		}
		src = append(src, off)
	}
	return take(x, ys, src)
}

func cast(n node, x value) (value, error) {
	switch to := onnx.TensorProto_DataType(n.i("to", 0)); to {
	case onnx.TensorProto_FLOAT:
		if x.ints == nil {
			return x, nil
		}
		y := newTensor(x.t.Shape...)
		for i, v := range x.ints {
			y.Data[i] = float32(v)
		}
		return value{t: y}, nil
	case onnx.TensorProto_INT64, onnx.TensorProto_INT32:
		if x.ints != nil {
			return x, nil
		}
		out := value{t: Tensor{Shape: x.t.Shape}, ints: make([]int64, len(x.t.Data))}
		for i, v := range x.t.Data {
			out.ints[i] = int64(v)
		}
		return out, nil
	default:
		return value{}, fmt.Errorf("cast to %s", to)
	}
}

// intOp is Add, Sub, Mul, Div (truncating) or Concat of int64 tensors.
func intOp(n node) (value, error) {
	if n.n.GetOpType() == "Concat" {
		first, _ := n.in(0)
		r := len(first.t.Shape)
		axis := (n.i("axis", 0) + r) % r
		ys := append([]int{}, first.t.Shape...)
		ys[axis] = 0
		var all []int64
		for i := range n.n.GetInput() {
			v, _ := n.in(i)
			ys[axis] += v.t.Shape[axis]
		}
		for o := range size(ys[:axis]) {
			for i := range n.n.GetInput() {
				v, _ := n.in(i)
				blk := size(v.t.Shape[axis:])
				all = append(all, v.ints[o*blk:(o+1)*blk]...)
			}
		}
		return value{t: Tensor{Shape: ys}, ints: all}, nil
	}
	a, _ := n.in(0)
	b, _ := n.in(1)
	ys, ai, bi := broadcastIndex(a.t.Shape, b.t.Shape)
	out := value{t: Tensor{Shape: ys}, ints: make([]int64, len(ai))}
	for k := range ai {
		x, y := a.ints[ai[k]], b.ints[bi[k]]
		switch n.n.GetOpType() {
		case "Add":
			out.ints[k] = x + y
		case "Sub":
			out.ints[k] = x - y
		case "Mul":
			out.ints[k] = x * y
		case "Div":
			if y == 0 {
				return value{}, fmt.Errorf("division by zero")
			}
			out.ints[k] = x / y
		}
	}
	return out, nil
}

// split is Split's outputs: the sizes given, else equal parts (the last
// smaller).
func split(n node, opset int64) []value {
	x, _ := n.in(0)
	shape := x.t.Shape
	axis := (n.i("axis", 0) + len(shape)) % len(shape)
	sizes := n.listInput("split", 1, opset, 13)
	outs := len(n.n.GetOutput())
	if sizes == nil {
		part := (shape[axis] + outs - 1) / outs
		for k := range outs {
			sizes = append(sizes, min(part, shape[axis]-k*part))
		}
	}
	var vals []value
	start := 0
	for _, sz := range sizes {
		vals = append(vals, sliceOf(x, []int{start}, []int{start + sz}, []int{axis}, nil))
		start += sz
	}
	return vals
}

// selectOp is Equal (of integers, a 0/1 integer tensor), Where,
// ConstantOfShape and Expand.
func selectOp(n node) (value, error) {
	a, _ := n.in(0)
	switch n.n.GetOpType() {
	case "Equal":
		b, _ := n.in(1)
		ys, ai, bi := broadcastIndex(a.t.Shape, b.t.Shape)
		out := value{t: Tensor{Shape: ys}, ints: make([]int64, len(ai))}
		for k := range ai {
			if a.ints[ai[k]] == b.ints[bi[k]] {
				out.ints[k] = 1
			}
		}
		return out, nil
	case "Where":
		x, _ := n.in(1)
		y, _ := n.in(2)
		s1, ci, xi := broadcastIndex(a.t.Shape, x.t.Shape)
		ys, ki, yi := broadcastIndex(s1, y.t.Shape)
		src := make([]int, len(ki)) // into x, or into y past len(x)
		for k := range ki {
			if a.ints[ci[ki[k]]] != 0 {
				src[k] = xi[ki[k]]
			} else {
				src[k] = -1 - yi[k]
			}
		}
		out := value{t: Tensor{Shape: ys}}
		if x.ints != nil {
			out.ints = make([]int64, len(src))
			for k, i := range src {
				if i >= 0 {
					out.ints[k] = x.ints[i]
				} else {
					out.ints[k] = y.ints[-1-i]
				}
			}
			return out, nil
		}
		out.t.Data = make([]float32, len(src))
		for k, i := range src {
			if i >= 0 {
				out.t.Data[k] = x.t.Data[i]
			} else {
				out.t.Data[k] = y.t.Data[-1-i]
			}
		}
		return out, nil
	case "ConstantOfShape":
		shape := make([]int, len(a.ints))
		for i, d := range a.ints {
			shape[i] = int(d)
		}
		fill := value{t: Tensor{Shape: []int{1}, Data: []float32{0}}}
		if at := n.attr("value"); at != nil {
			var err error
			if fill, err = decode(at.GetT()); err != nil {
				return value{}, err
			}
		}
		return take(fill, shape, make([]int, size(shape))), nil
	}
	// Expand.
	s, _ := n.in(1)
	target := make([]int, len(s.ints))
	for i, d := range s.ints {
		target[i] = int(d)
	}
	ys, xi, _ := broadcastIndex(a.t.Shape, target)
	return take(a, ys, xi), nil
}
