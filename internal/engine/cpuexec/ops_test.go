package cpuexec_test

import (
	"slices"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/engine/cpuexec"
	"github.com/clockwork-go/clockwork/internal/engine/reference"
	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/onnx"
)

type attrs = []*onnx.AttributeProto

var (
	ints = modelgen.Ints
	num  = modelgen.Int
	flt  = modelgen.Float
	str  = modelgen.String
)

// graph builds a test model: build adds nodes to b reading input x and
// returns the output tensor.
type graph struct {
	name  string
	input []int // per item
	build func(b *modelgen.Builder, x string) string
	opts  engine.Options
	opset int64
}

func (g graph) model() *onnx.ModelProto {
	b := modelgen.NewBuilder(g.name, modelgen.Seed(g.name))
	y := g.build(b, b.Input("x", g.input...))
	b.OutputAny(y)
	m := b.Model()
	if g.opset != 0 {
		m.OpsetImport[0].Version = g.opset
	}
	return m
}

// conv adds a convolution with random weights (and bias unless noBias).
func conv(b *modelgen.Builder, x string, cin, cout, k, group int, noBias bool, at ...*onnx.AttributeProto) string {
	in := []string{x, b.Normal(b.Fresh("w"), 0, 0.3, cout, cin/group, k, k)}
	if !noBias {
		in = append(in, b.Normal(b.Fresh("b"), 0, 0.3, cout))
	}
	return b.Node("Conv", in, append(at, num("group", group))...)
}

func bn(b *modelgen.Builder, x string, c int) string {
	return b.Node("BatchNormalization", []string{x,
		b.Uniform(b.Fresh("scale"), 0.5, 1.5, c), b.Uniform(b.Fresh("bias"), -1, 1, c),
		b.Uniform(b.Fresh("mean"), -1, 1, c), b.Uniform(b.Fresh("var"), 0.5, 2, c)}, flt("epsilon", 1e-3))
}

// operatorGraphs are the operators' cases, each a small graph run against
// the reference (TestOperators) and onnxruntime (TestOnnxruntime).
func operatorGraphs() []graph {
	return []graph{
		{name: "conv3x3", input: []int{3, 9, 9}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 3, 5, 3, 1, false, ints("pads", 1, 1, 1, 1))
		}},
		// 3 × 3 convolutions of 16 channels or more to 64 tiles of 2 × 2
		// outputs or more: Winograd's F(2×2, 3×3). ResNet's block (bias,
		// residual and ReLU, odd plane); asymmetric padding, no bias, SiLU;
		// no padding, Clip.
		{name: "conv3x3-winograd-residual", input: []int{16, 21, 23}, build: func(b *modelgen.Builder, x string) string {
			y := bn(b, conv(b, x, 16, 16, 3, 1, true, ints("pads", 1, 1, 1, 1)), 16)
			return b.Node("Relu", []string{b.Node("Add", []string{y, x})})
		}},
		{name: "conv3x3-winograd-asym-pads-silu", input: []int{16, 17, 30}, build: func(b *modelgen.Builder, x string) string {
			y := conv(b, x, 16, 5, 3, 1, true, ints("pads", 2, 0, 1, 2))
			return b.Node("Mul", []string{y, b.Node("Sigmoid", []string{y})})
		}},
		{name: "conv3x3-winograd-clip", input: []int{16, 26, 26}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Clip", []string{conv(b, x, 16, 3, 3, 1, false), b.Const(b.Fresh("lo"), []float32{0}), b.Const(b.Fresh("hi"), []float32{6})})
		}},
		{name: "conv-stride-asym-pads-dilation", input: []int{4, 11, 10}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 4, 6, 3, 1, false, ints("pads", 1, 0, 2, 1), ints("strides", 2, 3), ints("dilations", 2, 1))
		}},
		{name: "conv-rect-kernel-nobias", input: []int{2, 7, 8}, build: func(b *modelgen.Builder, x string) string {
			w := b.Normal("w", 0, 0.3, 3, 2, 2, 3)
			return b.Node("Conv", []string{x, w}, ints("kernel_shape", 2, 3), ints("pads", 0, 1, 1, 0))
		}},
		{name: "conv-grouped", input: []int{6, 8, 8}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 6, 9, 3, 3, false, ints("pads", 1, 1, 1, 1))
		}},
		{name: "conv-depthwise", input: []int{5, 9, 9}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 5, 5, 3, 5, false, ints("pads", 1, 1, 1, 1))
		}},
		{name: "conv-depthwise-stride2-dilated", input: []int{4, 13, 12}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 4, 4, 3, 4, true, ints("pads", 2, 1, 0, 2), ints("strides", 2, 2), ints("dilations", 2, 1))
		}},
		// The depthwise kernel's loops: 5-wide at strides 1 and 2, 7-wide
		// (the general loop), dilated across, and inputs narrower than
		// the kernel, where no column has all its taps inside.
		{name: "conv-depthwise-5x5", input: []int{3, 11, 12}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 3, 3, 5, 3, false, ints("pads", 2, 2, 2, 2))
		}},
		{name: "conv-depthwise-5x5-stride2", input: []int{3, 12, 13}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 3, 3, 5, 3, false, ints("pads", 1, 2, 2, 1), ints("strides", 2, 2))
		}},
		{name: "conv-depthwise-7x7", input: []int{2, 10, 9}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 2, 2, 7, 2, false, ints("pads", 3, 3, 3, 3))
		}},
		{name: "conv-depthwise-dilated-across", input: []int{2, 9, 10}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 2, 2, 3, 2, false, ints("pads", 2, 2, 2, 2), ints("dilations", 1, 2))
		}},
		{name: "conv-depthwise-narrow", input: []int{2, 3, 2}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 2, 2, 5, 2, false, ints("pads", 2, 2, 2, 2))
		}},
		{name: "conv-depthwise-multiplier", input: []int{3, 6, 6}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 3, 6, 3, 3, false, ints("pads", 1, 1, 1, 1))
		}},
		{name: "conv-same-upper", input: []int{3, 9, 8}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 3, 4, 4, 1, false, str("auto_pad", "SAME_UPPER"), ints("strides", 2, 2))
		}},
		{name: "conv-same-lower", input: []int{3, 9, 8}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 3, 4, 4, 1, false, str("auto_pad", "SAME_LOWER"), ints("strides", 2, 2))
		}},
		{name: "conv-valid", input: []int{3, 9, 8}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 3, 4, 3, 1, false, str("auto_pad", "VALID"), ints("strides", 2, 2))
		}},
		{name: "conv1x1-many-tiles", input: []int{20, 20, 20}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 20, 70, 1, 1, false)
		}},
		{name: "conv1x1-strided", input: []int{8, 9, 9}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 8, 12, 1, 1, false, ints("strides", 2, 2))
		}},
		// A 1×1 convolution padded all round: its border outputs read
		// nothing but padding, and at this size a position tile starts in
		// the right padding (a run starting past the row once made im2col
		// slice beyond it).
		{name: "conv1x1-padded", input: []int{3, 31, 53}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 3, 4, 1, 1, false, ints("pads", 1, 2, 1, 2))
		}},
		// Grouped, padded so wide that the output has more positions
		// than a group's input: a tile's first position lies beyond the
		// last group's input plane (slicing the input there panicked;
		// FuzzImport found it).
		{name: "conv-grouped-padded-wide", input: []int{2, 4, 4}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 2, 4, 1, 2, false, ints("pads", 0, 40, 0, 40))
		}},
		// Depthwise, padded far past its 1 × 1 input: its phases would not
		// fit (TestPhasesFit), and it runs as a GEMM per group.
		{name: "depthwise-padded-past-phases", input: []int{2, 1, 1}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 2, 2, 3, 2, false, ints("pads", 200, 200, 200, 200), ints("dilations", 150, 150))
		}},
		{name: "conv3x3-wide", input: []int{64, 12, 12}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 64, 66, 3, 1, false, ints("pads", 1, 1, 1, 1))
		}},
		{name: "conv-bn-folded", input: []int{3, 7, 7}, build: func(b *modelgen.Builder, x string) string {
			return bn(b, conv(b, x, 3, 4, 3, 1, false, ints("pads", 1, 1, 1, 1)), 4)
		}},
		{name: "conv-bn-add-relu", input: []int{4, 6, 6}, build: func(b *modelgen.Builder, x string) string {
			y := bn(b, conv(b, x, 4, 4, 3, 1, true, ints("pads", 1, 1, 1, 1)), 4)
			return b.Node("Relu", []string{b.Node("Add", []string{x, y})})
		}},
		{name: "conv-relu6", input: []int{3, 6, 6}, build: func(b *modelgen.Builder, x string) string {
			lo, hi := b.Const("lo", []float32{0}), b.Const("hi", []float32{0.5})
			return b.Node("Clip", []string{conv(b, x, 3, 4, 3, 1, false), lo, hi})
		}},
		{name: "batchnorm-standalone-hardswish", input: []int{3, 5, 4}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("HardSwish", []string{bn(b, b.Node("Relu", []string{x}), 3)})
		}},
		{name: "clip-min-only", input: []int{10}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Clip", []string{x, b.Const("lo", []float32{-0.3})})
		}},
		{name: "clip-opset6-attrs", input: []int{10}, opset: 6, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Clip", []string{x}, flt("min", -0.5), flt("max", 0.25))
		}},
		{name: "hardsigmoid", input: []int{4, 3}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("HardSigmoid", []string{x}, flt("alpha", 0.3), flt("beta", 0.4))
		}},
		{name: "sigmoid", input: []int{4, 3}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Sigmoid", []string{b.Node("Mul", []string{x, b.Const("k", []float32{8})})})
		}},
		{name: "tanh", input: []int{4, 3}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Tanh", []string{b.Node("Mul", []string{x, b.Const("k", []float32{4})})})
		}},
		{name: "leakyrelu-default-alpha", input: []int{9}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("LeakyRelu", []string{x})
		}},
		{name: "conv-leakyrelu", input: []int{3, 6, 6}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("LeakyRelu", []string{conv(b, x, 3, 4, 3, 1, false)}, flt("alpha", 0.1))
		}},
		{name: "conv-swish", input: []int{3, 6, 6}, build: func(b *modelgen.Builder, x string) string {
			c := conv(b, x, 3, 4, 3, 1, false, ints("pads", 1, 1, 1, 1))
			return b.Node("Mul", []string{c, b.Node("Sigmoid", []string{c})})
		}},
		{name: "gemm-tanh", input: []int{12}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Tanh", []string{b.Node("Gemm", []string{x, b.Normal("w", 0, 0.3, 7, 12), b.Normal("c", 0, 1, 7)}, num("transB", 1))})
		}},
		{name: "maxpool", input: []int{3, 9, 9}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("MaxPool", []string{x}, ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1))
		}},
		// A stride past the plane: one output, one phase (TestPhasesFit).
		{name: "maxpool-stride-past-plane", input: []int{3, 8, 8}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("MaxPool", []string{x}, ints("kernel_shape", 2, 2), ints("strides", 65536, 65536))
		}},
		{name: "maxpool-ceil-dilated", input: []int{2, 10, 9}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("MaxPool", []string{x}, ints("kernel_shape", 2, 3), ints("strides", 2, 2), ints("dilations", 2, 1), num("ceil_mode", 1))
		}},
		{name: "avgpool-exclude-pad", input: []int{2, 7, 7}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("AveragePool", []string{x}, ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1))
		}},
		{name: "avgpool-include-pad", input: []int{2, 7, 7}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("AveragePool", []string{x}, ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 2, 1, 0), num("count_include_pad", 1))
		}},
		{name: "avgpool-ceil-include-pad", input: []int{2, 8, 8}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("AveragePool", []string{x}, ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1), num("count_include_pad", 1), num("ceil_mode", 1))
		}},
		{name: "avgpool-same-upper", input: []int{2, 7, 6}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("AveragePool", []string{x}, ints("kernel_shape", 2, 2), ints("strides", 2, 2), str("auto_pad", "SAME_UPPER"))
		}},
		{name: "globalavgpool", input: []int{5, 4, 3}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("GlobalAveragePool", []string{x})
		}},
		{name: "reducemean-spatial", input: []int{3, 5, 4}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("ReduceMean", []string{x}, ints("axes", 2, 3))
		}},
		{name: "reducemean-squeezed-negative-axes", input: []int{3, 5, 4}, build: func(b *modelgen.Builder, x string) string {
			m := b.Node("ReduceMean", []string{b.Node("Relu", []string{x})}, ints("axes", -1, -2), num("keepdims", 0))
			return b.Node("Gemm", []string{m, b.Normal("w", 0, 0.3, 4, 3)}, num("transB", 1))
		}},
		{name: "reducemean-opset18-axes-input", input: []int{2, 3, 3}, opset: 18, build: func(b *modelgen.Builder, x string) string {
			return b.Node("ReduceMean", []string{x, b.Int64s("axes", []int64{3, 2}, 2)}, num("keepdims", 0))
		}},
		// Max pooling of whole planes: GlobalMaxPool of 4-D and 3-D
		// inputs, and ReduceMax over the last axes (squeezed, and
		// beside a ReduceMean of the same axes, which must stay a mean).
		{name: "globalmaxpool-2d-and-1d", input: []int{3, 5, 4}, build: func(b *modelgen.Builder, x string) string {
			g := b.Node("GlobalMaxPool", []string{x})
			f := b.Node("GlobalMaxPool", []string{b.Node("Reshape", []string{x, b.Int64s("l", []int64{0, 3, -1}, 3)})})
			return b.Node("Concat", []string{b.Node("Reshape", []string{g, b.Int64s("fg", []int64{0, -1}, 2)}),
				b.Node("Reshape", []string{f, b.Int64s("ff", []int64{0, -1}, 2)})}, num("axis", 1))
		}},
		{name: "reducemax-and-mean-of-last-axes", input: []int{3, 5, 4}, build: func(b *modelgen.Builder, x string) string {
			mx := b.Node("ReduceMax", []string{x}, ints("axes", -1, -2), num("keepdims", 0))
			mn := b.Node("ReduceMean", []string{x}, ints("axes", -1, -2), num("keepdims", 0))
			return b.Node("Concat", []string{mx, mn}, num("axis", 1))
		}},
		{name: "reducesum-opset13-axes-input", input: []int{3, 5, 4}, opset: 13, build: func(b *modelgen.Builder, x string) string {
			s := b.Node("ReduceSum", []string{x, b.Int64s("axes", []int64{-1}, 1)})
			return b.Node("Add", []string{s, b.Node("ReduceSum", []string{x, b.Int64s("axes2", []int64{2, 3}, 2)})})
		}},
		// Reductions over axes that are not the last: moved last by a
		// transpose, their ones put back with keepdims (CBAM's channel
		// mean and max, a ViT's mean over its tokens, scattered axes).
		{name: "reduce-over-channels-kept", input: []int{4, 5, 3}, build: func(b *modelgen.Builder, x string) string {
			mx := b.Node("ReduceMax", []string{x}, ints("axes", 1))
			mn := b.Node("ReduceMean", []string{x}, ints("axes", -3))
			return b.Node("Concat", []string{mx, mn}, num("axis", 1))
		}},
		{name: "reducemean-over-tokens-squeezed", input: []int{6, 8}, build: func(b *modelgen.Builder, x string) string {
			m := b.Node("ReduceMean", []string{x}, ints("axes", 1), num("keepdims", 0))
			return b.Node("Gemm", []string{m, b.Normal("w", 0, 0.3, 3, 8)}, num("transB", 1))
		}},
		{name: "reducesum-scattered-axes-opset13", input: []int{3, 4, 5, 2}, opset: 13, build: func(b *modelgen.Builder, x string) string {
			kept := b.Node("ReduceSum", []string{x, b.Int64s("axes", []int64{3, 1}, 2)})
			dropped := b.Node("ReduceSum", []string{x, b.Int64s("axes2", []int64{1, -2}, 2)}, num("keepdims", 0))
			return b.Node("Add", []string{kept, b.Node("Unsqueeze", []string{dropped, b.Int64s("at", []int64{1, 3}, 2)})})
		}},
		// The other reductions, around a global pool: ReduceMin (−max(−x)),
		// ReduceL1, ReduceSumSquare, and ReduceL2 as F.normalize exports
		// it (ReduceL2, Clip to eps, Expand to x's shape, Div), over the
		// channels of an image and the last axis of an embedding.
		{name: "reducemin-l1-sumsquare", input: []int{4, 3, 5}, build: func(b *modelgen.Builder, x string) string {
			mn := b.Node("ReduceMin", []string{x}, ints("axes", 1), num("keepdims", 0))
			l1 := b.Node("ReduceL1", []string{x}, ints("axes", 2, 3), num("keepdims", 0))
			ss := b.Node("ReduceSumSquare", []string{x}, ints("axes", -1))
			return b.Node("Concat", []string{b.Node("Reshape", []string{mn, b.Int64s("f1", []int64{0, -1}, 2)}), l1,
				b.Node("Reshape", []string{ss, b.Int64s("f2", []int64{0, -1}, 2)})}, num("axis", 1))
		}},
		// ReduceLogSum of |x|, and ReduceLogSumExp of 60·x, whose
		// exponentials overflow float32 (the engine subtracts the maximum
		// first), over the channels without keepdims and over the last axis
		// with; and opset 18's axes input.
		{name: "reduce-logsum-logsumexp", input: []int{4, 3, 5}, build: func(b *modelgen.Builder, x string) string {
			flat := func(v string) string {
				return b.Node("Reshape", []string{v, b.Int64s(b.Fresh("flat"), []int64{0, -1}, 2)})
			}
			ls := b.Node("ReduceLogSum", []string{b.Node("Abs", []string{x})}, ints("axes", 1), num("keepdims", 0))
			big := b.Node("Mul", []string{x, b.Const("sixty", []float32{60})})
			lse := b.Node("ReduceLogSumExp", []string{big}, ints("axes", 1), num("keepdims", 0))
			last := b.Node("ReduceLogSumExp", []string{big}, ints("axes", -1))
			return b.Node("Concat", []string{flat(ls), flat(lse), flat(last)}, num("axis", 1))
		}},
		{name: "reducelogsumexp-opset18", input: []int{3, 7}, opset: 18, build: func(b *modelgen.Builder, x string) string {
			big := b.Node("Mul", []string{x, b.Const("thirty", []float32{30})})
			return b.Node("ReduceLogSumExp", []string{big, b.Int64s("axes", []int64{-1}, 1)}, num("keepdims", 0))
		}},
		{name: "normalize-channels-l2", input: []int{6, 2, 3}, build: func(b *modelgen.Builder, x string) string {
			norm := b.Node("ReduceL2", []string{x}, ints("axes", 1))
			clipped := b.Node("Clip", []string{norm, b.Const("eps", []float32{1e-12})})
			return b.Node("Div", []string{x, b.Node("Expand", []string{clipped, b.Node("Shape", []string{x})})})
		}},
		{name: "normalize-embedding-l2-opset18", input: []int{8}, opset: 18, build: func(b *modelgen.Builder, x string) string {
			e := b.Node("MatMul", []string{x, b.Normal("w", 0, 0.5, 8, 5)})
			norm := b.Node("ReduceL2", []string{e, b.Int64s("axes", []int64{-1}, 1)})
			return b.Node("Div", []string{e, norm})
		}},
		// Pads of other axes than H and W: a CIFAR ResNet's option-A
		// shortcut (every other pixel, channels padded with zeros), Swin's
		// F.pad of an NHWC window grid (H and W, C merged into W), the
		// last axis of a sequence and of a matrix, and opset 18's axes.
		{name: "pad-channels-resnet-shortcut", input: []int{4, 6, 6}, opset: 13, build: func(b *modelgen.Builder, x string) string {
			sub := b.Node("Slice", []string{x, b.Int64s("st", []int64{0, 0}, 2), b.Int64s("en", []int64{6, 6}, 2), b.Int64s("ax", []int64{2, 3}, 2), b.Int64s("sp", []int64{2, 2}, 2)})
			pad := b.Node("Pad", []string{sub, b.Int64s("p", []int64{0, 2, 0, 0, 0, 2, 0, 0}, 8)})
			return b.Node("Relu", []string{b.Node("Add", []string{pad, conv(b, x, 4, 8, 3, 1, false, ints("pads", 1, 1, 1, 1), ints("strides", 2, 2))})})
		}},
		{name: "pad-nhwc-window-grid", input: []int{5, 3, 4}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Pad", []string{x, b.Int64s("p", []int64{0, 1, 0, 0, 0, 2, 3, 0}, 8)})
		}},
		{name: "pad-sequence-and-matrix", input: []int{3, 4}, build: func(b *modelgen.Builder, x string) string {
			seq := b.Node("Pad", []string{x, b.Int64s("p", []int64{0, 0, 1, 0, 0, 2}, 6)})
			flat := b.Node("Flatten", []string{x})
			mat := b.Node("Pad", []string{flat, b.Int64s("q", []int64{0, 3, 0, 1}, 4)})
			return b.Node("Concat", []string{b.Node("Flatten", []string{seq}), mat}, num("axis", 1))
		}},
		{name: "pad-opset18-axes-between-ones", input: []int{3, 1, 4}, opset: 18, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Pad", []string{x, b.Int64s("p", []int64{2, 1, 0, 3}, 4), "", b.Int64s("axes", []int64{1, -1}, 2)})
		}},
		// Gather of several constant indices: RGB to BGR (three runs),
		// rows with a gap, a negative index and a repeat, and columns of
		// one run (a slice).
		{name: "gather-several-indices", input: []int{3, 4, 5}, build: func(b *modelgen.Builder, x string) string {
			bgr := b.Node("Gather", []string{x, b.Int64s("bgr", []int64{2, 1, 0}, 3)}, num("axis", 1))
			rows := b.Node("Gather", []string{bgr, b.Int64s("rows", []int64{1, 3, -1, 0, 0}, 5)}, num("axis", 2))
			cols := b.Node("Gather", []string{rows, b.Int64s("cols", []int64{1, 2, 3}, 3)}, num("axis", -1))
			return b.Node("Relu", []string{cols})
		}},
		// Tile (x.repeat): H and W of an image, the last axis of a
		// sequence with nothing repeated before it, and all ones.
		{name: "tile-image-sequence-ones", input: []int{2, 3, 2}, build: func(b *modelgen.Builder, x string) string {
			img := b.Node("Tile", []string{x, b.Int64s("r", []int64{1, 1, 2, 3}, 4)})
			seq := b.Node("Tile", []string{b.Node("Reshape", []string{x, b.Int64s("s", []int64{0, 6, 2}, 3)}), b.Int64s("q", []int64{1, 1, 4}, 3)})
			same := b.Node("Tile", []string{x, b.Int64s("o", []int64{1, 1, 1, 1}, 4)})
			return b.Node("Concat", []string{b.Node("Flatten", []string{img}), b.Node("Flatten", []string{seq}), b.Node("Flatten", []string{same})}, num("axis", 1))
		}},
		// Elementwise Max and Min: of a tensor and a constant scalar (a
		// Clip, fused into the conv before it), of two computed tensors
		// broadcasting, of three (a chain), and of one (as it is).
		{name: "max-min-clip-binary-chain", input: []int{3, 4, 4}, build: func(b *modelgen.Builder, x string) string {
			c := conv(b, x, 3, 4, 3, 1, false, ints("pads", 1, 1, 1, 1))
			floor := b.Node("Max", []string{c, b.Const("zero", []float32{0})})
			ceil := b.Node("Min", []string{b.Const("half", []float32{0.5}, 1, 1), floor})
			pooled := b.Node("GlobalAveragePool", []string{x})
			m := b.Node("Max", []string{x, pooled, b.Node("Neg", []string{x})})
			n := b.Node("Min", []string{b.Node("Min", []string{m}), x})
			return b.Node("Concat", []string{ceil, n, b.Node("Max", []string{x, b.Node("Sigmoid", []string{x})})}, num("axis", 1))
		}},
		// Slices with negative steps: RGB to BGR of NHWC as tf2onnx writes
		// x[..., ::-1], and a slice stepping back by two along the rows
		// beside a forward one along the columns.
		{name: "slice-negative-steps", input: []int{4, 5, 3}, opset: 13, build: func(b *modelgen.Builder, x string) string {
			bgr := b.Node("Slice", []string{x, b.Int64s("s", []int64{-1}, 1), b.Int64s("e", []int64{-1 << 62}, 1), b.Int64s("a", []int64{-1}, 1), b.Int64s("st", []int64{-1}, 1)})
			back := b.Node("Slice", []string{x, b.Int64s("s2", []int64{3, 1}, 2), b.Int64s("e2", []int64{-10, 5}, 2), b.Int64s("a2", []int64{1, 2}, 2), b.Int64s("st2", []int64{-2, 3}, 2)})
			return b.Node("Concat", []string{b.Node("Flatten", []string{bgr}), b.Node("Flatten", []string{back})}, num("axis", 1))
		}},
		// Cubic resizes, and linear ones with antialias or exclude_outside:
		// MatMuls by each axis's weights. PyTorch's bicubic (A −0.75,
		// pytorch_half_pixel), Keras' (A −0.5, half_pixel, exclude_outside)
		// downscaling one axis, antialiased linear and cubic downscales
		// (opset 18), a 1-D cubic, and a resize of W alone.
		{name: "resize-cubic-pytorch", input: []int{2, 5, 4}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Resize", []string{x, "", b.Const("s", []float32{1, 1, 2, 2}, 4)}, str("mode", "cubic"),
				str("coordinate_transformation_mode", "pytorch_half_pixel"))
		}},
		{name: "resize-cubic-keras-exclude", input: []int{2, 6, 4}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Resize", []string{x, "", b.Const("s", []float32{1, 1, 0.5, 1.5}, 4)}, str("mode", "cubic"),
				flt("cubic_coeff_a", -0.5), num("exclude_outside", 1))
		}},
		{name: "resize-antialias-opset18", input: []int{2, 9, 8}, opset: 18, build: func(b *modelgen.Builder, x string) string {
			lin := b.Node("Resize", []string{x, "", b.Const("s", []float32{1, 1, 0.5, 0.5}, 4)}, str("mode", "linear"), num("antialias", 1))
			cub := b.Node("Resize", []string{x, "", b.Const("s2", []float32{1, 1, 0.4, 0.5}, 4)}, str("mode", "cubic"), num("antialias", 1))
			up := b.Node("Resize", []string{x, "", b.Const("s3", []float32{1, 1, 1.5, 0.75}, 4)}, str("mode", "cubic"), num("antialias", 1))
			return b.Node("Concat", []string{b.Node("Flatten", []string{lin}), b.Node("Flatten", []string{cub}), b.Node("Flatten", []string{up})}, num("axis", 1))
		}},
		{name: "resize-cubic-1d-and-width-only", input: []int{3, 7}, build: func(b *modelgen.Builder, x string) string {
			l := b.Node("Resize", []string{x, "", b.Const("s", []float32{1, 1, 3}, 3)}, str("mode", "cubic"), str("coordinate_transformation_mode", "align_corners"))
			img := b.Node("Unsqueeze", []string{x, b.Int64s("h", []int64{2}, 1)})
			wide := b.Node("Resize", []string{img, "", b.Const("s2", []float32{1, 1, 1, 2}, 4)}, str("mode", "linear"), num("exclude_outside", 1))
			return b.Node("Concat", []string{b.Node("Flatten", []string{l}), b.Node("Flatten", []string{wide})}, num("axis", 1))
		}},
		// 3-D convolutions and pools of [N, C, D, H, W] (video models):
		// R3D's stem (depth 3, the plane strided, padded in D), a grouped,
		// dilated and depth-strided one with bias, R(2+1)D's temporal
		// (3, 1, 1) one, SAME_UPPER and SAME_LOWER padding (odd in depth
		// and width), then max and average pools
		// (ceil_mode, count_include_pad, depth strides and pads).
		{name: "conv3d-r3d-stem-grouped-temporal", input: []int{3, 5, 6, 6}, build: func(b *modelgen.Builder, x string) string {
			stem := b.Node("Conv", []string{x, b.Normal("w1", 0, 0.3, 4, 3, 3, 3, 3)}, ints("strides", 1, 2, 2), ints("pads", 1, 1, 1, 1, 1, 1))
			grouped := b.Node("Conv", []string{stem, b.Normal("w2", 0, 0.3, 4, 2, 2, 3, 1), b.Normal("b2", 0, 0.3, 4)}, num("group", 2),
				ints("strides", 2, 1, 1), ints("dilations", 2, 1, 1), ints("pads", 1, 0, 1, 0, 2, 0))
			temporal := b.Node("Conv", []string{b.Node("Relu", []string{grouped}), b.Normal("w3", 0, 0.3, 2, 4, 3, 1, 1)}, str("auto_pad", "SAME_UPPER"))
			lower := b.Node("Conv", []string{temporal, b.Normal("w4", 0, 0.3, 2, 2, 2, 1, 2)}, str("auto_pad", "SAME_LOWER"))
			return b.Node("Concat", []string{temporal, lower}, num("axis", 1))
		}},
		{name: "conv3d-chain-transposes-composed", input: []int{2, 3, 4, 4}, build: func(b *modelgen.Builder, x string) string {
			c1 := b.Node("Conv", []string{x, b.Normal("w1", 0, 0.3, 3, 2, 1, 3, 3)}, ints("pads", 0, 1, 1, 0, 1, 1))
			c2 := b.Node("Conv", []string{b.Node("Relu", []string{c1}), b.Normal("w2", 0, 0.3, 2, 3, 3, 1, 1)}, ints("pads", 1, 0, 0, 1, 0, 0))
			t := b.Node("Transpose", []string{b.Node("Transpose", []string{c2}, ints("perm", 0, 2, 3, 4, 1))}, ints("perm", 0, 4, 1, 2, 3))
			return b.Node("Sigmoid", []string{b.Node("Transpose", []string{t}, ints("perm", 0, 1, 3, 4, 2))})
		}},
		{name: "pool3d-max-avg", input: []int{2, 5, 7, 6}, build: func(b *modelgen.Builder, x string) string {
			mx := b.Node("MaxPool", []string{x}, ints("kernel_shape", 2, 3, 3), ints("strides", 2, 2, 2), ints("pads", 1, 1, 0, 0, 1, 1), num("ceil_mode", 1))
			avg := b.Node("AveragePool", []string{x}, ints("kernel_shape", 3, 2, 2), ints("strides", 1, 2, 2), ints("pads", 1, 0, 1, 1, 1, 0))
			inc := b.Node("AveragePool", []string{x}, ints("kernel_shape", 3, 3, 2), ints("pads", 1, 1, 0, 1, 1, 1), num("count_include_pad", 1), num("ceil_mode", 1), ints("strides", 2, 2, 2))
			same := b.Node("MaxPool", []string{x}, ints("kernel_shape", 2, 2, 2), ints("strides", 2, 2, 2), str("auto_pad", "SAME_LOWER"))
			return b.Node("Concat", []string{b.Node("Flatten", []string{mx}), b.Node("Flatten", []string{avg}), b.Node("Flatten", []string{inc}), b.Node("Flatten", []string{same})}, num("axis", 1))
		}},
		// GroupNormalization: opset 21's scale and bias per channel, and
		// opset 18's per group, of 4-D and 3-D inputs.
		{name: "groupnorm-opset21-per-channel", input: []int{6, 3, 4}, opset: 21, build: func(b *modelgen.Builder, x string) string {
			return b.Node("GroupNormalization", []string{x, b.Normal("s", 1, 0.3, 6), b.Normal("b", 0, 0.3, 6)}, num("num_groups", 3))
		}},
		{name: "groupnorm-opset18-per-group", input: []int{8, 5}, opset: 18, build: func(b *modelgen.Builder, x string) string {
			return b.Node("GroupNormalization", []string{x, b.Normal("s", 1, 0.3, 2), b.Normal("b", 0, 0.3, 2)}, num("num_groups", 2), flt("epsilon", 1e-3))
		}},
		// Floor, Ceil, Round (halves to even: Floor(4x)/2 makes halves),
		// Sign (of integers too, so zeros), Sin and Cos.
		{name: "floor-ceil-round-sign-sin-cos", input: []int{4, 6}, build: func(b *modelgen.Builder, x string) string {
			k := b.Node("Floor", []string{b.Node("Mul", []string{x, b.Const("four", []float32{4})})})
			halves := b.Node("Mul", []string{k, b.Const("half", []float32{0.5})})
			parts := []string{k, b.Node("Ceil", []string{x}), b.Node("Round", []string{halves}), b.Node("Sign", []string{x}),
				b.Node("Sign", []string{b.Node("Round", []string{x})}), b.Node("Sin", []string{b.Node("Mul", []string{x, b.Const("three", []float32{3})})}), b.Node("Cos", []string{x})}
			return b.Node("Concat", parts, num("axis", 1))
		}},
		// Activations fused into strided copies: a Transpose, a Slice and
		// an Expand.
		{name: "strided-copies-activated", input: []int{3, 4}, build: func(b *modelgen.Builder, x string) string {
			t := b.Node("Relu", []string{b.Node("Transpose", []string{x}, ints("perm", 0, 2, 1))})
			s := b.Node("Sigmoid", []string{b.Node("Slice", []string{x, b.Int64s("s", []int64{1}, 1), b.Int64s("e", []int64{4}, 1), b.Int64s("a", []int64{2}, 1)})})
			e := b.Node("Tanh", []string{b.Node("Expand", []string{b.Node("ReduceMean", []string{x}, ints("axes", 2)), b.Int64s("to", []int64{1, 3, 4}, 3)})})
			return b.Node("Concat", []string{b.Node("Flatten", []string{t}), b.Node("Flatten", []string{s}), b.Node("Flatten", []string{e})}, num("axis", 1))
		}},
		// Two Swin Transformer blocks (the second's windows shifted): the
		// strided copies and views of a real model (six-axis transposes,
		// rolls, heads gathered from a five-axis transpose) at opset 17.
		{name: "swin-blocks", input: []int{8, 8, 8}, opset: 17, build: func(b *modelgen.Builder, x string) string {
			return b.SwinBlock(b.SwinBlock(x, 8, 8, 4, 2, 0), 8, 8, 4, 2, 2)
		}},
		// Pixel shuffle and unshuffle: DepthToSpace in both orders (the
		// transposes have five dimensions once merged), SpaceToDepth back
		// and forth, and pixel_shuffle as PyTorch exported it before
		// opset 11 (Reshape, six-axis Transpose, Reshape), after a conv.
		{name: "depthtospace-dcr-crd", input: []int{8, 3, 2}, build: func(b *modelgen.Builder, x string) string {
			d := b.Node("DepthToSpace", []string{x}, num("blocksize", 2))
			c := b.Node("DepthToSpace", []string{x}, num("blocksize", 2), str("mode", "CRD"))
			return b.Node("Concat", []string{d, c}, num("axis", 1))
		}},
		{name: "spacetodepth-then-back", input: []int{3, 6, 4}, build: func(b *modelgen.Builder, x string) string {
			s := b.Node("SpaceToDepth", []string{x}, num("blocksize", 2))
			back := b.Node("DepthToSpace", []string{b.Node("Relu", []string{s})}, num("blocksize", 2))
			return b.Node("Concat", []string{b.Node("Reshape", []string{s, b.Int64s("fs", []int64{0, -1}, 2)}),
				b.Node("Reshape", []string{back, b.Int64s("fb", []int64{0, -1}, 2)})}, num("axis", 1))
		}},
		{name: "pixel-shuffle-reshape-transpose", input: []int{2, 4, 3}, opset: 9, build: func(b *modelgen.Builder, x string) string {
			y := conv(b, x, 2, 18, 3, 1, false, ints("pads", 1, 1, 1, 1))
			six := b.Node("Reshape", []string{y, b.Int64s("six", []int64{-1, 2, 3, 3, 4, 3}, 6)})
			t := b.Node("Transpose", []string{six}, ints("perm", 0, 1, 4, 2, 5, 3))
			return b.Node("Reshape", []string{t, b.Int64s("four", []int64{-1, 2, 12, 9}, 4)})
		}},
		{name: "sub-div-normalise-then-conv", input: []int{3, 6, 6}, build: func(b *modelgen.Builder, x string) string {
			mean, std := b.Const("mean", []float32{0.485, 0.456, 0.406}, 1, 3, 1, 1), b.Const("std", []float32{0.229, 0.224, 0.225}, 1, 3, 1, 1)
			return conv(b, b.Node("Div", []string{b.Node("Sub", []string{x, mean}), std}), 3, 4, 3, 1, false)
		}},
		{name: "div-scalar", input: []int{7}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Div", []string{x, b.Const("k", []float32{255})})
		}},
		{name: "add-same-shape", input: []int{3, 4, 5}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Add", []string{x, b.Node("Relu", []string{x})})
		}},
		{name: "add-per-channel-const", input: []int{3, 4, 5}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Add", []string{x, b.Normal("c", 0, 1, 1, 3, 1, 1)})
		}},
		{name: "mul-per-channel-const-relu", input: []int{3, 4, 5}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Relu", []string{b.Node("Mul", []string{b.Normal("c", 0, 1, 3, 1, 1), x})})
		}},
		{name: "mul-scalar", input: []int{7}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Mul", []string{x, b.Const("s", []float32{-1.5})})
		}},
		{name: "mul-squeeze-excite", input: []int{4, 5, 5}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Mul", []string{x, b.Node("GlobalAveragePool", []string{x})})
		}},
		// EfficientNet's squeeze and excitation: 1 × 1 convolutions of a
		// single position (Gemms of the images by the weights), with bias
		// and SiLU, without bias and with a sigmoid.
		{name: "squeeze-excite-convs", input: []int{40, 3, 3}, build: func(b *modelgen.Builder, x string) string {
			s := conv(b, b.Node("GlobalAveragePool", []string{x}), 40, 10, 1, 1, false)
			s = b.Node("Mul", []string{s, b.Node("Sigmoid", []string{s})})
			s = b.Node("Sigmoid", []string{conv(b, s, 10, 40, 1, 1, true)})
			return b.Node("Mul", []string{x, s})
		}},
		// A 1 × 1 window over a single position that reads the padding,
		// not the position (stride 2, one row and column of padding above
		// and left): the bias alone, not a Gemm of the input.
		{name: "conv1x1-one-position-in-padding", input: []int{3, 1, 1}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, x, 3, 4, 1, 1, false, ints("pads", 1, 1, 0, 0), ints("strides", 2, 2))
		}},
		{name: "add-two-sided-broadcast", input: []int{4, 5, 6}, build: func(b *modelgen.Builder, x string) string {
			g := b.Node("GlobalAveragePool", []string{x}) // [N,4,1,1]
			c := conv(b, x, 4, 1, 1, 1, false)            // [N,1,5,6]
			return b.Node("Add", []string{g, c})
		}},
		{name: "add-last-dim-const", input: []int{3, 8}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Add", []string{x, b.Normal("c", 0, 1, 8)})
		}},
		{name: "gemm-transB-bias", input: []int{12}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Gemm", []string{x, b.Normal("w", 0, 0.3, 7, 12), b.Normal("c", 0, 1, 7)}, num("transB", 1))
		}},
		{name: "gemm-transB-bias-relu", input: []int{12}, build: func(b *modelgen.Builder, x string) string { // dot products
			return b.Node("Relu", []string{b.Node("Gemm", []string{x, b.Normal("w", 0, 0.3, 7, 12), b.Normal("c", 0, 1, 7)}, num("transB", 1))})
		}},
		{name: "gemm-alpha-beta-rowC-relu", input: []int{12}, build: func(b *modelgen.Builder, x string) string {
			g := b.Node("Gemm", []string{x, b.Normal("w", 0, 0.3, 12, 9), b.Normal("c", 0, 1, 1, 9)}, flt("alpha", 0.5), flt("beta", -2))
			return b.Node("Relu", []string{g})
		}},
		{name: "gemm-scalar-C", input: []int{5}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Gemm", []string{x, b.Normal("w", 0, 0.3, 5, 3), b.Const("c", []float32{0.7})})
		}},
		{name: "gemm-no-C", input: []int{5}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Gemm", []string{x, b.Normal("w", 0, 0.3, 4, 5)}, num("transB", 1))
		}},
		// 13 rows an image: products of more rows than sgemm.c's dot
		// products take, their bias and ReLU in the GEMM's epilogue, and
		// a residual as its Z.
		{name: "matmul-rows-bias-relu", input: []int{13, 12}, build: func(b *modelgen.Builder, x string) string {
			y := b.Node("Add", []string{b.Node("MatMul", []string{x, b.Normal("w", 0, 0.3, 12, 9)}), b.Normal("c", 0, 1, 9)})
			return b.Node("Relu", []string{y})
		}},
		{name: "matmul-rows-residual", input: []int{13, 12}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Add", []string{b.Node("MatMul", []string{x, b.Normal("w", 0, 0.3, 12, 12)}), x})
		}},
		{name: "gemm-then-add", input: []int{6}, build: func(b *modelgen.Builder, x string) string {
			y := b.Node("Gemm", []string{x, b.Normal("w", 0, 0.3, 6, 6)})
			return b.Node("Add", []string{y, x})
		}},
		{name: "gemm-split-transB", input: []int{40}, opts: engine.Options{PageSize: 4096}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Gemm", []string{x, b.Normal("w", 0, 0.3, 50, 40), b.Normal("c", 0, 1, 50)}, num("transB", 1))
		}},
		{name: "matmul-split", input: []int{40}, opts: engine.Options{PageSize: 4096}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("MatMul", []string{x, b.Normal("w", 0, 0.3, 40, 50)})
		}},
		// 6·3·3 floats an output channel, 4 in a page of 1 KiB: the
		// convolutions are split in three, the second's residual and ReLU
		// after the Concat; SiLU fuses into the first.
		{name: "conv-split-by-pages", input: []int{6, 5, 5}, opts: engine.Options{PageSize: 1024}, build: func(b *modelgen.Builder, x string) string {
			c := bn(b, conv(b, x, 6, 10, 3, 1, false, ints("pads", 1, 1, 1, 1)), 10)
			s := b.Node("Mul", []string{c, b.Node("Sigmoid", []string{c})})
			y := conv(b, b.Node("Slice", []string{s, b.Int64s("s", []int64{2}, 1), b.Int64s("e", []int64{8}, 1), b.Int64s("a", []int64{1}, 1)}), 6, 10, 3, 1, false, ints("pads", 1, 1, 1, 1))
			return b.Node("Relu", []string{b.Node("Add", []string{s, y})})
		}},
		{name: "concat-of-concats", input: []int{2, 3, 3}, build: func(b *modelgen.Builder, x string) string {
			inner := b.Node("Concat", []string{b.Node("Relu", []string{x}), b.Node("Sigmoid", []string{x})}, num("axis", 1))
			return b.Node("Concat", []string{x, inner, b.Node("Tanh", []string{x})}, num("axis", -3))
		}},
		// Einsum: attention's scores (B read transposed, no transposes),
		// a Linear by a constant, the constant first (the product
		// transposed to the output's order), a sum and transpose of one
		// operand, an outer product, an ellipsis, two contracted labels,
		// the implicit output, a label summed before the product.
		{name: "einsum-attention", input: []int{2, 3, 4}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Einsum", []string{b.Node("Relu", []string{x}), b.Node("Sigmoid", []string{x})}, str("equation", "bhqd,bhkd->bhqk"))
		}},
		{name: "einsum-linear", input: []int{3, 4}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Einsum", []string{x, b.Normal("w", 0, 0.5, 5, 4)}, str("equation", "bij,kj->bik"))
		}},
		{name: "einsum-constant-first", input: []int{3, 4}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Einsum", []string{b.Normal("w", 0, 0.5, 5, 4), x}, str("equation", "kj,bij->bki"))
		}},
		{name: "einsum-sum-transpose", input: []int{2, 3, 4}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Einsum", []string{x}, str("equation", "nchw->nhc"))
		}},
		{name: "einsum-outer", input: []int{3}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Einsum", []string{x, b.Node("Sigmoid", []string{x})}, str("equation", "bi,bj->bij"))
		}},
		{name: "einsum-ellipsis", input: []int{2, 3}, build: func(b *modelgen.Builder, x string) string {
			t := b.Node("Transpose", []string{x}, ints("perm", 0, 2, 1))
			return b.Node("Einsum", []string{x, t}, str("equation", "...ij,...jk->...ik"))
		}},
		{name: "einsum-two-contracted", input: []int{2, 3, 4}, build: func(b *modelgen.Builder, x string) string {
			t := b.Node("Transpose", []string{b.Node("Tanh", []string{x})}, ints("perm", 0, 1, 3, 2))
			return b.Node("Einsum", []string{x, t}, str("equation", "bcij,bcjk->bik"))
		}},
		{name: "einsum-implicit", input: []int{2, 3, 4}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Einsum", []string{x, b.Normal("w", 0, 0.5, 4, 2)}, str("equation", "bcij,jk"))
		}},
		{name: "einsum-summed-first", input: []int{2, 3, 4}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Einsum", []string{x, b.Node("Sigmoid", []string{x})}, str("equation", "bcij,bdij->bci"))
		}},
		{name: "matmul-3d-bias", input: []int{5, 8}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Add", []string{b.Node("MatMul", []string{x, b.Normal("w", 0, 0.3, 8, 3)}), b.Normal("c", 0, 1, 3)})
		}},
		{name: "concat-axis1", input: []int{2, 3, 3}, build: func(b *modelgen.Builder, x string) string {
			r := b.Node("Relu", []string{x})
			c := conv(b, x, 2, 3, 1, 1, false)
			return b.Node("Concat", []string{x, c, r}, num("axis", 1))
		}},
		{name: "concat-last-axis", input: []int{2, 3}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Concat", []string{x, b.Node("Relu", []string{x})}, num("axis", -1))
		}},
		{name: "softmax", input: []int{10}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Softmax", []string{x}, num("axis", 1))
		}},
		{name: "softmax-inner-axis", input: []int{3, 4}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Softmax", []string{x}, num("axis", 1))
		}},
		{name: "softmax-opset11-flattens", input: []int{3, 4}, opset: 11, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Softmax", []string{x}, num("axis", 1))
		}},
		// LogSoftmax of logits thousands apart, whose softmax underflows to 0
		// (its log would be −∞); and over the flattened axes before opset 13.
		{name: "logsoftmax-wide-logits", input: []int{3, 7}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("LogSoftmax", []string{b.Node("Mul", []string{x, b.Const("k", []float32{1000})})}, num("axis", -1))
		}},
		{name: "logsoftmax-opset11-flattens", input: []int{3, 4}, opset: 11, build: func(b *modelgen.Builder, x string) string {
			return b.Node("LogSoftmax", []string{x}, num("axis", 1))
		}},
		{name: "flatten-reshape-views", input: []int{2, 3, 4}, build: func(b *modelgen.Builder, x string) string {
			f := b.Node("Flatten", []string{b.Node("Relu", []string{x})}, num("axis", 1))
			r := b.Node("Reshape", []string{f, b.Int64s("s", []int64{0, -1, 2}, 3)})
			i := b.Node("Identity", []string{b.Node("Dropout", []string{r})})
			return b.Node("Softmax", []string{i}, num("axis", -1))
		}},
		{name: "reshape-output-copy", input: []int{2, 3}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Reshape", []string{b.Node("Relu", []string{x}), b.Int64s("s", []int64{-1, 6}, 2)})
		}},
		{name: "identity-of-input", input: []int{4}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Identity", []string{x})
		}},
		{name: "constant-node", input: []int{3}, build: func(b *modelgen.Builder, x string) string {
			c := b.Node("Constant", nil, &onnx.AttributeProto{Name: "value_floats", Type: onnx.AttributeProto_FLOATS, Floats: []float32{1, -2, 3}})
			return b.Node("Mul", []string{x, c})
		}},
		// PyTorch's x.view(x.size(0), -1): the target is computed from
		// the batch size, which Plan resolves per batch.
		{name: "shape-view-batch-minus-one", input: []int{3, 4, 4}, build: func(b *modelgen.Builder, x string) string {
			r := b.Node("Relu", []string{x})
			n := b.Node("Gather", []string{b.Node("Shape", []string{r}), b.Int64s("zero", []int64{0})}, num("axis", 0))
			n1 := b.Node("Unsqueeze", []string{n, b.Int64s("ax0", []int64{0}, 1)})
			target := b.Node("Concat", []string{n1, b.Int64s("minus1", []int64{-1}, 1)}, num("axis", 0))
			return b.Node("MatMul", []string{b.Node("Reshape", []string{r, target}), b.Normal("w", 0, 0.3, 48, 5)})
		}},
		{name: "shape-arith-slice-div", input: []int{4, 3, 3}, build: func(b *modelgen.Builder, x string) string {
			s := b.Node("Shape", []string{x})
			c := b.Node("Gather", []string{s, b.Int64s("one", []int64{1}, 1)})
			half := b.Node("Div", []string{c, b.Int64s("two", []int64{2}, 1)})
			hw := b.Node("Slice", []string{s, b.Int64s("st", []int64{-2}, 1), b.Int64s("en", []int64{1 << 40}, 1)})
			n := b.Node("Slice", []string{s, b.Int64s("s0", []int64{0}, 1), b.Int64s("e1", []int64{1}, 1), b.Int64s("a0", []int64{0}, 1), b.Int64s("st1", []int64{1}, 1)})
			target := b.Node("Concat", []string{n, b.Int64s("g", []int64{2}, 1), half, hw}, num("axis", 0))
			y := b.Node("Softmax", []string{b.Node("Reshape", []string{x, target})}, num("axis", 1))
			// Back to [N, C·H·W] with the product written out.
			chw := b.Node("Mul", []string{b.Node("Mul", []string{c, b.Node("Gather", []string{hw, b.Int64s("i0", []int64{0}, 1)})}),
				b.Node("Gather", []string{hw, b.Int64s("i1", []int64{1}, 1)})})
			return b.Node("Reshape", []string{y, b.Node("Concat", []string{n, chw}, num("axis", 0))})
		}},
		{name: "shape-start-end-cast", input: []int{2, 3, 5}, opset: 15, build: func(b *modelgen.Builder, x string) string {
			item := b.Node("Shape", []string{x}, num("start", -3))
			asFloat := b.Node("Cast", []string{item}, num("to", int(onnx.TensorProto_FLOAT)))
			back := b.Node("Cast", []string{asFloat}, num("to", int(onnx.TensorProto_INT64)))
			target := b.Node("Concat", []string{b.Int64s("m1", []int64{-1}, 1), back}, num("axis", 0))
			return b.Node("Relu", []string{b.Node("Reshape", []string{x, target})})
		}},
		{name: "unsqueeze-squeeze-cast-views", input: []int{3, 4}, build: func(b *modelgen.Builder, x string) string {
			u := b.Node("Unsqueeze", []string{b.Node("Relu", []string{x}), b.Int64s("ax", []int64{1, -1}, 2)})
			sq := b.Node("Squeeze", []string{b.Node("Sigmoid", []string{u}), b.Int64s("sax", []int64{-1, 1}, 2)})
			return b.Node("Cast", []string{sq}, num("to", int(onnx.TensorProto_FLOAT)))
		}},
		{name: "transpose-nhwc-input-to-conv", input: []int{7, 6, 3}, build: func(b *modelgen.Builder, x string) string {
			return conv(b, b.Node("Transpose", []string{x}, ints("perm", 0, 3, 1, 2)), 3, 4, 3, 1, false)
		}},
		// ShuffleNet's channel shuffle: [N, g·c, H, W] as [N, g, c, H, W],
		// its two group axes swapped, and back.
		{name: "transpose-channel-shuffle", input: []int{6, 3, 4}, build: func(b *modelgen.Builder, x string) string {
			r := b.Node("Relu", []string{x})
			g := b.Node("Reshape", []string{r, b.Int64s("g", []int64{0, 2, 3, 3, 4}, 5)})
			t := b.Node("Transpose", []string{g}, ints("perm", 0, 2, 1, 3, 4))
			return b.Node("Sigmoid", []string{b.Node("Reshape", []string{t, b.Int64s("back", []int64{0, -1, 3, 4}, 4)})})
		}},
		// Depth to space: six axes of which no two stay adjacent.
		{name: "transpose-6d-depth-to-space", input: []int{8, 2, 3}, build: func(b *modelgen.Builder, x string) string {
			s := b.Node("Reshape", []string{x, b.Int64s("s", []int64{0, 2, 2, 2, 2, 3}, 6)})
			t := b.Node("Transpose", []string{s}, ints("perm", 0, 1, 4, 2, 5, 3))
			return b.Node("Reshape", []string{t, b.Int64s("d", []int64{0, 2, 4, 6}, 4)})
		}},
		{name: "transpose-default-perm-and-constant-weight", input: []int{4, 5}, build: func(b *modelgen.Builder, x string) string {
			w := b.Node("Transpose", []string{b.Normal("w", 0, 0.3, 3, 4)}) // stored [out, in]
			return b.Node("MatMul", []string{b.Node("Transpose", []string{x}, ints("perm", 0, 2, 1)), w})
		}},
		// Keras' ZeroPadding2D before a convolution and a pool: the first
		// Pad folds into the convolution, the second stands alone before
		// MaxPool, the third folds into an average pool counting pads.
		{name: "pad-conv-maxpool-avgpool", input: []int{3, 7, 6}, build: func(b *modelgen.Builder, x string) string {
			p1 := b.Node("Pad", []string{x, b.Int64s("p1", []int64{0, 0, 2, 1, 0, 0, 1, 0}, 8)})
			c := b.Node("Relu", []string{conv(b, p1, 3, 4, 3, 1, false, ints("strides", 2, 2))})
			p2 := b.Node("Pad", []string{c, b.Int64s("p2", []int64{0, 0, 1, 1, 0, 0, 0, 2}, 8), b.Const("zero", []float32{0})})
			m := b.Node("MaxPool", []string{p2}, ints("kernel_shape", 2, 2))
			p3 := b.Node("Pad", []string{m, b.Int64s("p3", []int64{1, 1, 0, 2}, 4), b.Const("zero2", []float32{0}), b.Int64s("ax", []int64{-2, -1}, 2)})
			return b.Node("AveragePool", []string{p3}, ints("kernel_shape", 3, 3), num("count_include_pad", 1), ints("pads", 1, 0, 0, 1))
		}, opset: 18},
		{name: "pad-opset2-attrs-output", input: []int{2, 3, 3}, opset: 2, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Pad", []string{b.Node("Relu", []string{x})}, ints("pads", 0, 0, 1, 0, 0, 0, 0, 3))
		}},
		// Caffe's AlexNet: LRN of size 5 after a ReLU'd convolution; an
		// even size and a window wider than the channels.
		{name: "lrn-caffe-even-and-wide", input: []int{3, 5, 5}, build: func(b *modelgen.Builder, x string) string {
			c := b.Node("Relu", []string{conv(b, x, 3, 7, 3, 1, false, ints("pads", 1, 1, 1, 1))})
			l := b.Node("LRN", []string{c}, num("size", 5), flt("alpha", 0.5), flt("beta", 0.75), flt("bias", 2))
			e := b.Node("LRN", []string{c}, num("size", 4), flt("alpha", 0.3))
			w := b.Node("LRN", []string{c}, num("size", 9), flt("beta", 1.5))
			return b.Node("Concat", []string{l, e, w}, num("axis", 1))
		}},
		// LayerNorm as PyTorch exports it before opset 17: ReduceMean over
		// the last axis, Sub and Div of computed tensors, Pow, Sqrt.
		{name: "layernorm-decomposed-opset14", input: []int{3, 6}, build: func(b *modelgen.Builder, x string) string {
			mean := b.Node("ReduceMean", []string{x}, ints("axes", -1))
			d := b.Node("Sub", []string{x, mean})
			v := b.Node("ReduceMean", []string{b.Node("Pow", []string{d, b.Const("two", []float32{2})})}, ints("axes", -1))
			s := b.Node("Sqrt", []string{b.Node("Add", []string{v, b.Const("eps", []float32{1e-5})})})
			n := b.Node("Div", []string{d, s})
			return b.Node("Add", []string{b.Node("Mul", []string{n, b.Uniform("w", 0.5, 1.5, 6)}), b.Normal("b", 0, 0.3, 6)})
		}},
		{name: "unary-math-and-tensor-division", input: []int{2, 5}, build: func(b *modelgen.Builder, x string) string {
			p := b.Node("Abs", []string{x})
			e := b.Node("Exp", []string{b.Node("Neg", []string{p})})
			l := b.Node("Log", []string{b.Node("Add", []string{p, b.Const("one", []float32{1})})})
			r := b.Node("Reciprocal", []string{b.Node("Add", []string{e, b.Const("half", []float32{0.5})})})
			q := b.Node("Pow", []string{b.Node("Add", []string{p, b.Const("one2", []float32{1})}), b.Const("k", []float32{1.7})})
			dv := b.Node("Div", []string{b.Const("three", []float32{3}), b.Node("Add", []string{q, e})})
			m := b.Node("ReduceMean", []string{b.Node("Sub", []string{l, r})}, ints("axes", 1, 2))
			m = b.Node("Reshape", []string{m, b.Int64s("g", []int64{0, -1}, 2)})
			rms := b.Node("Sqrt", []string{b.Node("ReduceMean", []string{b.Node("Pow", []string{x, b.Const("sq", []float32{2})})}, ints("axes", -1), num("keepdims", 0))})
			return b.Node("Concat", []string{b.Node("Reshape", []string{dv, b.Int64s("f", []int64{0, -1}, 2)}), m, rms}, num("axis", 1))
		}},
		// FCN's and U-Net's upsampling: a stride-2 transposed convolution
		// with bias and ReLU; groups, dilation, asymmetric pads and
		// output_padding; and output_shape fixing the pads.
		{name: "convtranspose-stride2-bias-relu", input: []int{3, 4, 5}, build: func(b *modelgen.Builder, x string) string {
			w := b.Normal("w", 0, 0.4, 3, 4, 2, 2)
			return b.Node("Relu", []string{b.Node("ConvTranspose", []string{x, w, b.Normal("b", 0, 0.3, 4)}, ints("strides", 2, 2))})
		}},
		{name: "convtranspose-groups-dilation-pads-output-padding", input: []int{4, 5, 4}, build: func(b *modelgen.Builder, x string) string {
			w := b.Normal("w", 0, 0.4, 4, 3, 3, 2)
			return b.Node("ConvTranspose", []string{x, w}, num("group", 2), ints("strides", 3, 2), ints("dilations", 2, 1),
				ints("pads", 1, 0, 2, 1), ints("output_padding", 1, 1))
		}},
		{name: "convtranspose-output-shape-and-same-upper", input: []int{2, 4, 4}, build: func(b *modelgen.Builder, x string) string {
			w := b.Normal("w", 0, 0.4, 2, 2, 3, 3)
			a := b.Node("ConvTranspose", []string{x, w}, ints("strides", 2, 2), ints("output_shape", 8, 9))
			u := b.Node("ConvTranspose", []string{x, b.Normal("w2", 0, 0.4, 2, 2, 4, 4)}, ints("strides", 2, 2), str("auto_pad", "SAME_UPPER"))
			return b.Node("Concat", []string{b.Node("Reshape", []string{a, b.Int64s("fa", []int64{0, -1}, 2)}), b.Node("Reshape", []string{u, b.Int64s("fu", []int64{0, -1}, 2)})}, num("axis", 1))
		}},
		// 1-D ops, as audio models (M5, wav2vec 2.0's feature encoder)
		// and sequence models export Conv1d, BatchNorm1d, MaxPool1d,
		// AvgPool1d and ConvTranspose1d: a block with the batch norm
		// folded, the ReLU fused and a residual; strides, dilations,
		// groups and asymmetric pads; SAME padding; the pools; the
		// transposed ones with output_padding and output_shape.
		{name: "conv1d-bn-relu-residual-maxpool", input: []int{4, 19}, build: func(b *modelgen.Builder, x string) string {
			c := b.Node("Conv", []string{x, b.Normal("w", 0, 0.3, 4, 4, 3)}, ints("pads", 1, 1))
			r := b.Node("Relu", []string{b.Node("Add", []string{bn(b, c, 4), x})})
			return b.Node("MaxPool", []string{r}, ints("kernel_shape", 3), ints("strides", 2), ints("pads", 1, 0), num("ceil_mode", 1))
		}},
		{name: "conv1d-stride-dilation-groups-asym-pads", input: []int{6, 23}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Conv", []string{x, b.Normal("w", 0, 0.3, 4, 3, 5), b.Normal("b", 0, 0.3, 4)}, num("group", 2),
				ints("strides", 3), ints("dilations", 2), ints("pads", 2, 0), ints("kernel_shape", 5))
		}},
		{name: "conv1d-same-avgpool-global", input: []int{3, 16}, build: func(b *modelgen.Builder, x string) string {
			c := b.Node("Conv", []string{x, b.Normal("w", 0, 0.3, 5, 3, 4)}, str("auto_pad", "SAME_UPPER"), ints("strides", 2))
			a := b.Node("AveragePool", []string{c}, ints("kernel_shape", 3), ints("pads", 1, 1), num("count_include_pad", 1))
			g := b.Node("GlobalAveragePool", []string{a})
			return b.Node("Concat", []string{b.Node("Reshape", []string{a, b.Int64s("fa", []int64{0, -1}, 2)}),
				b.Node("Reshape", []string{g, b.Int64s("fg", []int64{0, -1}, 2)})}, num("axis", 1))
		}},
		// A causal Conv1d (WaveNet, TCN): F.pad of the left by
		// dilation·(k−1), folded into the convolution; and a Pad of
		// [N, C, L] left alone, before a ReLU.
		{name: "conv1d-causal-pad-and-lone-pad", input: []int{3, 12}, opset: 13, build: func(b *modelgen.Builder, x string) string {
			p := b.Node("Pad", []string{x, b.Int64s("causal", []int64{0, 0, 4, 0, 0, 0}, 6)})
			c := b.Node("Conv", []string{p, b.Normal("w", 0, 0.3, 3, 3, 3)}, ints("dilations", 2))
			l := b.Node("Relu", []string{b.Node("Pad", []string{c, b.Int64s("lone", []int64{0, 0, 1, 0, 0, 2}, 6)})})
			return b.Node("Reshape", []string{l, b.Int64s("f", []int64{0, -1}, 2)})
		}},
		{name: "convtranspose1d-output-padding-and-shape", input: []int{4, 7}, build: func(b *modelgen.Builder, x string) string {
			p := b.Node("ConvTranspose", []string{x, b.Normal("w", 0, 0.4, 4, 3, 4), b.Normal("b", 0, 0.3, 6)}, num("group", 2),
				ints("strides", 2), ints("pads", 1, 0), ints("output_padding", 1))
			q := b.Node("ConvTranspose", []string{x, b.Normal("w2", 0, 0.4, 4, 2, 3)}, ints("strides", 3), ints("output_shape", 22))
			return b.Node("Concat", []string{b.Node("Reshape", []string{p, b.Int64s("fp", []int64{0, -1}, 2)}),
				b.Node("Reshape", []string{q, b.Int64s("fq", []int64{0, -1}, 2)})}, num("axis", 1))
		}},
		// Activations with parameters of their own, over both sides of
		// their bends (x·3), each on its own and one fused into a Conv;
		// Gelu as opset 20 writes it, exact and tanh; PRelu with a slope
		// per channel (three ops and the Add) and one slope (a LeakyRelu).
		{name: "activations-elu-selu-softplus-softsign-mish-thresholded-celu", input: []int{2, 9}, build: func(b *modelgen.Builder, x string) string {
			w := b.Node("Mul", []string{x, b.Const("three", []float32{3})})
			var outs []string
			for _, a := range []struct {
				op string
				at attrs
			}{
				{"Elu", attrs{flt("alpha", 0.7)}}, {"Selu", nil}, {"Selu", attrs{flt("alpha", 1.5), flt("gamma", 2)}},
				{"Softplus", nil}, {"Softsign", nil}, {"Mish", nil}, {"ThresholdedRelu", attrs{flt("alpha", 0.5)}},
				{"Celu", attrs{flt("alpha", 2)}},
			} {
				outs = append(outs, b.Node(a.op, []string{w}, a.at...))
			}
			return b.Node("Concat", outs, num("axis", 1))
		}},
		{name: "conv-elu-fused", input: []int{3, 6, 6}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Elu", []string{conv(b, x, 3, 4, 3, 1, false, ints("pads", 1, 1, 1, 1))})
		}},
		{name: "gelu-opset20-exact-and-tanh", input: []int{2, 7}, opset: 20, build: func(b *modelgen.Builder, x string) string {
			w := b.Node("Mul", []string{x, b.Const("two", []float32{2})})
			return b.Node("Concat", []string{b.Node("Gelu", []string{w}), b.Node("Gelu", []string{w}, str("approximate", "tanh"))}, num("axis", 1))
		}},
		{name: "prelu-per-channel-and-scalar", input: []int{3, 4, 4}, build: func(b *modelgen.Builder, x string) string {
			c := b.Node("PRelu", []string{conv(b, x, 3, 3, 3, 1, false, ints("pads", 1, 1, 1, 1)), b.Uniform("slope", -0.5, 1.5, 3, 1, 1)})
			return b.Node("Add", []string{c, b.Node("PRelu", []string{x, b.Const("s1", []float32{0.25}, 1)})})
		}},
		// InstanceNormalization (fast style transfer), and GroupNorm as
		// PyTorch exports it before opset 18: Reshape to [N, groups, -1],
		// InstanceNormalization with unit scale, Reshape back, the
		// affine Mul and Add per channel.
		{name: "instancenorm-and-groupnorm", input: []int{4, 5, 3}, build: func(b *modelgen.Builder, x string) string {
			in := b.Node("InstanceNormalization", []string{x, b.Uniform("s", 0.5, 1.5, 4), b.Normal("b", 0, 0.3, 4)}, flt("epsilon", 1e-3))
			g := b.Node("Reshape", []string{x, b.Int64s("g", []int64{0, 2, -1}, 3)})
			g = b.Node("InstanceNormalization", []string{g, b.Const("ones", []float32{1, 1}, 2), b.Const("zeros", []float32{0, 0}, 2)})
			g = b.Node("Reshape", []string{g, b.Int64s("back", []int64{0, 4, 5, 3}, 4)})
			g = b.Node("Add", []string{b.Node("Mul", []string{g, b.Uniform("gw", 0.5, 1.5, 4, 1, 1)}), b.Normal("gb", 0, 0.3, 4, 1, 1)})
			return b.Node("Concat", []string{in, g}, num("axis", 1))
		}},
		{name: "sum-of-four-broadcasting", input: []int{2, 3}, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Sum", []string{x, b.Normal("row", 0, 1, 3), b.Node("Relu", []string{x}), b.Normal("col", 0, 1, 2, 1)})
		}},
		{name: "sum-residual-caffe2", input: []int{3, 5, 5}, opset: 8, build: func(b *modelgen.Builder, x string) string {
			c := conv(b, x, 3, 3, 3, 1, false, ints("pads", 1, 1, 1, 1))
			return b.Node("Relu", []string{b.Node("Sum", []string{b.Node("Sum", []string{c}), x})})
		}},
		// torchvision's GoogLeNet and Inception v3 transform_input: each
		// channel x[:, i] rescaled, then concatenated again.
		{name: "gather-slice-channels-transform-input", input: []int{3, 5, 5}, build: func(b *modelgen.Builder, x string) string {
			var chans []string
			for i := range 3 {
				var c string
				if i < 2 {
					g := b.Node("Gather", []string{x, b.Int64s(b.Fresh("i"), []int64{int64(i)})}, num("axis", 1))
					c = b.Node("Unsqueeze", []string{g, b.Int64s(b.Fresh("ax"), []int64{1}, 1)})
				} else {
					c = b.Node("Slice", []string{x, b.Int64s("s", []int64{-1}, 1), b.Int64s("e", []int64{1 << 40}, 1), b.Int64s("a", []int64{1}, 1)})
				}
				c = b.Node("Add", []string{b.Node("Mul", []string{c, b.Const(b.Fresh("scale"), []float32{0.5 + float32(i)/10}, 1)}), b.Const(b.Fresh("shift"), []float32{float32(i) - 1}, 1)})
				chans = append(chans, c)
			}
			return conv(b, b.Node("Concat", chans, num("axis", 1)), 3, 4, 3, 1, false)
		}},
		// ShuffleNet v2's unit: the channels split in two, one half
		// convolved, concatenated with the other, then shuffled.
		{name: "split-concat-shuffle", input: []int{4, 3, 3}, build: func(b *modelgen.Builder, x string) string {
			b.NodeOuts("Split", []string{"half1", "half2"}, []string{x, b.Int64s("sz", []int64{2, 2}, 2)}, num("axis", 1))
			cat := b.Node("Concat", []string{"half1", b.Node("Relu", []string{conv(b, "half2", 2, 2, 1, 1, false)})}, num("axis", 1))
			g := b.Node("Reshape", []string{cat, b.Int64s("g", []int64{0, 2, 2, 3, 3}, 5)})
			return b.Node("Reshape", []string{b.Node("Transpose", []string{g}, ints("perm", 0, 2, 1, 3, 4)), b.Int64s("back", []int64{0, 4, 3, 3}, 4)})
		}},
		{name: "split-equal-opset18-uneven", input: []int{7, 2}, opset: 18, build: func(b *modelgen.Builder, x string) string {
			b.NodeOuts("Split", []string{"p1", "p2", "p3"}, []string{x}, num("axis", -2), num("num_outputs", 3))
			return b.Node("Concat", []string{"p3", "p1", b.Node("Sigmoid", []string{"p2"})}, num("axis", 1))
		}},
		// YOLOv5's Focus: every other row and column, four ways.
		{name: "slice-steps-space-to-depth", input: []int{2, 6, 6}, build: func(b *modelgen.Builder, x string) string {
			var parts []string
			for _, o := range [][2]int64{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
				parts = append(parts, b.Node("Slice", []string{x, b.Int64s(b.Fresh("s"), []int64{o[0], o[1]}, 2), b.Int64s(b.Fresh("e"), []int64{1 << 40, 1 << 40}, 2),
					b.Int64s(b.Fresh("a"), []int64{2, 3}, 2), b.Int64s(b.Fresh("st"), []int64{2, 2}, 2)}))
			}
			return b.Node("Concat", parts, num("axis", 1))
		}},
		// ConvNeXt's block: depthwise convolution, channels last, layer
		// norm, pointwise MLP with GELU, channels first, layer scale,
		// residual.
		{name: "convnext-block-layernorm-gelu", input: []int{4, 5, 5}, opset: 17, build: func(b *modelgen.Builder, x string) string {
			c := conv(b, x, 4, 4, 3, 4, false, ints("pads", 1, 1, 1, 1))
			t := b.Node("Transpose", []string{c}, ints("perm", 0, 2, 3, 1))
			n := b.Node("LayerNormalization", []string{t, b.Uniform("ln.w", 0.5, 1.5, 4), b.Normal("ln.b", 0, 0.3, 4)}, num("axis", -1), flt("epsilon", 1e-6))
			h := b.Gelu(b.Node("Add", []string{b.Node("MatMul", []string{n, b.Normal("w1", 0, 0.5, 4, 8)}), b.Normal("b1", 0, 0.3, 8)}))
			o := b.Node("Add", []string{b.Node("MatMul", []string{h, b.Normal("w2", 0, 0.5, 8, 4)}), b.Normal("b2", 0, 0.3, 4)})
			s := b.Node("Mul", []string{b.Normal("gamma", 0, 1, 4, 1, 1), b.Node("Transpose", []string{o}, ints("perm", 0, 3, 1, 2))})
			return b.Node("Add", []string{x, s})
		}},
		{name: "layernorm-two-axes-nobias-erf", input: []int{3, 4, 5}, opset: 17, build: func(b *modelgen.Builder, x string) string {
			n := b.Node("LayerNormalization", []string{b.Node("Mul", []string{x, b.Const("k", []float32{3})}), b.Uniform("ln.w", -1, 1, 4, 5)}, num("axis", 2))
			return b.Node("Erf", []string{n})
		}},
		// GELU whose input also feeds something else, and an unfused
		// copy of the pattern with 0.5 applied first.
		{name: "gelu-shared-input-and-reordered", input: []int{6}, build: func(b *modelgen.Builder, x string) string {
			g := b.Gelu(x)
			d := b.Node("Mul", []string{x, b.Const("rsqrt2", []float32{1 / 1.41421356})})
			e := b.Node("Add", []string{b.Const("one", []float32{1}), b.Node("Erf", []string{d})})
			h := b.Node("Mul", []string{b.Node("Mul", []string{b.Const("half", []float32{0.5}), x}), e})
			return b.Node("Concat", []string{g, h, x}, num("axis", 1))
		}},
		// Self-attention with two heads: Q·Kᵀ and P·V are MatMuls of
		// computed tensors.
		{name: "attention-batched-matmul", input: []int{5, 8}, build: func(b *modelgen.Builder, x string) string {
			heads := func(name string, perm ...int) string {
				p := b.Node("MatMul", []string{x, b.Normal(name, 0, 0.4, 8, 8)})
				r := b.Node("Reshape", []string{p, b.Int64s(name+".shape", []int64{0, 5, 2, 4}, 4)})
				return b.Node("Transpose", []string{r}, ints("perm", perm...))
			}
			q, k, v := heads("wq", 0, 2, 1, 3), heads("wk", 0, 2, 3, 1), heads("wv", 0, 2, 1, 3)
			s := b.Node("Mul", []string{b.Node("MatMul", []string{q, k}), b.Const("scale", []float32{0.5})})
			o := b.Node("MatMul", []string{b.Node("Softmax", []string{s}, num("axis", -1)), v})
			return b.Node("Reshape", []string{b.Node("Transpose", []string{o}, ints("perm", 0, 2, 1, 3)), b.Int64s("merge", []int64{0, 5, 8}, 3)})
		}},
		// A constant matrix times each item's (A broadcast), and an item's
		// matrix times itself transposed.
		// The same with the scale split over Q and Kᵀ, as PyTorch's
		// scaled_dot_product_attention exports it: folded into the
		// BatchMatMul's Alpha and TransB.
		{name: "attention-scale-and-transposed-key-folded", input: []int{2, 5, 4}, build: func(b *modelgen.Builder, x string) string {
			q := b.Node("Mul", []string{x, b.Const("sq", []float32{0.7})})
			k := b.Node("Mul", []string{b.Node("Transpose", []string{b.Node("Relu", []string{x})}, ints("perm", 0, 1, 3, 2)), b.Const("sk", []float32{0.6})})
			return b.Node("MatMul", []string{b.Node("Softmax", []string{b.Node("MatMul", []string{q, k})}, num("axis", -1)), x})
		}},
		{name: "matmul-broadcast-and-gram", input: []int{2, 3, 4}, build: func(b *modelgen.Builder, x string) string {
			l := b.Node("MatMul", []string{b.Normal("a", 0, 1, 5, 3), x})
			g := b.Node("MatMul", []string{x, b.Node("Transpose", []string{x}, ints("perm", 0, 1, 3, 2))})
			return b.Node("Concat", []string{b.Node("Reshape", []string{l, b.Int64s("fl", []int64{0, -1}, 2)}), b.Node("Reshape", []string{g, b.Int64s("fg", []int64{0, -1}, 2)})}, num("axis", 1))
		}},
		// Multi-head attention's packed projection, as PyTorch exports
		// it: the batch axis moved to axis 2, then the q, k and v parts
		// taken from axis 0.
		{name: "gather-axis0-batch-moved", input: []int{4, 6}, build: func(b *modelgen.Builder, x string) string {
			t := b.Node("Transpose", []string{x}, ints("perm", 1, 0, 2)) // [L, N, 6]
			p := b.Node("Reshape", []string{t, b.Int64s("unflatten", []int64{0, 0, 3, 2}, 4)})
			p = b.Node("Squeeze", []string{b.Node("Transpose", []string{b.Node("Unsqueeze", []string{p, b.Int64s("u", []int64{0}, 1)})}, ints("perm", 3, 1, 2, 0, 4)), b.Int64s("sq", []int64{-2}, 1)})
			var parts []string
			for i := range 3 {
				parts = append(parts, b.Node("Gather", []string{p, b.Int64s(b.Fresh("i"), []int64{int64(i)})}, num("axis", 0)))
			}
			return b.Node("Transpose", []string{b.Node("Concat", parts, num("axis", 2))}, ints("perm", 1, 0, 2))
		}},
		// ViT's class token, class_token.expand(n, -1, -1) as PyTorch
		// exports it, and the attention scale 1/√d worked out from the
		// shape as its scaled_dot_product_attention does.
		{name: "expand-class-token-and-attention-scale", input: []int{3, 4}, build: func(b *modelgen.Builder, x string) string {
			n := b.Node("Unsqueeze", []string{b.Node("Gather", []string{b.Node("Shape", []string{x}), b.Int64s("zero", []int64{0})}), b.Int64s("ax", []int64{0}, 1)})
			minus1 := b.Int64s("minus1", []int64{-1}, 1)
			size := b.Node("Reshape", []string{b.Node("Concat", []string{n, minus1, minus1}, num("axis", 0)), minus1})
			ones := b.Node("ConstantOfShape", []string{b.Node("Shape", []string{size})}, modelgen.Int64Tensor("value", 1))
			eq := b.Node("Equal", []string{size, b.Node("Mul", []string{ones, b.Int64s("neg", []int64{-1})})})
			tok := b.Node("Expand", []string{b.Normal("class_token", 0, 1, 1, 1, 4), b.Node("Where", []string{eq, ones, size})})
			cat := b.Node("Concat", []string{tok, x}, num("axis", 1))
			last := b.Node("Slice", []string{b.Node("Shape", []string{cat}), minus1, b.Int64s("max", []int64{1<<63 - 1}, 1)})
			d := b.Node("Cast", []string{last}, num("to", 1))
			scale := b.Node("Cast", []string{b.Node("Div", []string{b.Const("one", []float32{1}, 1), b.Node("Sqrt", []string{d})})}, num("to", 1))
			return b.Node("Mul", []string{cat, b.Node("Sqrt", []string{scale})})
		}},
		// F.interpolate(scale_factor=2, mode="nearest") as PyTorch exports
		// it (YOLO's upsampling), then a tie-breaking nearest mode on the
		// half-way points a scale of 2 makes with asymmetric coordinates.
		{name: "resize-nearest-floor-and-round-prefer-ceil", input: []int{3, 4, 5}, build: func(b *modelgen.Builder, x string) string {
			up := b.Node("Resize", []string{x, "", b.Const("scales", []float32{1, 1, 2, 2}, 4)},
				str("mode", "nearest"), str("coordinate_transformation_mode", "asymmetric"), str("nearest_mode", "floor"))
			tie := b.Node("Resize", []string{x, "", b.Const("scales2", []float32{1, 1, 2, 2}, 4)},
				str("mode", "nearest"), str("coordinate_transformation_mode", "asymmetric"), str("nearest_mode", "round_prefer_ceil"))
			return b.Node("Concat", []string{up, tie}, num("axis", 1))
		}},
		// F.interpolate(size=(7, 9), mode="bilinear"): sizes from the
		// input's shape, pytorch_half_pixel; and align_corners shrinking.
		{name: "resize-linear-sizes-and-align-corners", input: []int{2, 5, 6}, build: func(b *modelgen.Builder, x string) string {
			lead := b.Node("Slice", []string{b.Node("Shape", []string{x}), b.Int64s("s0", []int64{0}, 1), b.Int64s("s2", []int64{2}, 1)})
			sizes := b.Node("Concat", []string{lead, b.Int64s("hw", []int64{7, 9}, 2)}, num("axis", 0))
			up := b.Node("Resize", []string{x, "", "", sizes}, str("mode", "linear"), str("coordinate_transformation_mode", "pytorch_half_pixel"))
			down := b.Node("Resize", []string{up, "", b.Const("half", []float32{1, 1, 0.5, 0.5}, 4)}, str("mode", "linear"), str("coordinate_transformation_mode", "align_corners"))
			hp := b.Node("Resize", []string{down, "", b.Const("x3", []float32{1, 1, 3, 1.5}, 4)}, str("mode", "linear"))
			return b.Node("Reshape", []string{hp, b.Int64s("flat", []int64{0, -1}, 2)})
		}},
		{name: "upsample-opset9-and-resize-opset10", input: []int{2, 3, 3}, opset: 9, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Upsample", []string{x, b.Const("scales", []float32{1, 1, 3, 2}, 4)})
		}},
		{name: "resize-opset10-linear", input: []int{2, 3, 3}, opset: 10, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Resize", []string{x, b.Const("scales", []float32{1, 1, 2, 2.5}, 4)}, str("mode", "linear"))
		}},
		// 1-D: nn.Upsample(scale_factor=2) on [N, C, L] (Wave-U-Net), and
		// F.interpolate(size=…, mode="linear") with its sizes from the
		// shape, and Upsample of opset 9, each the resize of height 1.
		{name: "resize1d-nearest-linear-sizes", input: []int{3, 5}, build: func(b *modelgen.Builder, x string) string {
			up := b.Node("Resize", []string{x, "", b.Const("scales", []float32{1, 1, 2}, 3)}, str("mode", "nearest"))
			lead := b.Node("Slice", []string{b.Node("Shape", []string{x}), b.Int64s("s0", []int64{0}, 1), b.Int64s("s2", []int64{2}, 1)})
			sizes := b.Node("Concat", []string{lead, b.Int64s("l", []int64{8}, 1)}, num("axis", 0))
			li := b.Node("Resize", []string{x, "", "", sizes}, str("mode", "linear"), str("coordinate_transformation_mode", "pytorch_half_pixel"))
			return b.Node("Concat", []string{up, li}, num("axis", 2))
		}},
		{name: "upsample1d-opset9", input: []int{2, 4}, opset: 9, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Upsample", []string{x, b.Const("scales", []float32{1, 1, 3}, 3)}, str("mode", "linear"))
		}},
		{name: "unsqueeze-opset11-attr", input: []int{5}, opset: 11, build: func(b *modelgen.Builder, x string) string {
			return b.Node("Softmax", []string{b.Node("Unsqueeze", []string{x}, ints("axes", 2))}, num("axis", 1))
		}},
	}
}

func TestOperators(t *testing.T) {
	for _, g := range operatorGraphs() {
		t.Run(g.name, func(t *testing.T) {
			checkModel(t, g.model(), g.opts, 1, 3)
		})
	}
}

// TestSqueezeExciteBatches runs the squeeze-and-excitation case at batch
// sizes whose Gemms take the packed GEMM (more images than sgemm.c's dot
// products take), where TestOperators' take the dot products.
func TestSqueezeExciteBatches(t *testing.T) {
	for _, g := range operatorGraphs() {
		if g.name == "squeeze-excite-convs" {
			checkModel(t, g.model(), g.opts, 9, 16)
			return
		}
	}
	t.Fatal("no squeeze-excite-convs case")
}

// TestConvTransposeONNXExample checks ConvTranspose against ONNX's own
// example, test_convtranspose_output_shape: output_shape larger than the
// transposed convolution covers makes negative end pads, a last row and
// column of zeros.
func TestConvTransposeONNXExample(t *testing.T) {
	b := modelgen.NewBuilder("deconv", 1)
	ones := make([]float32, 18)
	for i := range ones {
		ones[i] = 1
	}
	y := b.Node("ConvTranspose", []string{b.Input("x", 1, 3, 3), b.Const("w", ones, 1, 2, 3, 3)}, ints("strides", 3, 2), ints("output_shape", 10, 8))
	b.OutputAny(y)
	x := reference.Tensor{Shape: []int{1, 1, 3, 3}, Data: []float32{0, 1, 2, 3, 4, 5, 6, 7, 8}}
	w := cpuexec.NewWorkers(1)
	defer w.Close()
	outs, _ := runEngine(t, b.Model(), engine.Options{}, w, []reference.Tensor{x})
	rows := [][]float32{{0, 0, 1, 1, 3, 2, 2, 0}, {3, 3, 7, 4, 9, 5, 5, 0}, {6, 6, 13, 7, 15, 8, 8, 0}}
	var want []float32
	for range 2 {
		for r := range 10 {
			if r == 9 {
				want = append(want, make([]float32, 8)...)
			} else {
				want = append(want, rows[r/3]...)
			}
		}
	}
	compare(t, "ConvTranspose", outs[0], want)
}

// TestDepthToSpaceONNXExample checks DepthToSpace against ONNX's own
// examples of both modes: x[c][i][j] = 9c + 3i + j, blocksize 2.
func TestDepthToSpaceONNXExample(t *testing.T) {
	x := reference.Tensor{Shape: []int{1, 8, 2, 3}}
	for c := range 8 {
		for i := range 2 {
			for j := range 3 {
				x.Data = append(x.Data, float32(9*c+3*i+j))
			}
		}
	}
	for mode, want := range map[string][]float32{
		"DCR": {0, 18, 1, 19, 2, 20, 36, 54, 37, 55, 38, 56, 3, 21, 4, 22, 5, 23, 39, 57, 40, 58, 41, 59,
			9, 27, 10, 28, 11, 29, 45, 63, 46, 64, 47, 65, 12, 30, 13, 31, 14, 32, 48, 66, 49, 67, 50, 68},
		"CRD": {0, 9, 1, 10, 2, 11, 18, 27, 19, 28, 20, 29, 3, 12, 4, 13, 5, 14, 21, 30, 22, 31, 23, 32,
			36, 45, 37, 46, 38, 47, 54, 63, 55, 64, 56, 65, 39, 48, 40, 49, 41, 50, 57, 66, 58, 67, 59, 68},
	} {
		b := modelgen.NewBuilder("d2s", 1)
		b.OutputAny(b.Node("DepthToSpace", []string{b.Input("x", 8, 2, 3)}, num("blocksize", 2), str("mode", mode)))
		w := cpuexec.NewWorkers(1)
		outs, p := runEngine(t, b.Model(), engine.Options{}, w, []reference.Tensor{x})
		w.Close()
		if !slices.Equal(p.Outputs[0].Shape, []int{1, 2, 4, 6}) {
			t.Errorf("%s: shape %v, want [1 2 4 6]", mode, p.Outputs[0].Shape)
		}
		compare(t, "DepthToSpace "+mode, outs[0], want)
	}
}

// TestResizeCubicONNXExample checks a cubic Resize against ONNX's own
// example, resize_upsample_scales_cubic: 1 to 16 in a 4×4 plane, scales
// 2, half_pixel, A −0.75; its first output row.
func TestResizeCubicONNXExample(t *testing.T) {
	x := reference.Tensor{Shape: []int{1, 1, 4, 4}}
	for i := range 16 {
		x.Data = append(x.Data, float32(i+1))
	}
	b := modelgen.NewBuilder("cubic", 1)
	b.OutputAny(b.Node("Resize", []string{b.Input("x", 1, 4, 4), "", b.Const("s", []float32{1, 1, 2, 2}, 4)}, str("mode", "cubic")))
	w := cpuexec.NewWorkers(1)
	defer w.Close()
	outs, _ := runEngine(t, b.Model(), engine.Options{}, w, []reference.Tensor{x})
	compare(t, "Resize cubic", outs[0][:8], []float32{0.47265625, 0.76953125, 1.24609375, 1.875, 2.28125, 2.91015625, 3.38671875, 3.68359375})
}

// TestWorkspaceReuse runs a chain long enough that the planner reuses
// workspace bytes, with a tensor that must survive the whole chain: a
// wrong plan overwrites it and the final Add goes wrong.
func TestWorkspaceReuse(t *testing.T) {
	g := graph{name: "reuse", input: []int{4, 8, 8}, build: func(b *modelgen.Builder, x string) string {
		keep := b.Node("Relu", []string{conv(b, x, 4, 4, 3, 1, false, ints("pads", 1, 1, 1, 1))})
		y := keep
		for range 8 {
			y = b.Node("Relu", []string{conv(b, y, 4, 4, 3, 1, false, ints("pads", 1, 1, 1, 1))})
			y = b.Node("Mul", []string{y, b.Const(b.Fresh("half"), []float32{0.5})})
		}
		return b.Node("Add", []string{b.Node("Concat", []string{y, keep}, num("axis", 1)), b.Node("Concat", []string{keep, y}, num("axis", 1))})
	}}
	m := g.model()
	checkModel(t, m, engine.Options{}, 2)
	em, err := engine.ImportProto(m, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := em.Plan(2)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, op := range p.Ops {
		if w := op.Writes(); w.Region == engine.Workspace {
			sum += w.Bytes()
		}
	}
	if p.WorkspaceBytes >= sum/2 {
		t.Errorf("workspace %d bytes for %d bytes of intermediates: little reuse", p.WorkspaceBytes, sum)
	}
}

// TestSmallViT runs torchvision's Vision Transformer as PyTorch exports
// it (modelgen.ViT), two layers on 8×8 images. vit_b_16 itself matched
// the reference at batch size 1 once, in 63 s.
func TestSmallViT(t *testing.T) {
	b := modelgen.NewBuilder("vit-small", 5)
	modelgen.ViT(b, modelgen.ViTConfig{Image: 8, Patch: 4, Layers: 2, Heads: 2, Hidden: 8, MLP: 16, Classes: 10})
	checkModel(t, b.Model(), engine.Options{}, 1, 3)
}

func TestZooModels(t *testing.T) {
	// shufflenet_v2_x1_0 is written as PyTorch exports it: shape
	// arithmetic, Splits and channel shuffles in a real network (3 s; the
	// larger export-style models, squeezenet1_1 and googlenet, take 5 and
	// 18 s against the reference and are left out). m5 is the 1-D
	// audio classifier, with its LogSoftmax. mobilenet_v3_small has hard
	// swish and squeeze-and-excitation gated by hard sigmoids.
	for _, name := range []string{"mlp", "tinycnn", "m5", "shufflenet_v2_x1_0", "mobilenet_v3_small"} {
		t.Run(name, func(t *testing.T) {
			if testing.Short() && (name == "shufflenet_v2_x1_0" || name == "mobilenet_v3_small") {
				t.Skip("slow against the reference")
			}
			m, err := modelgen.Generate(name)
			if err != nil {
				t.Fatal(err)
			}
			checkModel(t, m, engine.Options{}, 1, 2)
		})
	}
}
