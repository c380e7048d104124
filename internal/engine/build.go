package engine

import (
	"fmt"

	"github.com/clockwork-go/clockwork/internal/onnx"
)

// Attribute bounds: generous, but small enough that no arithmetic on them
// overflows.
const (
	maxDim   = 1 << 24
	maxGroup = 1 << 24
)

// builder translates the ONNX graph into the model's own graph.
type builder struct {
	m     *Model
	names map[string]int // tensor name → value
	// extra names outputs of nodes other than their first (MaxPool
	// indices, Dropout masks, BatchNormalization statistics), which the
	// engine does not compute; using one is an error.
	extra map[string]string
	// shapes are the values' shapes at batch sizes 1, 2 and 3 through
	// nodes[:inferred], inferred as far as the graph goes when a Shape
	// node needs one.
	shapes   [3][][]int
	inferred int
	one      int // the constant 1 of the strided copies, -1 until one needs it
}

// shapesOf is value v's shape at batch sizes 1, 2 and 3.
func (b *builder) shapesOf(v int) ([3][]int, error) {
	var out [3][]int
	for k := range b.shapes {
		s, err := b.m.inferFrom(k+1, b.shapes[k], b.inferred)
		if err != nil {
			return out, err
		}
		b.shapes[k], out[k] = s, s[v]
	}
	b.inferred = len(b.m.nodes)
	return out, nil
}

func (m *Model) build(mp *onnx.ModelProto) error {
	g := mp.GetGraph()
	if g == nil {
		return errorf("file has no graph")
	}
	m.opset = -1
	for _, os := range mp.GetOpsetImport() {
		if d := os.GetDomain(); d == "" || d == "ai.onnx" {
			m.opset = os.GetVersion()
		}
	}
	if m.opset < 1 {
		return errorf("file has no opset_import for the default ONNX domain")
	}
	b := &builder{m: m, names: make(map[string]int), extra: make(map[string]string), one: -1}
	for _, t := range g.GetInitializer() {
		if t.GetName() == "" {
			return errorf("initializer without a name")
		}
		if _, dup := b.names[t.GetName()]; dup {
			return errorf("initializer %q defined twice", t.GetName())
		}
		// An initializer of an unsupported type is an error only if used.
		c, err := parseTensor(t)
		b.names[t.GetName()] = m.addValue(value{name: t.GetName(), kind: valConst, c: c, err: err})
	}
	for _, vi := range g.GetInput() {
		if _, isInit := b.names[vi.GetName()]; isInit {
			continue // IR < 4 lists initializers among the inputs
		}
		if vi.GetName() == "" {
			return errorf("graph input without a name")
		}
		shape, err := inputShape(vi)
		if err != nil {
			return err
		}
		b.names[vi.GetName()] = m.addValue(value{name: vi.GetName(), kind: valInput, input: len(m.Inputs)})
		m.Inputs = append(m.Inputs, ValueInfo{Name: vi.GetName(), Shape: shape})
	}
	if len(m.Inputs) == 0 {
		return errorf("graph has no inputs")
	}
	for _, np := range g.GetNode() {
		if err := b.node(np); err != nil {
			return err
		}
	}
	for _, vi := range g.GetOutput() {
		v, err := b.lookup(vi.GetName())
		if err != nil {
			return err
		}
		if tt := vi.GetType().GetTensorType(); tt != nil && tt.GetElemType() != int32(onnx.TensorProto_FLOAT) {
			return errorf("output %q has element type %s (float32 only)", vi.GetName(), dtypeName(tt.GetElemType()))
		}
		if m.values[v].kind == valConst && m.values[v].c.f32 == nil {
			return errorf("output %q is a %s constant (float32 only)", vi.GetName(), dtypeName(m.values[v].c.dtype))
		}
		m.outputs = append(m.outputs, v)
	}
	if len(m.outputs) == 0 {
		return errorf("graph has no outputs")
	}
	return nil
}

func (m *Model) addValue(v value) int {
	m.values = append(m.values, v)
	return len(m.values) - 1
}

func (b *builder) lookup(name string) (int, error) {
	if v, ok := b.names[name]; ok {
		return v, b.m.values[v].err
	}
	if src, ok := b.extra[name]; ok {
		return 0, errorf("tensor %q (%s) is not supported", name, src)
	}
	return 0, errorf("unknown tensor %q", name)
}

// inputShape reads a graph input's per-item shape: a float32 tensor whose
// leading dimension is the batch (symbolic, unknown or 1).
func inputShape(vi *onnx.ValueInfoProto) ([]int, error) {
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		return nil, errorf("input %q is not a tensor", vi.GetName())
	}
	if tt.GetElemType() != int32(onnx.TensorProto_FLOAT) {
		return nil, errorf("input %q has element type %s (float32 only)", vi.GetName(), dtypeName(tt.GetElemType()))
	}
	dims := tt.GetShape().GetDim()
	if len(dims) == 0 {
		return nil, errorf("input %q has no shape; its leading dimension must be the batch", vi.GetName())
	}
	if first := dims[0]; first.GetDimParam() == "" && first.GetDimValue() > 1 {
		return nil, errorf("input %q has leading dimension %d; it must be the batch (symbolic or 1)", vi.GetName(), first.GetDimValue())
	}
	shape := make([]int, len(dims)-1)
	for i, d := range dims[1:] {
		v := d.GetDimValue()
		if d.GetDimParam() != "" || v < 1 || v > maxDim {
			return nil, errorf("input %q dimension %d must be a fixed size in [1, %d] (only the batch may be symbolic)", vi.GetName(), i+1, maxDim)
		}
		shape[i] = int(v)
	}
	if _, ok := checkedElems(shape); !ok {
		return nil, errorf("input %q is too large %v", vi.GetName(), shape)
	}
	return shape, nil
}

// nodeReader resolves one ONNX node's inputs and attributes.
type nodeReader struct {
	b    *builder
	np   *onnx.NodeProto
	a    attrs
	name string
}

func (r *nodeReader) errorf(format string, args ...any) error {
	return nodeErrorf(r.np.GetOpType(), r.name, format, args...)
}

// input returns input i, or -1 if it is absent or empty.
func (r *nodeReader) input(i int) (int, error) {
	if i >= len(r.np.GetInput()) || r.np.GetInput()[i] == "" {
		return -1, nil
	}
	v, err := r.b.lookup(r.np.GetInput()[i])
	if err != nil {
		return 0, r.errorf("input %d: %v", i, msgOf(err))
	}
	return v, nil
}

func (r *nodeReader) required(i int) (int, error) {
	v, err := r.input(i)
	if err == nil && v < 0 {
		err = r.errorf("missing input %d", i)
	}
	return v, err
}

// requiredShapes returns input i, which must be present, and its shapes
// at batch sizes 1, 2 and 3.
func (r *nodeReader) requiredShapes(i int) (int, [3][]int, error) {
	v, err := r.required(i)
	if err != nil {
		return v, [3][]int{}, err
	}
	s, err := r.b.shapesOf(v)
	return v, s, err
}

// constant returns input i, which must be a constant (nil if absent).
func (r *nodeReader) constant(i int) (*tensor, int, error) {
	v, err := r.input(i)
	if err != nil || v < 0 {
		return nil, v, err
	}
	val := r.b.m.values[v]
	if val.kind != valConst {
		return nil, v, r.errorf("input %d (%q) must be a constant initializer", i, val.name)
	}
	return val.c, v, nil
}

// floatConst returns input i as a float32 constant with the given number
// of dimensions (any if rank < 0); nil if absent.
func (r *nodeReader) floatConst(i, rank int) (*tensor, int, error) {
	c, v, err := r.constant(i)
	if err != nil || c == nil {
		return c, v, err
	}
	if c.f32 == nil {
		return nil, v, r.errorf("input %d is a %s tensor (float32 only)", i, dtypeName(c.dtype))
	}
	if rank >= 0 && len(c.dims) != rank {
		return nil, v, r.errorf("input %d has shape %v, want rank %d", i, c.dims, rank)
	}
	return c, v, nil
}

// scalar reads an optional one-element float constant input.
func (r *nodeReader) scalar(i int, def float32) (float32, error) {
	c, _, err := r.floatConst(i, -1)
	if err != nil || c == nil {
		return def, err
	}
	if len(c.f32) != 1 {
		return 0, r.errorf("input %d must be a scalar, has shape %v", i, c.dims)
	}
	return c.f32[0], nil
}

func (r *nodeReader) inputs(lo, hi int) error {
	if n := len(r.np.GetInput()); n < lo || n > hi {
		return r.errorf("has %d inputs, want %d to %d", n, lo, hi)
	}
	return nil
}

// node translates one ONNX node.
func (b *builder) node(np *onnx.NodeProto) error {
	name := np.GetName()
	for _, o := range np.GetOutput() {
		if name == "" {
			name = o // the first output that has a name
		}
	}
	op := np.GetOpType()
	if d := np.GetDomain(); d != "" && d != "ai.onnx" {
		return nodeErrorf(d+"."+op, name, "unsupported operator")
	}
	_, recurrent := recurrentKinds[op]
	if len(np.GetOutput()) == 0 || np.GetOutput()[0] == "" && !(recurrent && name != "") {
		return nodeErrorf(op, name, "node has no output")
	}
	a, err := newAttrs(np)
	if err != nil {
		return err
	}
	r := &nodeReader{b: b, np: np, a: a, name: name}
	if recurrent {
		return b.recurrent(r)
	}
	n := node{op: op, name: name}
	if op == "Constant" {
		c, err := r.constantNode()
		if err != nil {
			return err
		}
		return b.define(r, value{kind: valConst, c: c})
	}
	if op == "Split" {
		return b.split(r)
	}
	if c, ok, err := r.fold(); ok || err != nil {
		if err != nil {
			return err
		}
		return b.define(r, value{kind: valConst, c: c})
	}
	if err := r.translate(&n); err != nil {
		return err
	}
	if n.kind == nView && b.m.values[n.in[0]].kind == valConst {
		// A view of a constant is a constant, for what reads it at import
		// (a Reshape target) and at run time (weights).
		c := b.m.values[n.in[0]].c
		dims, err := n.viewShape(c.dims, -1)
		if err != nil {
			return err
		}
		return b.define(r, value{kind: valConst, c: &tensor{dims: dims, dtype: c.dtype, f32: c.f32, i64: c.i64, perBatch: c.perBatch}})
	}
	b.m.nodes = append(b.m.nodes, n)
	idx := len(b.m.nodes) - 1
	if err := b.define(r, value{kind: valNode, prod: idx}); err != nil {
		return err
	}
	b.m.nodes[idx].out = len(b.m.values) - 1
	return nil
}

// defined is whether a value or an output the engine does not compute is
// called name.
func (b *builder) defined(name string) bool {
	_, v := b.names[name]
	_, x := b.extra[name]
	return v || x
}

// define registers the node's first output as v and its other outputs as
// unsupported.
func (b *builder) define(r *nodeReader, v value) error {
	outs := r.np.GetOutput()
	for i, o := range outs {
		if o == "" {
			continue
		}
		if b.defined(o) {
			return r.errorf("output %q is already defined", o)
		}
		if i > 0 {
			b.extra[o] = fmt.Sprintf("output %d of %s node %q", i, r.np.GetOpType(), r.name)
		}
	}
	v.name = outs[0]
	b.names[outs[0]] = b.m.addValue(v)
	return nil
}

func (r *nodeReader) constantNode() (*tensor, error) {
	if len(r.np.GetInput()) != 0 {
		return nil, r.errorf("has inputs")
	}
	if len(r.a.m) != 1 {
		return nil, r.errorf("needs exactly one attribute, has %d", len(r.a.m))
	}
	for name, at := range r.a.m {
		switch {
		case name == "value" && at.GetType() == onnx.AttributeProto_TENSOR:
			c, err := parseTensor(at.GetT())
			if err != nil {
				return nil, r.errorf("%v", msgOf(err))
			}
			return c, nil
		case name == "value_float" && at.GetType() == onnx.AttributeProto_FLOAT:
			return &tensor{dims: []int{}, dtype: int32(onnx.TensorProto_FLOAT), f32: []float32{at.GetF()}}, nil
		case name == "value_floats" && at.GetType() == onnx.AttributeProto_FLOATS:
			f := append([]float32{}, at.GetFloats()...)
			return &tensor{dims: []int{len(f)}, dtype: int32(onnx.TensorProto_FLOAT), f32: f}, nil
		case name == "value_int" && at.GetType() == onnx.AttributeProto_INT:
			return &tensor{dims: []int{}, dtype: int32(onnx.TensorProto_INT64), i64: []int64{at.GetI()}}, nil
		case name == "value_ints" && at.GetType() == onnx.AttributeProto_INTS:
			v := append([]int64{}, at.GetInts()...)
			return &tensor{dims: []int{len(v)}, dtype: int32(onnx.TensorProto_INT64), i64: v}, nil
		}
		return nil, r.errorf("attribute %q of type %s is not supported", name, at.GetType())
	}
	return nil, nil
}
