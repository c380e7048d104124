// Package reference evaluates ONNX graphs the plainest possible way, for
// tests: each operator is a direct loop over its definition, accumulating
// in float64, straight from the ONNX nodes. It shares no code with the
// engine (no import, no fusion, no planning), so agreement between the
// two is evidence that both are right. It is slow; keep test models small.
package reference

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/clockwork-go/clockwork/internal/onnx"
)

// Tensor is a dense row-major float32 tensor.
type Tensor struct {
	Shape []int
	Data  []float32
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func newTensor(shape ...int) Tensor {
	return Tensor{Shape: append([]int{}, shape...), Data: make([]float32, size(shape))}
}

// value is a float tensor or, for shapes and Clip bounds, int64 data.
type value struct {
	t    Tensor
	ints []int64
}

// Run evaluates the graph's outputs for the given inputs.
func Run(m *onnx.ModelProto, inputs map[string]Tensor) (map[string]Tensor, error) {
	g := m.GetGraph()
	opset := int64(0)
	for _, o := range m.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			opset = o.GetVersion()
		}
	}
	env := map[string]value{}
	for _, t := range g.GetInitializer() {
		v, err := decode(t)
		if err != nil {
			return nil, err
		}
		env[t.GetName()] = v
	}
	for name, t := range inputs {
		env[name] = value{t: t}
	}
	for _, n := range g.GetNode() {
		if n.GetOpType() == "Split" {
			for i, v := range split(node{n: n, env: env}, opset) {
				env[n.GetOutput()[i]] = v
			}
			continue
		}
		if op := n.GetOpType(); op == "LSTM" || op == "GRU" || op == "RNN" {
			outs, err := recurrent(node{n: n, env: env}, op)
			if err != nil {
				return nil, fmt.Errorf("reference: %s node %q: %v", op, n.GetName(), err)
			}
			for i, o := range n.GetOutput() {
				if o != "" && i < len(outs) {
					env[o] = value{t: outs[i]}
				}
			}
			continue
		}
		out, err := evalNode(n, env, opset)
		if err != nil {
			return nil, fmt.Errorf("reference: %s node %q: %v", n.GetOpType(), n.GetName(), err)
		}
		env[n.GetOutput()[0]] = out
	}
	res := map[string]Tensor{}
	for _, o := range g.GetOutput() {
		v, ok := env[o.GetName()]
		if !ok {
			return nil, fmt.Errorf("reference: output %q not computed", o.GetName())
		}
		res[o.GetName()] = v.t
	}
	return res, nil
}

func decode(t *onnx.TensorProto) (value, error) {
	shape := make([]int, len(t.GetDims()))
	for i, d := range t.GetDims() {
		shape[i] = int(d)
	}
	n := size(shape)
	switch onnx.TensorProto_DataType(t.GetDataType()) {
	case onnx.TensorProto_FLOAT:
		out := newTensor(shape...)
		if raw := t.GetRawData(); len(raw) > 0 {
			for i := range n {
				out.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		} else {
			copy(out.Data, t.GetFloatData())
		}
		return value{t: out}, nil
	case onnx.TensorProto_INT64:
		v := value{t: Tensor{Shape: shape}, ints: make([]int64, n)}
		if raw := t.GetRawData(); len(raw) > 0 {
			for i := range n {
				v.ints[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		} else {
			copy(v.ints, t.GetInt64Data())
		}
		return v, nil
	}
	return value{}, fmt.Errorf("reference: tensor %q of type %d", t.GetName(), t.GetDataType())
}

// node gives access to a node's attributes and inputs.
type node struct {
	n   *onnx.NodeProto
	env map[string]value
}

func (n node) attr(name string) *onnx.AttributeProto {
	for _, a := range n.n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

func (n node) i(name string, def int) int {
	if a := n.attr(name); a != nil {
		return int(a.GetI())
	}
	return def
}

func (n node) f(name string, def float32) float32 {
	if a := n.attr(name); a != nil {
		return a.GetF()
	}
	return def
}

// strs is a STRINGS attribute, nil if absent.
func (n node) strs(name string) []string {
	a := n.attr(name)
	if a == nil {
		return nil
	}
	out := make([]string, len(a.GetStrings()))
	for i, v := range a.GetStrings() {
		out[i] = string(v)
	}
	return out
}

func (n node) s(name, def string) string {
	if a := n.attr(name); a != nil {
		return string(a.GetS())
	}
	return def
}

func (n node) ints(name string, def ...int) []int {
	a := n.attr(name)
	if a == nil {
		return def
	}
	out := make([]int, len(a.GetInts()))
	for i, v := range a.GetInts() {
		out[i] = int(v)
	}
	return out
}

// in returns input i; ok is false if it is absent.
func (n node) in(i int) (value, bool) {
	if i >= len(n.n.GetInput()) || n.n.GetInput()[i] == "" {
		return value{}, false
	}
	v, ok := n.env[n.n.GetInput()[i]]
	return v, ok
}

func (n node) x(i int) Tensor {
	v, _ := n.in(i)
	return v.t
}

func evalNode(p *onnx.NodeProto, env map[string]value, opset int64) (value, error) {
	n := node{n: p, env: env}
	for i, name := range p.GetInput() {
		if _, ok := env[name]; name != "" && !ok {
			return value{}, fmt.Errorf("input %d %q undefined", i, name)
		}
	}
	switch p.GetOpType() {
	case "Constant":
		if a := n.attr("value"); a != nil {
			return decode(a.GetT())
		}
		if a := n.attr("value_floats"); a != nil {
			return value{t: Tensor{Shape: []int{len(a.GetFloats())}, Data: a.GetFloats()}}, nil
		}
		if a := n.attr("value_float"); a != nil {
			return value{t: Tensor{Shape: []int{}, Data: []float32{a.GetF()}}}, nil
		}
		if a := n.attr("value_ints"); a != nil {
			return value{t: Tensor{Shape: []int{len(a.GetInts())}}, ints: a.GetInts()}, nil
		}
		return value{}, fmt.Errorf("unsupported Constant attribute")
	case "Conv":
		if len(n.x(0).Shape) == 5 {
			return value{t: conv3D(n)}, nil
		}
		return value{t: spatial(n, conv)}, nil
	case "BatchNormalization":
		return value{t: batchNorm(n)}, nil
	case "InstanceNormalization":
		return value{t: instanceNorm(n)}, nil
	case "GroupNormalization":
		return value{t: groupNorm(n, opset)}, nil
	case "Relu":
		return unary(n.x(0), func(x float64) float64 { return math.Max(x, 0) }), nil
	case "Clip":
		lo, hi := math.Inf(-1), math.Inf(1)
		if opset < 11 {
			lo, hi = float64(n.f("min", float32(lo))), float64(n.f("max", float32(hi)))
		} else {
			if v, ok := n.in(1); ok {
				lo = float64(v.t.Data[0])
			}
			if v, ok := n.in(2); ok {
				hi = float64(v.t.Data[0])
			}
		}
		return unary(n.x(0), func(x float64) float64 { return math.Min(math.Max(x, lo), hi) }), nil
	case "HardSigmoid":
		a, b := float64(n.f("alpha", 0.2)), float64(n.f("beta", 0.5))
		return unary(n.x(0), func(x float64) float64 { return math.Max(0, math.Min(1, a*x+b)) }), nil
	case "HardSwish":
		return unary(n.x(0), func(x float64) float64 { return x * math.Max(0, math.Min(1, x/6+0.5)) }), nil
	case "Sigmoid":
		return unary(n.x(0), func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }), nil
	case "Tanh":
		return unary(n.x(0), math.Tanh), nil
	case "LeakyRelu":
		a := float64(n.f("alpha", 0.01))
		return unary(n.x(0), func(x float64) float64 { return max(x, 0) + a*min(x, 0) }), nil
	case "Elu", "Selu", "Softplus", "Softsign", "Mish", "Gelu", "ThresholdedRelu", "Celu":
		return activation(n)
	case "PRelu":
		return value{t: broadcast(n.x(0), n.x(1), func(x, slope float64) float64 {
			if x < 0 {
				return slope * x
			}
			return x
		})}, nil
	case "Shape", "Gather", "Squeeze", "Unsqueeze", "Slice", "Cast", "Transpose":
		return shapeOp(n, opset)
	case "Add", "Sub", "Mul", "Div", "Concat":
		if a, _ := n.in(0); a.ints != nil {
			return intOp(n)
		}
	}
	switch p.GetOpType() {
	case "Sum", "Max", "Min":
		f := map[string]func(a, b float64) float64{"Sum": func(a, b float64) float64 { return a + b }, "Max": math.Max, "Min": math.Min}[p.GetOpType()]
		y := n.x(0)
		for i := 1; i < len(p.GetInput()); i++ {
			y = broadcast(y, n.x(i), f)
		}
		return value{t: y}, nil
	case "Add":
		return value{t: broadcast(n.x(0), n.x(1), func(a, b float64) float64 { return a + b })}, nil
	case "Mul":
		return value{t: broadcast(n.x(0), n.x(1), func(a, b float64) float64 { return a * b })}, nil
	case "Sub":
		return value{t: broadcast(n.x(0), n.x(1), func(a, b float64) float64 { return a - b })}, nil
	case "Div":
		return value{t: broadcast(n.x(0), n.x(1), func(a, b float64) float64 { return a / b })}, nil
	case "MaxPool", "AveragePool":
		if len(n.x(0).Shape) == 5 {
			return value{t: pool3D(n)}, nil
		}
		return value{t: spatial(n, pool)}, nil
	case "Pad":
		return value{t: pad(n, opset)}, nil
	case "GlobalAveragePool":
		return value{t: globalAvgPool(n.x(0))}, nil
	case "GlobalMaxPool":
		var spatial []int
		for a := 2; a < len(n.x(0).Shape); a++ {
			spatial = append(spatial, a)
		}
		return value{t: reduce(n.x(0), spatial, true, "max")}, nil
	case "ReduceMean", "ReduceMax", "ReduceSum", "ReduceMin", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum",
		"ReduceLogSumExp":
		axes := n.ints("axes")
		if v, ok := n.in(1); ok {
			for _, a := range v.ints {
				axes = append(axes, int(a))
			}
		}
		return value{t: reduce(n.x(0), axes, n.i("keepdims", 1) == 1, strings.ToLower(strings.TrimPrefix(p.GetOpType(), "Reduce")))}, nil
	case "Flatten":
		x := n.x(0)
		axis := n.i("axis", 1)
		if axis < 0 {
			axis += len(x.Shape)
		}
		return value{t: Tensor{Shape: []int{size(x.Shape[:axis]), size(x.Shape[axis:])}, Data: x.Data}}, nil
	case "DepthToSpace":
		return value{t: depthToSpace(n.x(0), n.i("blocksize", 1), n.s("mode", "DCR") == "CRD", false)}, nil
	case "Tile":
		r, _ := n.in(1)
		return value{t: tile(n.x(0), r.ints)}, nil
	case "SpaceToDepth":
		return value{t: depthToSpace(n.x(0), n.i("blocksize", 1), false, true)}, nil
	case "Reshape":
		x, _ := n.in(0)
		return value{t: reshape(n), ints: x.ints}, nil
	case "Identity", "Dropout":
		return value{t: n.x(0)}, nil
	case "Gemm":
		return value{t: gemm(n)}, nil
	case "MatMul":
		return value{t: matmul(n.x(0), n.x(1))}, nil
	case "Einsum":
		xs := make([]Tensor, len(p.GetInput()))
		for i := range xs {
			xs[i] = n.x(i)
		}
		y, err := einsum(n.s("equation", ""), xs)
		return value{t: y}, err
	case "Concat":
		return value{t: concat(n)}, nil
	case "Softmax", "LogSoftmax":
		return value{t: softmax(n, opset)}, nil
	case "Erf", "Sqrt", "Exp", "Log", "Abs", "Neg", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos":
		return unary(n.x(0), elementwise[p.GetOpType()]), nil
	case "Pow":
		return value{t: broadcast(n.x(0), n.x(1), math.Pow)}, nil
	case "Equal", "Where", "ConstantOfShape", "Expand":
		return selectOp(n)
	case "Resize", "Upsample":
		return value{t: resize(n, opset)}, nil
	case "LRN":
		return value{t: lrn(n)}, nil
	case "ConvTranspose":
		return value{t: spatial(n, convTranspose)}, nil
	case "LayerNormalization":
		return value{t: layerNorm(n)}, nil
	}
	return value{}, fmt.Errorf("operator not in the reference")
}

// elementwise are the unary operators whose definitions are a function
// of one element.
var elementwise = map[string]func(float64) float64{
	"Erf": math.Erf, "Sqrt": math.Sqrt, "Exp": math.Exp, "Log": math.Log, "Abs": math.Abs,
	"Neg":        func(x float64) float64 { return -x },
	"Reciprocal": func(x float64) float64 { return 1 / x },
	"Floor":      math.Floor, "Ceil": math.Ceil, "Round": math.RoundToEven,
	"Sign": func(x float64) float64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return x // 0, −0 or NaN
	},
	"Sin": math.Sin, "Cos": math.Cos,
}

func unary(x Tensor, f func(float64) float64) value {
	y := newTensor(x.Shape...)
	for i, v := range x.Data {
		y.Data[i] = float32(f(float64(v)))
	}
	return value{t: y}
}

// pads resolves ONNX padding for one spatial axis: begin, end and output
// size.
func pads(autoPad string, in, k, s, d, pb, pe int, ceil bool) (int, int, int) {
	ek := (k-1)*d + 1
	switch autoPad {
	case "VALID":
		return 0, 0, (in-ek)/s + 1
	case "SAME_UPPER", "SAME_LOWER":
		out := (in + s - 1) / s
		total := max(0, (out-1)*s+ek-in)
		if autoPad == "SAME_UPPER" {
			return total / 2, total - total/2, out
		}
		return total - total/2, total / 2, out
	}
	num := in + pb + pe - ek
	if !ceil {
		return pb, pe, num/s + 1
	}
	out := int(math.Ceil(float64(num)/float64(s))) + 1
	if (out-1)*s >= in+pb {
		out--
	}
	return pb, pe, out
}

func conv(n node) Tensor {
	x, w := n.x(0), n.x(1)
	b, hasB := n.in(2)
	N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	M, KH, KW := w.Shape[0], w.Shape[2], w.Shape[3]
	G := n.i("group", 1)
	s := n.ints("strides", 1, 1)
	d := n.ints("dilations", 1, 1)
	p := n.ints("pads", 0, 0, 0, 0)
	ap := n.s("auto_pad", "NOTSET")
	pt, _, OH := pads(ap, H, KH, s[0], d[0], p[0], p[2], false)
	pl, _, OW := pads(ap, W, KW, s[1], d[1], p[1], p[3], false)
	cg, mg := C/G, M/G
	y := newTensor(N, M, OH, OW)
	for in := range N {
		for m := range M {
			g := m / mg
			for oh := range OH {
				for ow := range OW {
					var sum float64
					if hasB {
						sum = float64(b.t.Data[m])
					}
					for c := range cg {
						for kh := range KH {
							ih := oh*s[0] - pt + kh*d[0]
							if ih < 0 || ih >= H {
								continue
							}
							for kw := range KW {
								iw := ow*s[1] - pl + kw*d[1]
								if iw < 0 || iw >= W {
									continue
								}
								xv := x.Data[((in*C+g*cg+c)*H+ih)*W+iw]
								wv := w.Data[((m*cg+c)*KH+kh)*KW+kw]
								sum += float64(xv) * float64(wv)
							}
						}
					}
					y.Data[((in*M+m)*OH+oh)*OW+ow] = float32(sum)
				}
			}
		}
	}
	return y
}

func batchNorm(n node) Tensor {
	x, scale, bias, mean, vr := n.x(0), n.x(1), n.x(2), n.x(3), n.x(4)
	eps := float64(n.f("epsilon", 1e-5))
	y := newTensor(x.Shape...)
	C := x.Shape[1]
	inner := size(x.Shape[2:])
	for i, v := range x.Data {
		c := i / inner % C
		norm := (float64(v) - float64(mean.Data[c])) / math.Sqrt(float64(vr.Data[c])+eps)
		y.Data[i] = float32(norm*float64(scale.Data[c]) + float64(bias.Data[c]))
	}
	return y
}

// instanceNorm normalises each (item, channel) plane to mean 0 and
// variance 1 (biased, epsilon added), then scales and shifts it by the
// channel's.
func instanceNorm(n node) Tensor {
	x, scale, bias := n.x(0), n.x(1), n.x(2)
	eps := float64(n.f("epsilon", 1e-5))
	y := newTensor(x.Shape...)
	C, inner := x.Shape[1], size(x.Shape[2:])
	for p := range size(x.Shape[:2]) {
		plane := x.Data[p*inner : (p+1)*inner]
		mean, v := moments(plane)
		c := p % C
		for i, e := range plane {
			y.Data[p*inner+i] = float32((float64(e)-mean)/math.Sqrt(v+eps)*float64(scale.Data[c]) + float64(bias.Data[c]))
		}
	}
	return y
}

// moments are the mean and the (biased) variance of v, in float64.
func moments(v []float32) (mean, variance float64) {
	for _, e := range v {
		mean += float64(e)
	}
	mean /= float64(len(v))
	for _, e := range v {
		variance += (float64(e) - mean) * (float64(e) - mean)
	}
	return mean, variance / float64(len(v))
}

// groupNorm is GroupNormalization: the statistics of each group of
// num_groups of an item's channels, over them and the spatial axes; scale
// and bias per channel, or per group before opset 21 where there are that
// many.
func groupNorm(n node, opset int64) Tensor {
	x, scale, bias := n.x(0), n.x(1), n.x(2)
	eps, G := float64(n.f("epsilon", 1e-5)), n.i("num_groups", 1)
	C, inner := x.Shape[1], size(x.Shape[2:])
	span := C / G * inner // a group's elements
	y := newTensor(x.Shape...)
	for g := range size(x.Shape[:1]) * G {
		part := x.Data[g*span : (g+1)*span]
		mean, v := moments(part)
		for i, e := range part {
			c := (g%G)*(C/G) + i/inner
			k := c
			if len(scale.Data) == G && opset < 21 {
				k = g % G
			}
			y.Data[g*span+i] = float32((float64(e)-mean)/math.Sqrt(v+eps)*float64(scale.Data[k]) + float64(bias.Data[k]))
		}
	}
	return y
}

// broadcast applies f with numpy broadcasting.
func broadcast(a, b Tensor, f func(a, b float64) float64) Tensor {
	ys, ai, bi := broadcastIndex(a.Shape, b.Shape)
	y := newTensor(ys...)
	for k := range y.Data {
		y.Data[k] = float32(f(float64(a.Data[ai[k]]), float64(b.Data[bi[k]])))
	}
	return y
}

// broadcastIndex is the numpy broadcast of shapes as and bs, and for each
// output element the elements of a and b it combines.
func broadcastIndex(as, bs []int) (ys, ai, bi []int) {
	r := max(len(as), len(bs))
	pad := func(s []int) []int {
		out := make([]int, r)
		for i := range out {
			out[i] = 1
		}
		copy(out[r-len(s):], s)
		return out
	}
	as, bs = pad(as), pad(bs)
	ys = make([]int, r)
	for i := range ys {
		ys[i] = max(as[i], bs[i])
	}
	idx := make([]int, r)
	for k := range size(ys) {
		rem := k
		for i := r - 1; i >= 0; i-- {
			idx[i] = rem % ys[i]
			rem /= ys[i]
		}
		a, b := 0, 0
		for i := range r {
			a = a*as[i] + idx[i]%as[i]
			b = b*bs[i] + idx[i]%bs[i]
		}
		ai, bi = append(ai, a), append(bi, b)
	}
	return ys, ai, bi
}

// pad pads x with the constant value (mode constant) by the pads given
// as an attribute (before opset 11) or inputs.
func pad(n node, opset int64) Tensor {
	x := n.x(0)
	r := len(x.Shape)
	pads, value := n.ints("pads"), n.f("value", 0)
	var axes []int
	if opset >= 11 {
		pads = n.listInput("pads", 1, opset, 11)
		if v, ok := n.in(2); ok {
			value = v.t.Data[0]
		}
		axes = n.listInput("axes", 3, opset, 18)
	}
	if axes == nil {
		for a := range r {
			axes = append(axes, a)
		}
	}
	begin, ys := make([]int, r), append([]int{}, x.Shape...)
	for i, a := range axes {
		a = (a + r) % r
		begin[a] = pads[i]
		ys[a] += pads[i] + pads[len(axes)+i]
	}
	y := newTensor(ys...)
	idx := make([]int, r)
	for k := range y.Data {
		rem := k
		for d := r - 1; d >= 0; d-- {
			idx[d] = rem % ys[d]
			rem /= ys[d]
		}
		src, inside := 0, true
		for d := range r {
			i := idx[d] - begin[d]
			inside = inside && i >= 0 && i < x.Shape[d]
			src = src*x.Shape[d] + i
		}
		y.Data[k] = value
		if inside {
			y.Data[k] = x.Data[src]
		}
	}
	return y
}

func pool(n node) Tensor {
	x := n.x(0)
	N, C, H, W := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	k := n.ints("kernel_shape")
	s := n.ints("strides", 1, 1)
	d := n.ints("dilations", 1, 1)
	p := n.ints("pads", 0, 0, 0, 0)
	ap := n.s("auto_pad", "NOTSET")
	ceil := n.i("ceil_mode", 0) == 1
	countPad := n.i("count_include_pad", 0) == 1
	isMax := n.n.GetOpType() == "MaxPool"
	pt, pb, OH := pads(ap, H, k[0], s[0], d[0], p[0], p[2], ceil)
	pl, pr, OW := pads(ap, W, k[1], s[1], d[1], p[1], p[3], ceil)
	y := newTensor(N, C, OH, OW)
	for nc := range N * C {
		for oh := range OH {
			for ow := range OW {
				best, sum, count, padded := math.Inf(-1), 0.0, 0, 0
				for kh := range k[0] {
					for kw := range k[1] {
						ih, iw := oh*s[0]-pt+kh*d[0], ow*s[1]-pl+kw*d[1]
						if ih >= -pt && ih < H+pb && iw >= -pl && iw < W+pr {
							padded++
						}
						if ih < 0 || ih >= H || iw < 0 || iw >= W {
							continue
						}
						v := float64(x.Data[(nc*H+ih)*W+iw])
						best = math.Max(best, v)
						sum += v
						count++
					}
				}
				out := best
				if !isMax {
					div := count
					if countPad {
						div = padded
					}
					out = sum / float64(div)
				}
				y.Data[(nc*OH+oh)*OW+ow] = float32(out)
			}
		}
	}
	return y
}

func globalAvgPool(x Tensor) Tensor {
	shape := []int{x.Shape[0], x.Shape[1]}
	for range x.Shape[2:] {
		shape = append(shape, 1)
	}
	y := newTensor(shape...)
	inner := size(x.Shape[2:])
	for i := range y.Data {
		var s float64
		for _, v := range x.Data[i*inner : (i+1)*inner] {
			s += float64(v)
		}
		y.Data[i] = float32(s / float64(inner))
	}
	return y
}

// reduce averages x over axes (all if none), or with how "max", "min",
// "sum", "l1", "l2" or "sumsquare" takes the maximum, the minimum, the
// sum, the sum of absolute values, the L2 norm or the sum of squares, in
// float64.
func reduce(x Tensor, axes []int, keep bool, how string) Tensor {
	r := len(x.Shape)
	reduced := make([]bool, r)
	for _, a := range axes {
		reduced[(a+r)%r] = true
	}
	if len(axes) == 0 {
		for i := range reduced {
			reduced[i] = true
		}
	}
	var shape []int
	for i, d := range x.Shape {
		switch {
		case !reduced[i]:
			shape = append(shape, d)
		case keep:
			shape = append(shape, 1)
		}
	}
	acc := make([]float64, size(shape))
	for i := range acc {
		switch how {
		case "max":
			acc[i] = math.Inf(-1)
		case "min":
			acc[i] = math.Inf(1)
		}
	}
	idx := make([]int, r)
	for _, f := range x.Data {
		o := 0
		for i := range r {
			if !reduced[i] {
				o = o*x.Shape[i] + idx[i]
			}
		}
		v := float64(f)
		switch how {
		case "max":
			acc[o] = math.Max(acc[o], v)
		case "min":
			acc[o] = math.Min(acc[o], v)
		case "l1":
			acc[o] += math.Abs(v)
		case "l2", "sumsquare":
			acc[o] += v * v
		case "logsumexp": // in float64, which overflows only past 709
			acc[o] += math.Exp(v)
		default:
			acc[o] += v
		}
		for i := r - 1; i >= 0; i-- { // next index, last axis fastest
			if idx[i]++; idx[i] < x.Shape[i] {
				break
			}
			idx[i] = 0
		}
	}
	count := 0
	if len(acc) > 0 {
		count = len(x.Data) / len(acc)
	}
	y := newTensor(shape...)
	for i, a := range acc {
		switch how {
		case "mean":
			a /= float64(count)
		case "l2":
			a = math.Sqrt(a)
		case "logsum", "logsumexp":
			a = math.Log(a)
		}
		y.Data[i] = float32(a)
	}
	return y
}

func reshape(n node) Tensor {
	x := n.x(0)
	sv, _ := n.in(1)
	shape := make([]int, len(sv.ints))
	known, infer := 1, -1
	for i, d := range sv.ints {
		switch {
		case d == -1:
			infer = i
			continue
		case d == 0 && n.i("allowzero", 0) == 0:
			d = int64(x.Shape[i])
		}
		shape[i] = int(d)
		known *= int(d)
	}
	if infer >= 0 {
		shape[infer] = size(x.Shape) / known
	}
	return Tensor{Shape: shape, Data: x.Data}
}

func gemm(n node) Tensor {
	a, b := n.x(0), n.x(1)
	c, hasC := n.in(2)
	alpha, beta := float64(n.f("alpha", 1)), float64(n.f("beta", 1))
	ta, tb := n.i("transA", 0) == 1, n.i("transB", 0) == 1
	M, K := a.Shape[0], a.Shape[1]
	if ta {
		M, K = K, M
	}
	N := b.Shape[1]
	if tb {
		N = b.Shape[0]
	}
	at := func(i, k int) float64 {
		if ta {
			return float64(a.Data[k*M+i])
		}
		return float64(a.Data[i*K+k])
	}
	bt := func(k, j int) float64 {
		if tb {
			return float64(b.Data[j*K+k])
		}
		return float64(b.Data[k*N+j])
	}
	y := newTensor(M, N)
	var cb Tensor
	if hasC {
		cb = broadcast(y, c.t, func(_, c float64) float64 { return c })
	}
	for i := range M {
		for j := range N {
			var s float64
			for k := range K {
				s += at(i, k) * bt(k, j)
			}
			s *= alpha
			if hasC {
				s += beta * float64(cb.Data[i*N+j])
			}
			y.Data[i*N+j] = float32(s)
		}
	}
	return y
}

// matmul is numpy's matmul of operands of rank ≥ 2, the batch dimensions
// (all but the last two) broadcast.
func matmul(a, b Tensor) Tensor {
	ra, rb := len(a.Shape), len(b.Shape)
	M, K, N := a.Shape[ra-2], a.Shape[ra-1], b.Shape[rb-1]
	r := max(ra, rb)
	// Batch dimensions, each operand's left-padded with 1s.
	pad := func(s []int) []int { return append(make([]int, r-len(s)), s[:len(s)-2]...) }
	da, db := pad(a.Shape), pad(b.Shape)
	out := make([]int, r-2)
	for i := range out {
		da[i], db[i] = max(da[i], 1), max(db[i], 1) // the padding's zeros
		out[i] = max(da[i], db[i])
	}
	y := newTensor(append(out, M, N)...)
	idx := make([]int, len(out))
	for bi := range size(out) {
		// idx is bi's position in out; each operand's matrix follows it,
		// staying at 0 along the dimensions it broadcasts.
		for i, t := len(out)-1, bi; i >= 0; i-- {
			idx[i], t = t%out[i], t/out[i]
		}
		oa, ob := 0, 0
		for i := range out {
			oa = oa*da[i] + idx[i]%da[i]
			ob = ob*db[i] + idx[i]%db[i]
		}
		for i := range M {
			for j := range N {
				var s float64
				for k := range K {
					s += float64(a.Data[(oa*M+i)*K+k]) * float64(b.Data[(ob*K+k)*N+j])
				}
				y.Data[(bi*M+i)*N+j] = float32(s)
			}
		}
	}
	return y
}

func concat(n node) Tensor {
	axis := n.i("axis", 0)
	first := n.x(0)
	if axis < 0 {
		axis += len(first.Shape)
	}
	shape := append([]int{}, first.Shape...)
	shape[axis] = 0
	for i := range n.n.GetInput() {
		shape[axis] += n.x(i).Shape[axis]
	}
	y := newTensor(shape...)
	outer, inner := size(shape[:axis]), size(shape[axis+1:])
	off := 0
	for i := range n.n.GetInput() {
		x := n.x(i)
		blk := x.Shape[axis] * inner
		for o := range outer {
			copy(y.Data[o*shape[axis]*inner+off:], x.Data[o*blk:(o+1)*blk])
		}
		off += blk
	}
	return y
}

func softmax(n node, opset int64) Tensor {
	x := n.x(0)
	r := len(x.Shape)
	def := -1
	if opset < 13 {
		def = 1
	}
	axis := n.i("axis", def)
	if axis < 0 {
		axis += r
	}
	outer, length, inner := size(x.Shape[:axis]), x.Shape[axis], size(x.Shape[axis+1:])
	if opset < 13 {
		length, inner = size(x.Shape[axis:]), 1
	}
	y := newTensor(x.Shape...)
	for o := range outer {
		for in := range inner {
			at := func(j int) int { return (o*length+j)*inner + in }
			m := math.Inf(-1)
			for j := range length {
				m = math.Max(m, float64(x.Data[at(j)]))
			}
			var s float64
			for j := range length {
				s += math.Exp(float64(x.Data[at(j)]) - m)
			}
			for j := range length {
				v := float64(x.Data[at(j)]) - m
				if n.n.GetOpType() == "LogSoftmax" {
					y.Data[at(j)] = float32(v - math.Log(s))
				} else {
					y.Data[at(j)] = float32(math.Exp(v) / s)
				}
			}
		}
	}
	return y
}

// layerNorm normalises over the axes from axis on, with the variance as
// E[x²] − E[x]² (the executors subtract the mean first).
func layerNorm(n node) Tensor {
	x := n.x(0)
	axis := n.i("axis", -1)
	if axis < 0 {
		axis += len(x.Shape)
	}
	eps := float64(n.f("epsilon", 1e-5))
	scale, bias := n.x(1), Tensor{}
	if v, ok := n.in(2); ok {
		bias = v.t
	}
	length := size(x.Shape[axis:])
	y := newTensor(x.Shape...)
	for o := range size(x.Shape[:axis]) {
		row := x.Data[o*length : (o+1)*length]
		var s, s2 float64
		for _, v := range row {
			s += float64(v)
			s2 += float64(v) * float64(v)
		}
		mean := s / float64(length)
		sd := math.Sqrt(s2/float64(length) - mean*mean + eps)
		for j, v := range row {
			out := (float64(v) - mean) / sd * float64(scale.Data[j])
			if bias.Data != nil {
				out += float64(bias.Data[j])
			}
			y.Data[o*length+j] = float32(out)
		}
	}
	return y
}

// resize is Resize (or Upsample) of [N, C, H, W] over H and W, nearest or
// linear, as ONNX's reference computes it: each output coordinate mapped
// to the input's, then the nearest element or the two around it, the
// input padded with its edge values.
func resize(n node, opset int64) Tensor {
	x := n.x(0)
	mode := n.s("mode", "nearest")
	coord, nearest := "asymmetric", "floor"
	var scales []float64
	var sizes []int64
	scaleInput := 1
	f := filter{mode: mode, a: -0.75}
	if n.n.GetOpType() == "Resize" && opset >= 11 {
		coord, nearest = n.s("coordinate_transformation_mode", "half_pixel"), n.s("nearest_mode", "round_prefer_floor")
		f.a, f.antialias, f.exclude = float64(n.f("cubic_coeff_a", -0.75)), n.i("antialias", 0) == 1, n.i("exclude_outside", 0) == 1
		scaleInput = 2
		if v, ok := n.in(3); ok {
			sizes = v.ints
		}
	}
	if n.n.GetOpType() == "Upsample" && opset < 9 {
		for _, f := range n.attr("scales").GetFloats() {
			scales = append(scales, float64(f))
		}
	} else if v, ok := n.in(scaleInput); ok {
		for _, f := range v.t.Data {
			scales = append(scales, float64(f))
		}
	}
	if len(x.Shape) == 3 { // [N, C, L]: the resize of height 1
		y := resize2D(Tensor{Shape: slices.Insert(slices.Clone(x.Shape), 2, 1), Data: x.Data},
			liftAxis(scales, 1), liftAxis(sizes, 1), f, coord, nearest)
		return Tensor{Shape: slices.Delete(y.Shape, 2, 3), Data: y.Data}
	}
	return resize2D(x, scales, sizes, f, coord, nearest)
}

// liftAxis puts first before the last of v's three values.
func liftAxis[T any](v []T, first T) []T {
	if len(v) != 3 {
		return v
	}
	return slices.Insert(slices.Clone(v), 2, first)
}

// resize2D resizes the spatial axes of x [N, C, H, W] by scales or sizes
// (one per axis, sizes taking precedence).
func resize2D(x Tensor, scales []float64, sizes []int64, f filter, coord, nearest string) Tensor {
	mode := f.mode
	in := x.Shape
	out := make([]int, 4)
	scale := make([]float64, 4)
	for d := range 4 {
		if len(sizes) == 4 {
			out[d] = int(sizes[d])
			scale[d] = float64(out[d]) / float64(in[d])
		} else {
			scale[d] = scales[d]
			out[d] = int(math.Floor(float64(in[d]) * scale[d]))
		}
	}
	// source maps output coordinate o of axis d to the input's.
	source := func(d, o int) float64 {
		i, s, l, L := float64(o), scale[d], float64(in[d]), float64(out[d])
		switch coord {
		case "half_pixel":
			return (i+0.5)/s - 0.5
		case "pytorch_half_pixel":
			if L > 1 {
				return (i+0.5)/s - 0.5
			}
			return 0
		case "align_corners":
			if L > 1 {
				return i * (l - 1) / (L - 1)
			}
			return 0
		case "tf_half_pixel_for_nearest":
			return (i + 0.5) / s
		}
		return i / s
	}
	if mode == "cubic" || mode == "linear" && (f.antialias || f.exclude) {
		return f.resize(x, out, scale, source)
	}
	at := func(p, iy, ix int) float64 {
		iy, ix = min(max(iy, 0), in[2]-1), min(max(ix, 0), in[3]-1)
		return float64(x.Data[(p*in[2]+iy)*in[3]+ix])
	}
	round := func(v float64) int {
		switch nearest {
		case "floor":
			return int(math.Floor(v))
		case "ceil":
			return int(math.Ceil(v))
		}
		f := math.Floor(v)
		if v-f == 0.5 {
			if nearest == "round_prefer_ceil" {
				return int(f) + 1
			}
			return int(f)
		}
		return int(math.Round(v))
	}
	y := newTensor(in[0], in[1], out[2], out[3])
	for p := range in[0] * in[1] {
		for oy := range out[2] {
			sy := source(2, oy)
			for ox := range out[3] {
				sx := source(3, ox)
				var v float64
				if mode == "nearest" {
					v = at(p, round(sy), round(sx))
				} else {
					fy, fx := math.Floor(sy), math.Floor(sx)
					wy, wx := sy-fy, sx-fx
					iy, ix := int(fy), int(fx)
					v = (1-wy)*((1-wx)*at(p, iy, ix)+wx*at(p, iy, ix+1)) + wy*((1-wx)*at(p, iy+1, ix)+wx*at(p, iy+1, ix+1))
				}
				y.Data[(p*out[2]+oy)*out[3]+ox] = float32(v)
			}
		}
	}
	return y
}

// lrn is ONNX's LRN, the window's sum of squares taken afresh for every
// element.
func lrn(n node) Tensor {
	x := n.x(0)
	window := n.i("size", 1)
	alpha, beta, bias := float64(n.f("alpha", 1e-4)), float64(n.f("beta", 0.75)), float64(n.f("bias", 1))
	c, inner := x.Shape[1], size(x.Shape[2:])
	y := newTensor(x.Shape...)
	for i := range x.Data {
		ch, img, s := i/inner%c, i/(inner*c), i%inner
		var sq float64
		for q := ch - (window-1)/2; q <= ch+window/2; q++ {
			if q >= 0 && q < c {
				v := float64(x.Data[(img*c+q)*inner+s])
				sq += v * v
			}
		}
		y.Data[i] = float32(float64(x.Data[i]) / math.Pow(bias+alpha/float64(window)*sq, beta))
	}
	return y
}

// convTranspose scatters each input element times the kernel into the
// output, as ONNX defines ConvTranspose (2-D), the pads from output_shape
// or auto_pad where given.
func convTranspose(n node) Tensor {
	x, w := n.x(0), n.x(1)
	group := n.i("group", 1)
	strides, dils := n.ints("strides", 1, 1), n.ints("dilations", 1, 1)
	outPad := n.ints("output_padding", 0, 0)
	pads := n.ints("pads", 0, 0, 0, 0)
	autoPad := n.s("auto_pad", "NOTSET")
	outShape := n.ints("output_shape")
	if len(outShape) == 4 {
		outShape = outShape[2:]
	}
	cg, mg := x.Shape[1]/group, w.Shape[1]
	var full, begin [2]int
	for i := range 2 {
		k := w.Shape[2+i]
		full[i] = strides[i]*(x.Shape[2+i]-1) + outPad[i] + (k-1)*dils[i] + 1
		b, e := pads[i], pads[2+i]
		want := -1
		if outShape != nil {
			want = outShape[i]
		} else if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
			want = x.Shape[2+i] * strides[i]
		} else if autoPad == "VALID" {
			b, e = 0, 0
		}
		if want >= 0 {
			t := full[i] - want
			h := int(math.Floor(float64(t) / 2))
			b, e = t-h, h
			if autoPad == "SAME_UPPER" {
				b, e = h, t-h
			}
		}
		begin[i], full[i] = b, full[i]-b-e
	}
	y := newTensor(x.Shape[0], mg*group, full[0], full[1])
	acc := make([]float64, len(y.Data))
	if v, ok := n.in(2); ok {
		for i := range acc {
			acc[i] = float64(v.t.Data[i/(full[0]*full[1])%(mg*group)])
		}
	}
	for img := range x.Shape[0] {
		for c := range x.Shape[1] {
			g := c / cg
			for iy := range x.Shape[2] {
				for ix := range x.Shape[3] {
					xv := float64(x.Data[((img*x.Shape[1]+c)*x.Shape[2]+iy)*x.Shape[3]+ix])
					for mi := range mg {
						m := g*mg + mi
						for ky := range w.Shape[2] {
							oy := iy*strides[0] - begin[0] + ky*dils[0]
							if oy < 0 || oy >= full[0] {
								continue
							}
							for kx := range w.Shape[3] {
								ox := ix*strides[1] - begin[1] + kx*dils[1]
								if ox < 0 || ox >= full[1] {
									continue
								}
								wv := float64(w.Data[((c*mg+mi)*w.Shape[2]+ky)*w.Shape[3]+kx])
								acc[((img*mg*group+m)*full[0]+oy)*full[1]+ox] += xv * wv
							}
						}
					}
				}
			}
		}
	}
	for i, v := range acc {
		y.Data[i] = float32(v)
	}
	return y
}
