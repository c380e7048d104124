// Package modelgen writes ONNX models with deterministic random weights:
// the model zoo Clockwork serves and benchmarks (ResNet, MobileNetV2, VGG,
// DenseNet, small test networks), and a Builder for hand-made graphs in
// tests. Real pretrained weights cannot be downloaded where Clockwork is
// built and tested, and latency does not depend on weight values, so
// generated models stand in for them; they are ordinary ONNX files (opset
// 14, or 17 where a model needs LayerNormalization) that onnxruntime and
// PyTorch read too. Files are large (up to
// hundreds of MB), so they are generated at build or test time and never
// committed.
package modelgen

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/clockwork-go/clockwork/internal/onnx"
)

// Opset is the ONNX operator set version of generated models unless
// SetOpset changes it.
const Opset = 14

// BatchParam names the symbolic batch dimension of inputs and outputs.
const BatchParam = "N"

// Builder assembles an ONNX graph. Initializers get deterministic random
// values from the builder's seed.
type Builder struct {
	g    *onnx.GraphProto
	rng  rng
	seq  map[string]int
	name string
	// clipBounds records that the Clip bounds of relu6 are defined.
	clipBounds bool
	opset      int64
	// bnEpsilon is the batch norms' epsilon, PyTorch's 1e-5 if zero.
	bnEpsilon float32
	// skeleton leaves the random initializers' values out (Skeleton).
	skeleton bool
}

// NewBuilder starts a graph whose random weights derive from seed.
func NewBuilder(name string, seed uint64) *Builder {
	return &Builder{g: &onnx.GraphProto{Name: name}, rng: rng(seed), seq: make(map[string]int), name: name, opset: Opset}
}

// SetOpset sets the model's operator set version (Opset by default).
func (b *Builder) SetOpset(v int64) { b.opset = v }

// Model wraps the graph in a ModelProto (IR version 8).
func (b *Builder) Model() *onnx.ModelProto {
	return &onnx.ModelProto{
		IrVersion:       8,
		OpsetImport:     []*onnx.OperatorSetIdProto{{Domain: "", Version: b.opset}},
		ProducerName:    "clockwork-go modelgen",
		ProducerVersion: "1",
		Graph:           b.g,
	}
}

// Fresh returns a new unique name with the given prefix.
func (b *Builder) Fresh(prefix string) string {
	b.seq[prefix]++
	return fmt.Sprintf("%s_%d", prefix, b.seq[prefix])
}

func tensorType(dims []*onnx.TensorShapeProto_Dimension) *onnx.TypeProto {
	return &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{
		ElemType: int32(onnx.TensorProto_FLOAT),
		Shape:    &onnx.TensorShapeProto{Dim: dims},
	}}}
}

func batchDims(item []int) []*onnx.TensorShapeProto_Dimension {
	dims := []*onnx.TensorShapeProto_Dimension{{Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: BatchParam}}}
	for _, d := range item {
		dims = append(dims, &onnx.TensorShapeProto_Dimension{Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
	}
	return dims
}

// Input declares a float32 graph input of shape [N, item...].
func (b *Builder) Input(name string, item ...int) string {
	b.g.Input = append(b.g.Input, &onnx.ValueInfoProto{Name: name, Type: tensorType(batchDims(item))})
	return name
}

// Output declares tensor name a graph output of shape [N, item...].
func (b *Builder) Output(name string, item ...int) {
	b.g.Output = append(b.g.Output, &onnx.ValueInfoProto{Name: name, Type: tensorType(batchDims(item))})
}

// OutputAny declares tensor name a float32 graph output without a shape.
func (b *Builder) OutputAny(name string) {
	b.g.Output = append(b.g.Output, &onnx.ValueInfoProto{Name: name, Type: &onnx.TypeProto{
		Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{ElemType: int32(onnx.TensorProto_FLOAT)}},
	}})
}

// Const adds a float32 initializer.
func (b *Builder) Const(name string, data []float32, dims ...int) string {
	raw := make([]byte, 4*len(data))
	for i, f := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(f))
	}
	t := &onnx.TensorProto{Name: name, DataType: int32(onnx.TensorProto_FLOAT), RawData: raw}
	for _, d := range dims {
		t.Dims = append(t.Dims, int64(d))
	}
	b.g.Initializer = append(b.g.Initializer, t)
	return name
}

// Int64s adds an int64 initializer (a Reshape shape, for instance).
func (b *Builder) Int64s(name string, data []int64, dims ...int) string {
	t := &onnx.TensorProto{Name: name, DataType: int32(onnx.TensorProto_INT64), Int64Data: data}
	for _, d := range dims {
		t.Dims = append(t.Dims, int64(d))
	}
	b.g.Initializer = append(b.g.Initializer, t)
	return name
}

// Normal adds an initializer of normally distributed values.
func (b *Builder) Normal(name string, mean, std float64, dims ...int) string {
	if b.skeleton {
		return b.shapeOnly(name, dims)
	}
	data := make([]float32, count(dims))
	for i := range data {
		data[i] = float32(mean + std*b.rng.normal())
	}
	return b.Const(name, data, dims...)
}

// Uniform adds an initializer of values uniform in [lo, hi).
func (b *Builder) Uniform(name string, lo, hi float64, dims ...int) string {
	if b.skeleton {
		return b.shapeOnly(name, dims)
	}
	data := make([]float32, count(dims))
	for i := range data {
		data[i] = float32(lo + (hi-lo)*b.rng.float())
	}
	return b.Const(name, data, dims...)
}

// shapeOnly adds a float32 initializer with dims and no values.
func (b *Builder) shapeOnly(name string, dims []int) string {
	t := &onnx.TensorProto{Name: name, DataType: int32(onnx.TensorProto_FLOAT)}
	for _, d := range dims {
		t.Dims = append(t.Dims, int64(d))
	}
	b.g.Initializer = append(b.g.Initializer, t)
	return name
}

func count(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// Node adds a node with one output named after the op and returns it.
func (b *Builder) Node(op string, inputs []string, attrs ...*onnx.AttributeProto) string {
	out := b.Fresh(op)
	b.NodeOut(op, out, inputs, attrs...)
	return out
}

// NodeOut adds a node whose output is named out.
func (b *Builder) NodeOut(op, out string, inputs []string, attrs ...*onnx.AttributeProto) {
	b.NodeOuts(op, []string{out}, inputs, attrs...)
}

// NodeOuts adds a node with the outputs outs (a Split's), named after
// the first.
func (b *Builder) NodeOuts(op string, outs, inputs []string, attrs ...*onnx.AttributeProto) {
	b.g.Node = append(b.g.Node, &onnx.NodeProto{
		Name: outs[0], OpType: op, Input: inputs, Output: outs, Attribute: attrs,
	})
}

// Int is an INT attribute.
func Int(name string, v int) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INT, I: int64(v)}
}

// Ints is an INTS attribute.
func Ints(name string, v ...int) *onnx.AttributeProto {
	a := &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_INTS}
	for _, x := range v {
		a.Ints = append(a.Ints, int64(x))
	}
	return a
}

// Float is a FLOAT attribute.
func Float(name string, v float32) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_FLOAT, F: v}
}

// String is a STRING attribute.
func String(name, v string) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_STRING, S: []byte(v)}
}

// Strings is a STRINGS attribute: an LSTM's activations, for instance.
func Strings(name string, v ...string) *onnx.AttributeProto {
	a := &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_STRINGS}
	for _, x := range v {
		a.Strings = append(a.Strings, []byte(x))
	}
	return a
}

// Int64Tensor is an INT64 attribute: ConstantOfShape's value, for
// instance (PyTorch's ones_like).
func Int64Tensor(name string, v int64) *onnx.AttributeProto {
	return &onnx.AttributeProto{Name: name, Type: onnx.AttributeProto_TENSOR,
		T: &onnx.TensorProto{Dims: []int64{1}, DataType: int32(onnx.TensorProto_INT64), Int64Data: []int64{v}}}
}

// rng is a splitmix64 generator: tiny, and its sequence never changes, so
// generated weights are the same on every machine and Go version.
type rng uint64

func (r *rng) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// float is uniform in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// normal is standard normal (Box-Muller).
func (r *rng) normal() float64 {
	u := 1 - r.float() // (0, 1]
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}
