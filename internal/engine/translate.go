package engine

import (
	"fmt"
	"math"
	"slices"

	"github.com/clockwork-go/clockwork/internal/onnx"
)

// translate fills n from the ONNX node.
func (r *nodeReader) translate(n *node) error {
	a := r.a
	var err error
	switch op := r.np.GetOpType(); op {
	case "Conv":
		return r.conv(n)
	case "BatchNormalization":
		return r.batchNorm(n)
	case "Relu":
		n.kind, n.act = nActivate, Activation{Kind: ActRelu}
		return r.unary(n)
	case "Clip":
		return r.clip(n)
	case "HardSigmoid":
		n.kind, n.act.Kind = nActivate, ActHardSigmoid
		if n.act.Alpha, err = a.float("alpha", 0.2); err != nil {
			return err
		}
		if n.act.Beta, err = a.float("beta", 0.5); err != nil {
			return err
		}
		return r.unary(n)
	case "HardSwish":
		n.kind, n.act = nActivate, Activation{Kind: ActHardSwish, Alpha: 1.0 / 6, Beta: 0.5}
		return r.unary(n)
	case "Sigmoid":
		n.kind, n.act = nActivate, Activation{Kind: ActSigmoid}
		return r.unary(n)
	case "Tanh":
		n.kind, n.act = nActivate, Activation{Kind: ActTanh}
		return r.unary(n)
	case "Erf", "Sqrt", "Exp", "Log", "Abs", "Neg", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos":
		n.kind, n.act = nActivate, Activation{Kind: unaryActs[op]}
		return r.unary(n)
	case "Pow":
		return r.pow(n)
	case "Elu", "Selu", "Softplus", "Softsign", "Mish", "Gelu", "ThresholdedRelu", "Celu":
		return r.activation(n, op)
	case "PRelu":
		return r.prelu(n)
	case "LayerNormalization":
		return r.layerNorm(n)
	case "GroupNormalization":
		return r.groupNorm(n)
	case "InstanceNormalization":
		return r.instanceNorm(n)
	case "LeakyRelu":
		n.kind, n.act.Kind = nActivate, ActLeakyRelu
		if n.act.Alpha, err = a.float("alpha", 0.01); err != nil {
			return err
		}
		return r.unary(n)
	case "Add", "Mul":
		n.kind, n.binop = nBinary, Add
		if op == "Mul" {
			n.binop = Mul
		}
		if a.has("axis") {
			return r.errorf("legacy broadcast with an axis attribute is not supported")
		}
		return r.dataInputs(n, 2, 2)
	case "Sub", "Div":
		return r.byConstant(n, op)
	case "Sum": // Caffe2's residual Add
		return r.chain(n, Add)
	case "Max", "Min":
		return r.maxMin(n, op)
	case "MaxPool", "AveragePool":
		return r.poolNode(n)
	case "GlobalAveragePool", "GlobalMaxPool":
		n.kind, n.pool.mode = nGlobalPool, PoolAvg
		if op == "GlobalMaxPool" {
			n.pool.mode = PoolMax
		}
		return r.unary(n)
	case "ReduceMean", "ReduceMax", "ReduceSum", "ReduceMin", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum",
		"ReduceLogSumExp":
		return r.reduce(n, op)
	case "Flatten":
		n.kind, n.view = nView, viewFlatten
		if n.axis, err = a.int("axis", 1, -maxDim, maxDim); err != nil {
			return err
		}
		return r.unary(n)
	case "Reshape":
		return r.reshape(n)
	case "DepthToSpace", "SpaceToDepth":
		return r.depthToSpace(n, op)
	case "Squeeze", "Unsqueeze":
		return r.squeezeNode(n, op)
	case "Cast":
		return r.castNode(n)
	case "Transpose":
		return r.transposeNode(n)
	case "Pad":
		return r.padNode(n)
	case "Tile":
		return r.tileNode(n)
	case "Expand":
		return r.expandNode(n)
	case "Resize", "Upsample":
		return r.resizeNode(n, op)
	case "LRN":
		return r.lrnNode(n)
	case "ConvTranspose":
		return r.convTransposeNode(n)
	case "Slice":
		return r.sliceNode(n)
	case "Gather":
		return r.gatherNode(n)
	case "Identity":
		n.kind, n.view = nView, viewIdentity
		return r.unary(n)
	case "Dropout":
		return r.dropout(n)
	case "Gemm", "MatMul":
		return r.gemmNode(n)
	case "Einsum":
		return r.einsum(n)
	case "Concat":
		n.kind = nConcat
		if !a.has("axis") {
			return r.errorf("missing attribute \"axis\"")
		}
		if n.axis, err = a.int("axis", 0, -maxDim, maxDim); err != nil {
			return err
		}
		return r.dataInputs(n, 1, 1<<20)
	case "Softmax", "LogSoftmax":
		n.kind, n.logSoftmax = nSoftmax, r.np.GetOpType() == "LogSoftmax"
		def := int64(-1)
		if r.b.m.opset < 13 {
			def, n.legacySoftmax = 1, true
		}
		if n.axis, err = a.int("axis", def, -maxDim, maxDim); err != nil {
			return err
		}
		return r.unary(n)
	default:
		return r.errorf("unsupported operator")
	}
}

// unaryActs are the ONNX operators that are an activation alone.
var unaryActs = map[string]ActKind{"Erf": ActErf, "Sqrt": ActSqrt, "Exp": ActExp, "Log": ActLog, "Abs": ActAbs,
	"Neg": ActNeg, "Reciprocal": ActReciprocal, "Floor": ActFloor, "Ceil": ActCeil, "Round": ActRound, "Sign": ActSign,
	"Sin": ActSin, "Cos": ActCos}

// pow reads a Pow by a constant scalar exponent (a LayerNormalization
// exported before opset 17 squares with it), an activation.
func (r *nodeReader) pow(n *node) error {
	if err := r.inputs(2, 2); err != nil {
		return err
	}
	e, err := r.scalar(1, 0)
	if err != nil {
		return r.errorf("only a constant scalar exponent is supported: %v", err)
	}
	if math.IsNaN(float64(e)) || math.IsInf(float64(e), 0) {
		return r.errorf("exponent %g is not finite", e)
	}
	x, err := r.required(0)
	n.kind, n.act, n.in = nActivate, Activation{Kind: ActPow, Alpha: e}, []int{x}
	return err
}

// chain reads a Sum, Max or Min of one or more inputs: one input as it
// is, two as one Binary op, more as a chain of them, the partial results
// computed by nodes of their own before n.
func (r *nodeReader) chain(n *node, op BinaryOp) error {
	if err := r.dataInputs(n, 1, 1<<20); err != nil {
		return err
	}
	if len(n.in) == 1 {
		n.kind, n.view = nView, viewIdentity
		return nil
	}
	acc := n.in[0]
	for i, v := range n.in[1 : len(n.in)-1] {
		acc = r.addBefore(node{kind: nBinary, binop: op, in: []int{acc, v}}, fmt.Sprintf("partial %s %d", op, i+1))
	}
	n.kind, n.binop, n.in = nBinary, op, []int{acc, n.in[len(n.in)-1]}
	return nil
}

// maxMin reads an elementwise Max or Min: of a tensor and a constant
// scalar, a Clip (torch.max(x, torch.tensor(0.)), which fuses into the op
// before it); else a Binary max or min (NaN where either is NaN).
func (r *nodeReader) maxMin(n *node, op string) error {
	binop := Max
	if op == "Min" {
		binop = Min
	}
	if err := r.chain(n, binop); err != nil || n.kind != nBinary {
		return err
	}
	for i, v := range n.in {
		c := r.b.m.values[v].c
		other := n.in[1-i]
		if r.b.m.values[v].kind != valConst || len(c.f32) != 1 || r.b.m.values[other].kind == valConst {
			continue
		}
		s, err := r.b.shapesOf(other)
		if err != nil {
			return err
		}
		if len(c.dims) > len(s[0]) { // the constant would add axes
			continue
		}
		n.kind, n.in = nActivate, []int{other}
		n.act = Activation{Kind: ActClip, Min: c.f32[0], Max: math.MaxFloat32}
		if binop == Min {
			n.act.Min, n.act.Max = -math.MaxFloat32, c.f32[0]
		}
		break
	}
	return nil
}

// addBefore adds nd, a part of the ONNX node being read that is computed
// by a node of its own, before that node's, and returns nd's output
// value, named after the ONNX node's output and what.
func (r *nodeReader) addBefore(nd node, what string) int {
	m := r.b.m
	nd.op, nd.name = r.np.GetOpType(), r.name
	m.nodes = append(m.nodes, nd)
	prefix := r.np.GetOutput()[0]
	if prefix == "" { // an LSTM's Y, unused
		prefix = r.name
	}
	v := m.addValue(value{name: prefix + "/" + what, kind: valNode, prod: len(m.nodes) - 1})
	m.nodes[len(m.nodes)-1].out = v
	return v
}

// lrnNode reads an LRN: local response normalisation across channels,
// as Caffe's AlexNet and GoogLeNet have it.
func (r *nodeReader) lrnNode(n *node) error {
	a := r.a
	if !a.has("size") {
		return r.errorf("missing attribute \"size\"")
	}
	size, err := a.int("size", 0, 1, maxDim)
	if err != nil {
		return err
	}
	p := LRN{Size: size}
	if p.Alpha, err = a.float("alpha", 1e-4); err != nil {
		return err
	}
	if p.Beta, err = a.float("beta", 0.75); err != nil {
		return err
	}
	if p.Bias, err = a.float("bias", 1); err != nil {
		return err
	}
	for _, v := range []float32{p.Alpha, p.Beta, p.Bias} {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return r.errorf("alpha %g, beta %g and bias %g must be finite", p.Alpha, p.Beta, p.Bias)
		}
	}
	n.kind, n.lrn = nLRN, p
	return r.unary(n)
}

// byConstant reads a Sub or Div: by a constant c as Add of −c or Mul by
// 1/c (a new constant), which fuse as Add and Mul do (x·(1/c) may differ
// from x/c in the last bit); by a computed tensor as a Binary Sub or Div.
func (r *nodeReader) byConstant(n *node, op string) error {
	if err := r.inputs(2, 2); err != nil {
		return err
	}
	if r.a.has("axis") {
		return r.errorf("legacy broadcast with an axis attribute is not supported")
	}
	x, err := r.required(0)
	if err != nil {
		return err
	}
	v, err := r.required(1)
	if err != nil {
		return err
	}
	if r.b.m.values[v].kind != valConst {
		n.kind, n.binop, n.in = nBinary, Sub, []int{x, v}
		if op == "Div" {
			n.binop = Div
		}
		return nil
	}
	c, _, err := r.floatConst(1, -1)
	if err != nil {
		return err
	}
	k := make([]float32, len(c.f32))
	n.kind, n.binop = nBinary, Add
	for i, v := range c.f32 {
		k[i] = -v
		if op == "Div" {
			k[i] = 1 / v
		}
	}
	if op == "Div" {
		n.binop = Mul
	}
	kc := &tensor{dims: c.dims, dtype: int32(onnx.TensorProto_FLOAT), f32: k}
	n.in = []int{x, r.b.m.addValue(value{name: r.name + "/" + op + "/constant", kind: valConst, c: kc})}
	return nil
}

// unary reads exactly one data input.
func (r *nodeReader) unary(n *node) error { return r.dataInputs(n, 1, 1) }

func (r *nodeReader) dataInputs(n *node, lo, hi int) error {
	if err := r.inputs(lo, hi); err != nil {
		return err
	}
	n.in = make([]int, len(r.np.GetInput()))
	for i := range n.in {
		v, err := r.required(i)
		if err != nil {
			return err
		}
		n.in[i] = v
	}
	return nil
}

func (r *nodeReader) conv(n *node) error {
	if w, wv, err := r.floatConst(1, -1); err == nil && w != nil && len(w.dims) == 5 {
		return r.volumeConv(n, w, wv)
	}
	n.kind = nConv
	if err := r.convInputs(n, "1-D, 2-D and 3-D convolutions", func(w []int, _ int) int { return w[0] }); err != nil {
		return err
	}
	n.in = append(n.in, -1) // the residual fuseResidual may add
	return nil
}

// convInputs reads what Conv and ConvTranspose share: X, constant 4-D
// weights, group, an optional constant bias of outputs(W's shape, group)
// elements, kernel_shape and the window attributes. n.in is X, W, B.
func (r *nodeReader) convInputs(n *node, what string, outputs func(w []int, group int) int) error {
	a := r.a
	if err := r.inputs(2, 3); err != nil {
		return err
	}
	x, err := r.required(0)
	if err != nil {
		return err
	}
	w, wv, err := r.floatConst(1, -1)
	if err != nil {
		return err
	}
	if w == nil {
		return r.errorf("missing weights")
	}
	if len(w.dims) != 3 && len(w.dims) != 4 {
		return r.errorf("weights have shape %v: only %s are supported", w.dims, what)
	}
	n.lifted = len(w.dims) == 3
	p := &n.conv
	if p.group, err = a.int("group", 1, 1, maxGroup); err != nil {
		return err
	}
	bias, bv, err := r.floatConst(2, 1)
	if err != nil {
		return err
	}
	if m := outputs(w.dims, p.group); bias != nil && bias.dims[0] != m {
		return r.errorf("bias has shape %v, want [%d]", bias.dims, m)
	}
	n.in = []int{x, wv, bv}
	if p.kernel, err = r.spatialInts(n, "kernel_shape", 1, 1); err != nil {
		return err
	}
	return r.window(n, &p.strides, &p.dilations, &p.pads, &p.autoPad)
}

// window reads the strides, dilations, pads and auto_pad attributes
// shared by Conv and the pools, of one or two spatial axes (n.lifted).
func (r *nodeReader) window(n *node, strides, dilations *[2]int, pads *[4]int, autoPad *string) error {
	a := r.a
	*strides, *dilations = [2]int{1, 1}, [2]int{1, 1}
	s, err := r.spatialInts(n, "strides", 1, 1)
	if err != nil {
		return err
	}
	if s != nil {
		copy(strides[:], s)
	}
	d, err := r.spatialInts(n, "dilations", 1, 1)
	if err != nil {
		return err
	}
	if d != nil {
		copy(dilations[:], d)
	}
	p, err := r.spatialPads(n)
	if err != nil {
		return err
	}
	if p != nil {
		copy(pads[:], p)
	}
	if *autoPad, err = a.str("auto_pad", "NOTSET"); err != nil {
		return err
	}
	switch *autoPad {
	case "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER":
	default:
		return r.errorf("invalid auto_pad %q", *autoPad)
	}
	if *autoPad != "NOTSET" && p != nil {
		return r.errorf("pads given with auto_pad %s", *autoPad)
	}
	return nil
}

func (r *nodeReader) batchNorm(n *node) error {
	a := r.a
	if err := r.inputs(5, 5); err != nil {
		return err
	}
	x, err := r.required(0)
	if err != nil {
		return err
	}
	var p [4]*tensor
	for i := range p {
		if p[i], _, err = r.floatConst(i+1, 1); err != nil {
			return err
		}
		if p[i] == nil {
			return r.errorf("missing input %d", i+1)
		}
		if p[i].dims[0] != p[0].dims[0] {
			return r.errorf("input %d has shape %v, want [%d]", i+1, p[i].dims, p[0].dims[0])
		}
	}
	eps, err := a.float("epsilon", 1e-5)
	if err != nil {
		return err
	}
	if t, err := a.int("training_mode", 0, 0, 1); err != nil || t != 0 {
		if err == nil {
			err = r.errorf("training_mode is not supported")
		}
		return err
	}
	if s, err := a.int("spatial", 1, 0, 1); err != nil || s != 1 {
		if err == nil {
			err = r.errorf("spatial = 0 is not supported")
		}
		return err
	}
	gamma, beta, mean, vari := p[0].f32, p[1].f32, p[2].f32, p[3].f32
	scale := make([]float32, len(gamma))
	shift := make([]float32, len(gamma))
	for c := range gamma {
		s := float64(gamma[c]) / math.Sqrt(float64(vari[c])+float64(eps))
		scale[c] = float32(s)
		shift[c] = float32(float64(beta[c]) - float64(mean[c])*s)
	}
	m := r.b.m
	out := r.np.GetOutput()[0]
	sv := m.addValue(value{name: out + ".bn_scale", kind: valConst, c: floatTensor(scale, len(scale))})
	tv := m.addValue(value{name: out + ".bn_shift", kind: valConst, c: floatTensor(shift, len(shift))})
	n.kind = nAffine
	n.in = []int{x, sv, tv}
	return nil
}

func floatTensor(data []float32, dims ...int) *tensor {
	return &tensor{dims: dims, dtype: int32(onnx.TensorProto_FLOAT), f32: data}
}

func (r *nodeReader) clip(n *node) error {
	n.kind = nActivate
	n.act = Activation{Kind: ActClip, Min: -math.MaxFloat32, Max: math.MaxFloat32}
	var err error
	if r.b.m.opset < 11 {
		if n.act.Min, err = r.a.float("min", -math.MaxFloat32); err != nil {
			return err
		}
		if n.act.Max, err = r.a.float("max", math.MaxFloat32); err != nil {
			return err
		}
		return r.unary(n)
	}
	if err := r.inputs(1, 3); err != nil {
		return err
	}
	if n.act.Min, err = r.scalar(1, n.act.Min); err != nil {
		return err
	}
	if n.act.Max, err = r.scalar(2, n.act.Max); err != nil {
		return err
	}
	x, err := r.required(0)
	n.in = []int{x}
	return err
}

func (r *nodeReader) poolNode(n *node) error {
	a := r.a
	n.kind = nPool
	p := &n.pool
	if r.np.GetOpType() == "AveragePool" {
		p.mode = PoolAvg
		c, err := a.int("count_include_pad", 0, 0, 1)
		if err != nil {
			return err
		}
		p.countIncludePad = c == 1
	}
	k, err := a.ints("kernel_shape", -1, 1, maxDim)
	if err != nil {
		return err
	}
	if len(k) < 1 || len(k) > 3 {
		return r.errorf("kernel_shape %v: only 1-D, 2-D and 3-D pooling are supported", k)
	}
	ceil, err := a.int("ceil_mode", 0, 0, 1)
	if err != nil {
		return err
	}
	p.ceil = ceil == 1
	if len(k) == 3 {
		return r.volumePool(n, *p, k)
	}
	n.lifted = len(k) == 1
	copy(p.kernel[:], lift(k, 1))
	if err := r.window(n, &p.strides, &p.dilations, &p.pads, &p.autoPad); err != nil {
		return err
	}
	return r.unary(n)
}

// reduce reads a Reduce operator, which the engine computes as a global
// pool of the last axes (reductions gives its mode, and the elementwise
// ops around it): global pooling as some models write it (MNASNet, Keras
// exports; keepdims 0 drops the axes), the mean of the last axis that
// LayerNormalization exported before opset 17 takes, the L2 norm of
// F.normalize and CLIP's embeddings. Other axes, such as a ViT's mean
// over its tokens or CBAM's over channels, are first moved last by a
// transpose (reduceLast). The batch axis may not be one of them, wherever
// transposes moved it.
func (r *nodeReader) reduce(n *node, op string) error {
	rd := reductions[op]
	n.kind, n.pool.mode = nGlobalPool, rd.mode
	if err := r.axes(n, rd.since); err != nil {
		return err
	}
	if len(n.axes) == 0 {
		return r.errorf("%s over every axis is not supported (only over axes other than the batch axis)", rd.what)
	}
	keep, err := r.a.int("keepdims", 1, 0, 1)
	if err != nil {
		return err
	}
	n.squeeze = keep == 0
	if op == "ReduceLogSumExp" {
		return r.reduceLogSumExp(n)
	}
	if rd.pre.Kind != ActNone {
		n.in[0] = r.addBefore(node{kind: nActivate, act: rd.pre, in: []int{n.in[0]}}, "reduced terms")
	}
	if rd.post.Kind == ActNone {
		return r.reduceLast(n, rd.what)
	}
	pooled := *n
	if err := r.reduceLast(&pooled, rd.what); err != nil {
		return err
	}
	v := r.addBefore(pooled, "reduced")
	n.become(node{kind: nActivate, act: rd.post, in: []int{v}})
	return nil
}

// reductions are the Reduce operators the engine reads: the global
// pool's mode, and an elementwise op before and after it where needed.
var reductions = map[string]struct {
	mode      PoolMode
	what      string
	since     int64 // the opset from which the axes are input 1
	pre, post Activation
}{
	"ReduceMean":      {mode: PoolAvg, what: "a mean", since: 18},
	"ReduceMax":       {mode: PoolMax, what: "a maximum", since: 18},
	"ReduceSum":       {mode: PoolSum, what: "a sum", since: 13},
	"ReduceMin":       {mode: PoolMax, what: "a minimum", since: 18, pre: Activation{Kind: ActNeg}, post: Activation{Kind: ActNeg}}, // −max(−x)
	"ReduceL1":        {mode: PoolSum, what: "an L1 norm", since: 18, pre: Activation{Kind: ActAbs}},
	"ReduceL2":        {mode: PoolSum, what: "an L2 norm", since: 18, pre: Activation{Kind: ActPow, Alpha: 2}, post: Activation{Kind: ActSqrt}},
	"ReduceSumSquare": {mode: PoolSum, what: "a sum of squares", since: 18, pre: Activation{Kind: ActPow, Alpha: 2}},
	"ReduceLogSum":    {mode: PoolSum, what: "a log-sum", since: 18, post: Activation{Kind: ActLog}},
	"ReduceLogSumExp": {mode: PoolSum, what: "a log-sum-exp", since: 18}, // reduceLogSumExp
}

// reduceLogSumExp computes log Σ exp(x) over n's axes as m + log Σ
// exp(x − m), m the maximum over them, as onnxruntime does: exp(x) alone
// overflows float32 from x = 88.8 on. Both reductions keep the reduced
// axes (as ones) so that m broadcasts against x; keepdims 0 then drops
// them from the sum.
func (r *nodeReader) reduceLogSumExp(n *node) error {
	const what = "a log-sum-exp"
	x, squeeze := n.in[0], n.squeeze
	kept := func(mode PoolMode, in int, role string) (int, error) {
		p := node{kind: nGlobalPool, pool: n.pool, axes: slices.Clone(n.axes), in: []int{in}}
		p.pool.mode = mode
		if err := r.reduceLast(&p, what); err != nil {
			return 0, err
		}
		return r.addBefore(p, role), nil
	}
	m, err := kept(PoolMax, x, "maximum")
	if err != nil {
		return err
	}
	d := r.addBefore(node{kind: nBinary, binop: Sub, in: []int{x, m}}, "less the maximum")
	e := r.addBefore(node{kind: nActivate, act: Activation{Kind: ActExp}, in: []int{d}}, "exponentials")
	sum, err := kept(PoolSum, e, "sum")
	if err != nil {
		return err
	}
	l := r.addBefore(node{kind: nActivate, act: Activation{Kind: ActLog}, in: []int{sum}}, "log-sum")
	if !squeeze {
		n.become(node{kind: nBinary, binop: Add, in: []int{l, m}})
		return nil
	}
	y := r.addBefore(node{kind: nBinary, binop: Add, in: []int{l, m}}, "log-sum-exp")
	n.become(node{kind: nView, view: viewSqueeze, axes: slices.Clone(n.axes), in: []int{y}})
	return nil
}

// reduceLast makes n's reduction one over the last axes of its input:
// where the axes it names are others, a transpose before it moves them
// last, in their order, and with keepdims an unsqueeze after it puts
// their ones back in place (n becomes that view).
func (r *nodeReader) reduceLast(n *node, what string) error {
	s, err := r.b.shapesOf(n.in[0])
	if err != nil {
		return err
	}
	rank, batch := len(s[0]), batchAxes(s)
	reduced := make([]bool, rank)
	for _, a := range n.axes {
		i := a
		if i < 0 {
			i += rank
		}
		if i < 0 || i >= rank || reduced[i] {
			return r.errorf("axes %v for an input of rank %d", n.axes, rank)
		}
		if batch[i] {
			return r.errorf("%s over axis %d of %v, the batch axis, is not supported", what, a, s[0])
		}
		reduced[i] = true
	}
	var kept, last []int
	for i, red := range reduced {
		if red {
			last = append(last, i)
		} else {
			kept = append(kept, i)
		}
	}
	if len(kept) == 0 || kept[len(kept)-1] < last[0] {
		return nil // the last axes already
	}
	trailing := make([]int, len(last))
	for i := range trailing {
		trailing[i] = len(kept) + i
	}
	moved := r.addBefore(node{kind: nTranspose, perm: append(kept, last...), in: []int{n.in[0], r.b.oneValue()}}, "reduced axes last")
	if n.squeeze {
		n.in[0], n.axes = moved, trailing
		return nil
	}
	pooled := r.addBefore(node{kind: nGlobalPool, pool: n.pool, axes: trailing, squeeze: true, in: []int{moved}}, "reduced")
	n.become(node{kind: nView, view: viewUnsqueeze, axes: last, in: []int{pooled}})
	return nil
}

// squeezeNode reads a Squeeze or Unsqueeze of a computed tensor, a view.
// Squeeze must name its axes: without them it would drop the batch axis
// at batch size 1 only.
func (r *nodeReader) squeezeNode(n *node, op string) error {
	n.kind, n.view = nView, viewSqueeze
	if op == "Unsqueeze" {
		n.view = viewUnsqueeze
	}
	if err := r.axes(n, 13); err != nil {
		return err
	}
	if n.axes == nil {
		return r.errorf("missing axes")
	}
	return nil
}

// padNode reads a Pad of zeros, which the engine computes around one or
// two axes next to each other, not the batch axis (padPlanes; checked with
// the shapes): pads as attributes before opset 11, inputs from it, with
// the axes they apply to an input from 18.
func (r *nodeReader) padNode(n *node) error {
	n.kind = nPad
	mode, err := r.a.str("mode", "constant")
	if err != nil {
		return err
	}
	if mode != "constant" {
		return r.errorf("mode %q is not supported (only constant zeros)", mode)
	}
	var pads []int64
	value := float32(0)
	if r.b.m.opset < 11 {
		at, err := r.a.get("pads", onnx.AttributeProto_INTS)
		if err != nil {
			return err
		}
		if pads = at.GetInts(); pads == nil {
			return r.errorf("missing attribute \"pads\"")
		}
		if value, err = r.a.float("value", 0); err != nil {
			return err
		}
		if err := r.unary(n); err != nil {
			return err
		}
	} else {
		if err := r.inputs(2, 4); err != nil {
			return err
		}
		c, err := r.intInput(1, "pads")
		if err != nil {
			return err
		}
		if c == nil {
			return r.errorf("missing input 1")
		}
		pads = c.i64
		if value, err = r.scalar(2, 0); err != nil {
			return err
		}
		axes, err := r.intInput(3, "axes")
		if err != nil {
			return err
		}
		x, err := r.required(0)
		if err != nil {
			return err
		}
		n.in = []int{x}
		if axes != nil {
			for _, a := range axes.i64 {
				if a < -maxDim || a > maxDim {
					return r.errorf("axis %d out of range", a)
				}
				n.axes = append(n.axes, int(a))
			}
		}
	}
	if value != 0 {
		return r.errorf("padding with %v is not supported (only zeros)", value)
	}
	for _, p := range pads {
		if p < -maxDim || p > maxDim {
			return r.errorf("pad %d out of range", p)
		}
		n.pads = append(n.pads, int(p))
	}
	// The batch axis may not be padded, wherever transposes moved it.
	s, err := r.b.shapesOf(n.in[0])
	if err != nil {
		return err
	}
	begin, end, err := n.padEnds(s[0])
	if err != nil {
		return err
	}
	for d, batch := range batchAxes(s) {
		if batch && begin[d]+end[d] != 0 {
			return r.errorf("pads %v pad axis %d of %v, the batch axis", n.pads, d, s[0])
		}
	}
	return nil
}

// castNode reads a Cast of a computed tensor, which is float32: to FLOAT
// it is a view.
func (r *nodeReader) castNode(n *node) error {
	to, err := r.a.int("to", 0, 0, 1<<30)
	if err != nil {
		return err
	}
	if to != int(onnx.TensorProto_FLOAT) {
		return r.errorf("a cast of a computed tensor to %s is not supported (float32 only)", dtypeName(int32(to)))
	}
	n.kind, n.view = nView, viewIdentity
	return r.unary(n)
}

// axes reads n's axes (an attribute before opset since, input 1 from
// it; nil if absent) and takes input 0 as its data input.
func (r *nodeReader) axes(n *node, since int64) error {
	axes, perBatch, err := r.listAttrOrInput(n, "axes", since)
	if err != nil {
		return err
	}
	if perBatch != nil {
		return r.errorf("the axes depend on the batch size")
	}
	for _, a := range axes {
		if a < -maxDim || a > maxDim {
			return r.errorf("axis %d out of range", a)
		}
		n.axes = append(n.axes, int(a))
	}
	return nil
}

// listAttrOrInput reads the int64 list called name, an attribute in
// opsets before since and from then on input 1, a constant 1-D int64
// tensor (nil if absent either way), and takes input 0 as n's data input.
// perBatch is the list's growth with the batch size if it is computed
// from shapes (see tensor), else nil.
func (r *nodeReader) listAttrOrInput(n *node, name string, since int64) (list, perBatch []int64, err error) {
	if r.b.m.opset < since {
		at, err := r.a.get(name, onnx.AttributeProto_INTS)
		if err != nil {
			return nil, nil, err
		}
		return at.GetInts(), nil, r.unary(n)
	}
	if in := r.np.GetInput(); r.a.has(name) && (len(in) < 2 || in[1] == "") {
		// The operator's definition ignores it: it would read as none.
		return nil, nil, r.errorf("attribute %q: from opset %d the %s are input 1 (the model imports opset %d)", name, since, name, r.b.m.opset)
	}
	if err := r.inputs(1, 2); err != nil {
		return nil, nil, err
	}
	c, _, err := r.constant(1)
	if err != nil {
		return nil, nil, err
	}
	if c != nil && (c.i64 == nil || len(c.dims) != 1) {
		return nil, nil, r.errorf("the %s must be a constant 1-D int64 tensor", name)
	}
	x, err := r.required(0)
	if err != nil {
		return nil, nil, err
	}
	n.in = []int{x}
	if c == nil {
		return nil, nil, nil
	}
	return c.i64, c.perBatch, nil
}

func (r *nodeReader) reshape(n *node) error {
	n.kind, n.view = nView, viewReshape
	target, perBatch, err := r.listAttrOrInput(n, "shape", 5)
	if err != nil {
		return err
	}
	if target == nil {
		return r.errorf("missing shape")
	}
	z, err := r.a.int("allowzero", 0, 0, 1)
	if err != nil {
		return err
	}
	n.zero = z == 1
	for _, d := range target {
		if d < -1 && perBatch == nil {
			return r.errorf("invalid shape value %d", d)
		}
	}
	return r.setTarget(n, target, perBatch)
}

// setTarget sets a Reshape's or Expand's target shape, whose element i is
// target[i] + perBatch[i] × batch (perBatch nil if none depends on the
// batch size), resolved per plan (node.target); bounded so that it cannot
// overflow at any batch size.
func (r *nodeReader) setTarget(n *node, target, perBatch []int64) error {
	n.shape = make([]int, len(target))
	for i, d := range target {
		if d < -maxElems || d > maxElems {
			return r.errorf("invalid shape value %d", d)
		}
		n.shape[i] = int(d)
	}
	if perBatch != nil {
		n.shapeBatch = make([]int, len(perBatch))
		for i, p := range perBatch {
			if p < -maxElems || p > maxElems {
				return r.errorf("invalid shape value %d × batch size", p)
			}
			n.shapeBatch[i] = int(p)
		}
	}
	return nil
}

// expandNode reads an Expand: X broadcast to a shape, which may depend on
// the batch size (PyTorch's class_token.expand(n, -1, -1)). It runs as a
// Binary, X·1 with X's strides 0 along the dimensions it repeats.
func (r *nodeReader) expandNode(n *node) error {
	if err := r.inputs(2, 2); err != nil {
		return err
	}
	c, _, err := r.constant(1)
	if err != nil {
		return err
	}
	if c == nil || c.i64 == nil || len(c.dims) != 1 {
		return r.errorf("the shape must be a constant 1-D int64 tensor")
	}
	x, err := r.required(0)
	if err != nil {
		return err
	}
	n.kind, n.in = nExpand, []int{x, r.b.oneValue()}
	return r.setTarget(n, c.i64, c.perBatch)
}

func (r *nodeReader) dropout(n *node) error {
	n.kind, n.view = nView, viewIdentity
	if err := r.inputs(1, 3); err != nil {
		return err
	}
	c, v, err := r.constant(2)
	if err != nil {
		return err
	}
	if v >= 0 && (len(c.i64) != 1 || c.i64[0] != 0) {
		return r.errorf("training_mode must be a constant false")
	}
	x, err := r.required(0)
	n.in = []int{x}
	return err
}

func (r *nodeReader) gemmNode(n *node) error {
	a := r.a
	n.kind = nGemm
	p := &n.gemm
	p.alpha, p.beta = 1, 1
	if r.np.GetOpType() == "MatMul" {
		p.matmul = true
		if err := r.dataInputs(n, 2, 2); err != nil {
			return err
		}
		if r.b.m.values[n.in[1]].kind != valConst {
			n.kind = nBatchMatMul
		}
		return nil
	}
	var err error
	if p.alpha, err = a.float("alpha", 1); err != nil {
		return err
	}
	if p.beta, err = a.float("beta", 1); err != nil {
		return err
	}
	ta, err := a.int("transA", 0, 0, 1)
	if err != nil {
		return err
	}
	tb, err := a.int("transB", 0, 0, 1)
	if err != nil {
		return err
	}
	p.transA, p.transB = ta == 1, tb == 1
	if err := r.inputs(2, 3); err != nil {
		return err
	}
	n.in = []int{-1, -1, -1}
	for i := range n.in {
		if n.in[i], err = r.input(i); err != nil {
			return err
		}
	}
	if n.in[0] < 0 || n.in[1] < 0 {
		return r.errorf("missing input")
	}
	return nil
}
