//go:build linux && cgo

package cuda

import (
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/modelgen"
)

// activationModel writes to dir a model of the activations that cuDNN's
// fused convolution does not compute, each where it fuses into an op or
// stands alone, on a 3×12×12 input normalised by Sub and Div of constants
// (the engine's Add and Mul) and rearranged by strided copies (Gather,
// Slice, Split): a convolution with LeakyReLU, its channels
// shuffled as ShuffleNet does (Reshape, Transpose, Reshape), Swish
// (x · Sigmoid(x), EfficientNet's: a Sigmoid alone, then Mul), a depthwise
// convolution with Sigmoid, and a Gemm with Tanh of the Swish's mean
// (ReduceMean, keepdims 0); the last two concatenated into the output,
// the convolution's flattened as PyTorch exports x.view(x.size(0), -1)
// (a Reshape to a target computed from the batch size).
func activationModel(t *testing.T, dir string) string {
	t.Helper()
	b := modelgen.NewBuilder("activations", 13)
	conv := func(x string, cin, cout, groups int) string {
		return convNode(b, x, cin, cout, 3, 3, groups, modelgen.Ints("pads", 1, 1, 1, 1))
	}
	x := b.Input("input", 3, 12, 12)
	mean, std := b.Const("mean", []float32{0.485, 0.456, 0.406}, 1, 3, 1, 1), b.Const("std", []float32{0.229, 0.224, 0.225}, 1, 3, 1, 1)
	x = b.Node("Div", []string{b.Node("Sub", []string{x, mean}), std})
	// Channel 0 rescaled alone, as torchvision's GoogLeNet transforms its
	// input (Gather of x[:, 0], Slice of the rest), then the two halves of
	// the result swapped (Split).
	first := b.Node("Unsqueeze", []string{b.Node("Gather", []string{x, b.Int64s("channel0", []int64{0})}, modelgen.Int("axis", 1)), b.Int64s("axis1", []int64{1}, 1)})
	rest := b.Node("Slice", []string{x, b.Int64s("from1", []int64{1}, 1), b.Int64s("to3", []int64{3}, 1), b.Int64s("channels", []int64{1}, 1)})
	x = b.Node("Concat", []string{b.Node("Mul", []string{first, b.Const("twice", []float32{2}, 1)}), rest}, modelgen.Int("axis", 1))
	b.NodeOuts("Split", []string{"top", "bottom"}, []string{x, b.Int64s("halves", []int64{6, 6}, 2)}, modelgen.Int("axis", 2))
	x = b.Node("Concat", []string{"bottom", "top"}, modelgen.Int("axis", 2))
	c1 := b.Node("LeakyRelu", []string{conv(x, 3, 8, 1)}, modelgen.Float("alpha", 0.1))
	groups := b.Node("Reshape", []string{c1, b.Int64s("groups", []int64{0, 2, 4, 12, 12}, 5)})
	shuffled := b.Node("Transpose", []string{groups}, modelgen.Ints("perm", 0, 2, 1, 3, 4))
	c1 = b.Node("Reshape", []string{shuffled, b.Int64s("shuffled", []int64{0, -1, 12, 12}, 4)})
	c2 := conv(c1, 8, 8, 1)
	swish := b.Node("Mul", []string{c2, b.Node("Sigmoid", []string{c2})})
	c3 := b.Node("Sigmoid", []string{conv(swish, 8, 8, 8)})
	g := b.Node("ReduceMean", []string{swish}, modelgen.Ints("axes", 2, 3), modelgen.Int("keepdims", 0)) // [N, 8]
	fc := b.Node("Gemm", []string{g, b.Normal("fc.weight", 0, 1, 10, 8), b.Normal("fc.bias", 0, 0.5, 10)}, modelgen.Int("transB", 1))
	n := b.Node("Gather", []string{b.Node("Shape", []string{c3}), b.Int64s("zero", []int64{0})})
	target := b.Node("Concat", []string{b.Node("Unsqueeze", []string{n, b.Int64s("axis0", []int64{0}, 1)}), b.Int64s("rest", []int64{-1}, 1)}, modelgen.Int("axis", 0))
	view := b.Node("Reshape", []string{c3, target})
	b.NodeOut("Concat", "output", []string{view, b.Node("Tanh", []string{fc})}, modelgen.Int("axis", 1))
	b.Output("output", 8*12*12+10)
	return writeModel(t, dir, b)
}

// TestGPUActivations runs activationModel at batch sizes 1 to 4 against
// the CPU runtime.
func TestGPUActivations(t *testing.T) {
	path := activationModel(t, t.TempDir())
	ref := newReference(t, path)
	m := loadPath(t, newTestRuntime(t, false), path, 4)
	matchesCPU(t, m, ref, resident(t, m), 1e-4, upTo4)
}

// TestExportedModelsOnGPU runs the zoo's models written as PyTorch
// exports them (shape arithmetic in Reshape targets, Splits, channel
// shuffles, transform_input's Gathers, ConvNeXt's layer norms and GELUs,
// ViT's attention), EfficientNet-B0 (SiLU, squeeze-and-excitation) and
// Wide ResNet-50-2 (convolutions of 36 MiB of weights, split by pages) at
// batch sizes 1 and 2 against the CPU runtime, with the worker's 16 MiB
// pages and a cache and pools that hold the largest (ViT-B/16, 346 MB of
// weights), on a GPU only: on fakecuda, whose convolutions are plain
// loops, timing every algorithm of shufflenet_v2_x1_0's convolutions at
// batch size 1 took 91 s (it matched), and TestGPUActivations and
// TestGPUSplitConvs cover the same ops there. (So it is not a TestGPU
// test, which TestFakeCUDA runs; scripts/gpu-check.sh runs it.)
func TestExportedModelsOnGPU(t *testing.T) {
	const page, pages = engine.DefaultPageSize, 32
	rt := newRuntimeWith(t, func(cfg *Config) {
		cfg.PageSize, cfg.WeightsCacheSize = page, pages*page
		cfg.IOPoolSize, cfg.WorkspacePoolSize = 512<<20, 256<<20
	})
	if strings.Contains(rt.devices[0].name, "fakecuda") {
		t.Skip("fakecuda: minutes at 224×224")
	}
	for _, name := range []string{"shufflenet_v2_x1_0", "googlenet", "convnext_tiny", "vit_b_16", "efficientnet_b0", "wide_resnet50_2"} {
		t.Run(name, func(t *testing.T) {
			path := zoo(t, name)
			m := loadPaged(t, rt, path, 2, page)
			matchesCPU(t, m, newPagedReference(t, path, page, pages), resident(t, m), 1e-4, []batchCase{{1, 1}, {2, 2}})
		})
	}
}

// TestGPUAudioModel runs m5, the 1-D audio classifier (Conv1d blocks,
// pools, LogSoftmax), at batch sizes 1 to 4 against the CPU runtime:
// on a GPU its convolutions are cuDNN's on tensors of height 1.
func TestGPUAudioModel(t *testing.T) {
	matchesCPUUpTo4(t, zoo(t, "m5"))
}

// convNeXtModel writes to dir a model of ConvNeXt's operators (opset 17)
// on a 4×6×6 input: a block (7×7 depthwise convolution, channels last,
// LayerNormalization, Linear, GELU as PyTorch exports it, which fuses
// into the Linear's epilogue, Linear, channels first, layer scale,
// residual), then a standalone Erf and a LayerNormalization over two
// axes without bias.
func convNeXtModel(t *testing.T, dir string) string {
	t.Helper()
	b := modelgen.NewBuilder("convnext_ops", 17)
	b.SetOpset(17)
	x := b.Input("input", 4, 6, 6)
	d := convNode(b, x, 4, 4, 7, 7, 4, modelgen.Ints("pads", 3, 3, 3, 3))
	c := b.Node("Transpose", []string{d}, modelgen.Ints("perm", 0, 2, 3, 1))
	n := b.Node("LayerNormalization", []string{c, b.Uniform("ln.weight", 0.5, 1.5, 4), b.Normal("ln.bias", 0, 0.3, 4)},
		modelgen.Int("axis", -1), modelgen.Float("epsilon", 1e-6))
	h := b.Gelu(b.Node("Add", []string{b.Node("MatMul", []string{n, b.Normal("fc1.weight", 0, 0.5, 4, 16)}), b.Normal("fc1.bias", 0, 0.3, 16)}))
	o := b.Node("Add", []string{b.Node("MatMul", []string{h, b.Normal("fc2.weight", 0, 0.5, 16, 4)}), b.Normal("fc2.bias", 0, 0.3, 4)})
	s := b.Node("Mul", []string{b.Normal("gamma", 0, 1, 4, 1, 1), b.Node("Transpose", []string{o}, modelgen.Ints("perm", 0, 3, 1, 2))})
	y := b.Node("Erf", []string{b.Node("Add", []string{x, s})})
	b.NodeOut("LayerNormalization", "output", []string{y, b.Uniform("ln2.weight", -1, 1, 6, 6)}, modelgen.Int("axis", 2))
	b.Output("output", 4, 6, 6)
	return writeModel(t, dir, b)
}

// TestGPUConvNeXtOps runs convNeXtModel at batch sizes 1 to 4 against the
// CPU runtime. (engine's TestFusion checks that the GELU fuses.)
func TestGPUConvNeXtOps(t *testing.T) {
	path := convNeXtModel(t, t.TempDir())
	m := loadPath(t, newTestRuntime(t, false), path, 4)
	matchesCPU(t, m, newReference(t, path), resident(t, m), 1e-4, upTo4)
}

// attentionModel writes to dir two-head self-attention over 5 tokens of
// 8 features: Q·Kᵀ and P·V are MatMuls of computed tensors (one
// cublasSgemmStridedBatched each), and a constant matrix times each
// item's tokens repeats A (stride 0).
func attentionModel(t *testing.T, dir string) string {
	t.Helper()
	b := modelgen.NewBuilder("attention", 19)
	x := b.Input("input", 5, 8)
	heads := func(name string, perm ...int) string {
		p := b.Node("MatMul", []string{x, b.Normal(name, 0, 0.4, 8, 8)})
		r := b.Node("Reshape", []string{p, b.Int64s(name+".shape", []int64{0, 5, 2, 4}, 4)})
		return b.Node("Transpose", []string{r}, modelgen.Ints("perm", perm...))
	}
	q, k, v := heads("wq", 0, 2, 1, 3), heads("wk", 0, 2, 3, 1), heads("wv", 0, 2, 1, 3)
	s := b.Node("Mul", []string{b.Node("MatMul", []string{q, k}), b.Const("scale", []float32{0.5})})
	o := b.Node("MatMul", []string{b.Node("Softmax", []string{s}, modelgen.Int("axis", -1)), v})
	o = b.Node("Reshape", []string{b.Node("Transpose", []string{o}, modelgen.Ints("perm", 0, 2, 1, 3)), b.Int64s("merge", []int64{0, 5, 8}, 3)})
	mixed := b.Node("MatMul", []string{b.Normal("mix", 0, 0.5, 3, 5), o})
	b.NodeOut("Reshape", "output", []string{mixed, b.Int64s("flat", []int64{0, -1}, 2)})
	b.Output("output", 3*8)
	return writeModel(t, dir, b)
}

// TestGPUAttention runs attentionModel at batch sizes 1 to 4 against the
// CPU runtime.
func TestGPUAttention(t *testing.T) {
	path := attentionModel(t, t.TempDir())
	m := loadPath(t, newTestRuntime(t, false), path, 4)
	matchesCPU(t, m, newReference(t, path), resident(t, m), 1e-4, upTo4)
}

// TestGPUViTOps runs a two-layer Vision Transformer on 8×8 images, as
// PyTorch exports torchvision's (modelgen.ViT: the class token expanded
// to the batch size, multi-head attention's reshapes around the batch
// axis, batched MatMuls, LayerNorms, GELUs), at batch sizes 1 to 4
// against the CPU runtime.
func TestGPUViTOps(t *testing.T) {
	b := modelgen.NewBuilder("vit_small", 23)
	modelgen.ViT(b, modelgen.ViTConfig{Image: 8, Patch: 4, Layers: 2, Heads: 2, Hidden: 8, MLP: 16, Classes: 10})
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUResizeLRN runs PyTorch's F.interpolate as it exports: nearest
// by a scale of 2 (YOLO's upsampling), bilinear to a size given (sizes
// from the input's shape and the size), and bilinear with align_corners
// shrinking, around a convolution with Caffe's LRN (an even size), at
// batch sizes 1 to 4 against the CPU runtime.
func TestGPUResizeLRN(t *testing.T) {
	b := modelgen.NewBuilder("resize", 29)
	x := b.Input("input", 3, 5, 6)
	up := b.Node("Resize", []string{x, "", b.Const("scales", []float32{1, 1, 2, 2}, 4)}, modelgen.String("mode", "nearest"),
		modelgen.String("coordinate_transformation_mode", "asymmetric"), modelgen.String("nearest_mode", "floor"))
	c := convNode(b, up, 3, 4, 3, 3, 1, modelgen.Ints("pads", 1, 1, 1, 1))
	c = b.Node("LRN", []string{b.Node("Relu", []string{c})}, modelgen.Int("size", 4), modelgen.Float("alpha", 0.5), modelgen.Float("bias", 2))
	lead := b.Node("Slice", []string{b.Node("Shape", []string{c}), b.Int64s("from", []int64{0}, 1), b.Int64s("to", []int64{2}, 1)})
	sizes := b.Node("Concat", []string{lead, b.Int64s("hw", []int64{13, 17}, 2)}, modelgen.Int("axis", 0))
	bi := b.Node("Resize", []string{c, "", "", sizes}, modelgen.String("mode", "linear"), modelgen.String("coordinate_transformation_mode", "pytorch_half_pixel"))
	b.NodeOut("Resize", "output", []string{bi, "", b.Const("half", []float32{1, 1, 0.5, 0.5}, 4)}, modelgen.String("mode", "linear"),
		modelgen.String("coordinate_transformation_mode", "align_corners"))
	b.Output("output", 4, 6, 8)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUElementwiseMath runs a LayerNormalization as PyTorch exports it
// before opset 17 (which import fuses into a LayerNorm), a root mean square
// (ReduceMean of the last axis, Pow 2, Sqrt), the other unary operators
// (Abs, Neg, Exp, Log, Reciprocal, Pow by 1.7) and Sub and Div of
// computed tensors at batch sizes 1 to 4 against the CPU runtime.
func TestGPUElementwiseMath(t *testing.T) {
	b := modelgen.NewBuilder("math", 31)
	x := b.Input("input", 4, 6)
	mean := b.Node("ReduceMean", []string{x}, modelgen.Ints("axes", -1))
	d := b.Node("Sub", []string{x, mean})
	v := b.Node("ReduceMean", []string{b.Node("Pow", []string{d, b.Const("two", []float32{2})})}, modelgen.Ints("axes", -1))
	n := b.Node("Div", []string{d, b.Node("Sqrt", []string{b.Node("Add", []string{v, b.Const("eps", []float32{1e-5})})})})
	ln := b.Node("Add", []string{b.Node("Mul", []string{n, b.Uniform("w", 0.5, 1.5, 6)}), b.Normal("b", 0, 0.3, 6)})
	p := b.Node("Abs", []string{ln})
	e := b.Node("Exp", []string{b.Node("Neg", []string{p})})
	l := b.Node("Log", []string{b.Node("Add", []string{p, b.Const("one", []float32{1})})})
	r := b.Node("Reciprocal", []string{b.Node("Add", []string{e, b.Const("half", []float32{0.5})})})
	q := b.Node("Pow", []string{b.Node("Add", []string{p, b.Const("one2", []float32{1})}), b.Const("k", []float32{1.7})})
	rms := b.Node("Sqrt", []string{b.Node("ReduceMean", []string{b.Node("Pow", []string{x, b.Const("sq", []float32{2})})}, modelgen.Ints("axes", -1))})
	b.NodeOut("Concat", "output", []string{ln, b.Node("Sub", []string{l, r}), b.Node("Div", []string{q, b.Node("Add", []string{e, r})}), rms}, modelgen.Int("axis", 2))
	b.Output("output", 4, 19)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUParameterisedActivations runs the activations with parameters
// of their own (Elu, Selu, Softplus, Softsign, Mish, ThresholdedRelu,
// Celu, Gelu exact and tanh) as the activation kernel's codes 17 to 23,
// an Elu fused into a convolution's epilogue, and PRelu with a slope per
// channel and one slope, at batch sizes 1 to 4 against the CPU runtime.
func TestGPUParameterisedActivations(t *testing.T) {
	b := modelgen.NewBuilder("acts", 43)
	x := b.Input("input", 3, 5, 5)
	w := b.Node("Mul", []string{x, b.Const("three", []float32{3})})
	outs := []string{
		b.Node("Elu", []string{w}, modelgen.Float("alpha", 0.7)),
		b.Node("Selu", []string{w}, modelgen.Float("alpha", 1.5), modelgen.Float("gamma", 2)),
		b.Node("Softplus", []string{w}), b.Node("Softsign", []string{w}), b.Node("Mish", []string{w}),
		b.Node("ThresholdedRelu", []string{w}, modelgen.Float("alpha", 0.5)), b.Node("Celu", []string{w}, modelgen.Float("alpha", 2)),
		b.Node("Gelu", []string{w}), b.Node("Gelu", []string{w}, modelgen.String("approximate", "tanh")),
		b.Node("Elu", []string{convNode(b, x, 3, 3, 3, 3, 1, modelgen.Ints("pads", 1, 1, 1, 1))}),
		b.Node("PRelu", []string{convNode(b, x, 3, 3, 3, 3, 1, modelgen.Ints("pads", 1, 1, 1, 1)), b.Uniform("slope", -0.5, 1.5, 3, 1, 1)}),
		b.Node("PRelu", []string{w, b.Const("s1", []float32{0.25}, 1)}),
	}
	for i, o := range outs {
		outs[i] = flatNode(b, o)
	}
	b.NodeOut("Concat", "output", outs, modelgen.Int("axis", 1))
	b.Output("output", len(outs)*3*5*5)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUInstanceNorm runs InstanceNormalization (the layer_norm kernel
// without scale or bias, then channel_act) and GroupNorm as PyTorch
// exports it before opset 18, at batch sizes 1 to 4 against the CPU
// runtime.
func TestGPUInstanceNorm(t *testing.T) {
	b := modelgen.NewBuilder("instancenorm", 47)
	x := b.Input("input", 4, 5, 6)
	in := b.Node("InstanceNormalization", []string{x, b.Uniform("s", 0.5, 1.5, 4), b.Normal("b", 0, 0.3, 4)}, modelgen.Float("epsilon", 1e-3))
	g := b.Node("Reshape", []string{x, b.Int64s("g", []int64{0, 2, -1}, 3)})
	g = b.Node("InstanceNormalization", []string{g, b.Const("ones", []float32{1, 1}, 2), b.Const("zeros", []float32{0, 0}, 2)})
	g = b.Node("Reshape", []string{g, b.Int64s("back", []int64{0, 4, 5, 6}, 4)})
	g = b.Node("Add", []string{b.Node("Mul", []string{g, b.Uniform("gw", 0.5, 1.5, 4, 1, 1)}), b.Normal("gb", 0, 0.3, 4, 1, 1)})
	b.NodeOut("Concat", "output", []string{in, g}, modelgen.Int("axis", 1))
	b.Output("output", 8, 5, 6)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUGlobalMaxPool runs GlobalMaxPool of 4-D and 3-D inputs and
// ReduceMax of the last axes (global_avg_pool in its max mode) beside a
// GlobalAveragePool and a ReduceSum, and reductions over other axes (a
// transpose before the pool): CBAM's channel max and mean, kept, and a
// sum over the height, at batch sizes 1 to 4 against the CPU runtime.
func TestGPUGlobalMaxPool(t *testing.T) {
	b := modelgen.NewBuilder("maxpool", 53)
	x := b.Input("input", 6, 7, 5)
	g := b.Node("GlobalMaxPool", []string{x})
	l := b.Node("GlobalMaxPool", []string{b.Node("Reshape", []string{x, b.Int64s("l", []int64{0, 6, -1}, 3)})})
	r := b.Node("ReduceMax", []string{x}, modelgen.Ints("axes", -1), modelgen.Int("keepdims", 0))
	a := b.Node("GlobalAveragePool", []string{x})
	s := b.Node("ReduceSum", []string{x, b.Int64s("axes", []int64{2, 3}, 2)})
	cmax := b.Node("ReduceMax", []string{x}, modelgen.Ints("axes", 1))
	cmean := b.Node("ReduceMean", []string{x}, modelgen.Ints("axes", 1))
	hsum := b.Node("ReduceSum", []string{x, b.Int64s("h", []int64{2}, 1)}, modelgen.Int("keepdims", 0))
	outs := []string{flatNode(b, g), flatNode(b, l), flatNode(b, r), flatNode(b, a), flatNode(b, s), flatNode(b, cmax), flatNode(b, cmean), flatNode(b, hsum)}
	b.NodeOut("Concat", "output", outs, modelgen.Int("axis", 1))
	b.Output("output", 6+6+6*7+6+6+7*5+7*5+6*5)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUConvTranspose runs transposed convolutions (FCN's and U-Net's
// upsampling): stride 2 with bias and a fused ReLU; groups, dilation,
// asymmetric pads and output_padding; and an output_shape larger than
// the convolution covers (negative pads), at batch sizes 1 to 4 against
// the CPU runtime.
func TestGPUConvTranspose(t *testing.T) {
	b := modelgen.NewBuilder("deconv", 37)
	x := b.Input("input", 4, 5, 4)
	up := b.Node("Relu", []string{b.Node("ConvTranspose", []string{x, b.Normal("w1", 0, 0.4, 4, 3, 2, 2), b.Normal("b1", 0, 0.3, 3)},
		modelgen.Ints("strides", 2, 2))})
	grouped := b.Node("ConvTranspose", []string{x, b.Normal("w2", 0, 0.4, 4, 3, 3, 2)}, modelgen.Int("group", 2),
		modelgen.Ints("strides", 3, 2), modelgen.Ints("dilations", 2, 1), modelgen.Ints("pads", 1, 0, 2, 1), modelgen.Ints("output_padding", 1, 1))
	shaped := b.Node("ConvTranspose", []string{x, b.Normal("w3", 0, 0.4, 4, 2, 3, 3)}, modelgen.Ints("strides", 3, 2), modelgen.Ints("output_shape", 16, 10))
	flat := func(v string) string { return flatNode(b, v) }
	b.NodeOut("Concat", "output", []string{flat(up), flat(grouped), flat(shaped)}, modelgen.Int("axis", 1))
	b.Output("output", 3*10*8+6*15*8+2*16*10)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUOneDimensionalOps runs the 1-D ops of audio and sequence models,
// which the engine plans as 2-D ones of height 1: a Conv1d block (batch
// norm folded, residual and ReLU fused) with a strided, dilated grouped
// convolution after it, MaxPool1d and AvgPool1d, a Pad and a linear
// Resize of [N, C, L] (pad2d and resize2d of height 1) and a
// ConvTranspose1d,
// then a LogSoftmax of their outputs as M5 ends (cuDNN's log mode, over
// logits far enough apart that a softmax's smallest would underflow in
// float32), at batch sizes 1 to 4 against the CPU runtime.
func TestGPUOneDimensionalOps(t *testing.T) {
	b := modelgen.NewBuilder("conv1d", 41)
	x := b.Input("input", 4, 40)
	c := b.Node("Conv", []string{x, b.Normal("w1", 0, 0.3, 4, 4, 3), b.Normal("b1", 0, 0.3, 4)}, modelgen.Ints("pads", 1, 1))
	r := b.Node("Relu", []string{b.Node("Add", []string{c, x})})
	d := b.Node("Conv", []string{r, b.Normal("w2", 0, 0.3, 6, 2, 5)}, modelgen.Int("group", 2),
		modelgen.Ints("strides", 2), modelgen.Ints("dilations", 2), modelgen.Ints("pads", 3, 1)) // [6, 18]
	mp := b.Node("MaxPool", []string{d}, modelgen.Ints("kernel_shape", 3), modelgen.Ints("strides", 2), modelgen.Ints("pads", 1, 1))              // [6, 9]
	ap := b.Node("AveragePool", []string{d}, modelgen.Ints("kernel_shape", 4), modelgen.Ints("strides", 4))                                       // [6, 4]
	pd := b.Node("Pad", []string{ap, b.Int64s("pads", []int64{0, 0, 1, 0, 0, 2}, 6)})                                                             // [6, 7]
	rs := b.Node("Resize", []string{pd, "", b.Const("scales", []float32{1, 1, 2}, 3)}, modelgen.String("mode", "linear"))                         // [6, 14]
	up := b.Node("ConvTranspose", []string{rs, b.Normal("w3", 0, 0.4, 6, 2, 3)}, modelgen.Ints("strides", 2), modelgen.Ints("output_padding", 1)) // [2, 30]
	flat := func(v string) string { return flatNode(b, v) }
	cat := b.Node("Concat", []string{flat(mp), flat(up)}, modelgen.Int("axis", 1))
	b.NodeOut("LogSoftmax", "output", []string{b.Node("Mul", []string{cat, b.Const("k", []float32{30})})}, modelgen.Int("axis", 1))
	b.Output("output", 6*9+2*30)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUDepthToSpace runs a super-resolution tail (a convolution, then
// DepthToSpace in CRD order, as PyTorch's pixel_shuffle exports) and
// DCR's, and SpaceToDepth: strided copies of five and six dimensions once
// merged, the binary kernel's largest, at batch sizes 1 to 4 against the
// CPU runtime.
func TestGPUDepthToSpace(t *testing.T) {
	b := modelgen.NewBuilder("depthtospace", 59)
	x := b.Input("input", 3, 4, 6)
	y := b.Node("Conv", []string{x, b.Normal("w", 0, 0.3, 12, 3, 3, 3)}, modelgen.Ints("pads", 1, 1, 1, 1))
	crd := b.Node("DepthToSpace", []string{y}, modelgen.Int("blocksize", 2), modelgen.String("mode", "CRD"))
	dcr := b.Node("DepthToSpace", []string{y}, modelgen.Int("blocksize", 2))
	s2d := b.Node("SpaceToDepth", []string{x}, modelgen.Int("blocksize", 2))
	b.NodeOut("Concat", "output", []string{flatNode(b, crd), flatNode(b, dcr), flatNode(b, s2d)}, modelgen.Int("axis", 1))
	b.Output("output", 3*8*12+3*8*12+12*2*3)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUNormalize runs the reductions that are a global pool between two
// elementwise ops: F.normalize's ReduceL2 over the channels (then Clip,
// Expand and Div), ReduceMin over the height and ReduceL1 over the width,
// and ReduceLogSumExp of 40·x over the channels (less the maximum, then
// exponentials, a sum, a logarithm and the maximum back), at batch sizes
// 1 to 4 against the CPU runtime.
func TestGPUNormalize(t *testing.T) {
	b := modelgen.NewBuilder("normalize", 61)
	x := b.Input("input", 5, 4, 3)
	norm := b.Node("Clip", []string{b.Node("ReduceL2", []string{x}, modelgen.Ints("axes", 1)), b.Const("eps", []float32{1e-12})})
	unit := b.Node("Div", []string{x, b.Node("Expand", []string{norm, b.Node("Shape", []string{x})})})
	mn := b.Node("ReduceMin", []string{x}, modelgen.Ints("axes", 2), modelgen.Int("keepdims", 0))
	l1 := b.Node("ReduceL1", []string{x}, modelgen.Ints("axes", -1))
	lse := b.Node("ReduceLogSumExp", []string{b.Node("Mul", []string{x, b.Const("forty", []float32{40})})},
		modelgen.Ints("axes", 1), modelgen.Int("keepdims", 0))
	b.NodeOut("Concat", "output", []string{flatNode(b, unit), flatNode(b, mn), flatNode(b, l1), flatNode(b, lse)},
		modelgen.Int("axis", 1))
	b.Output("output", 5*4*3+5*3+5*4+4*3)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUGatherIndices runs Gathers of several constant indices (RGB to
// BGR before a convolution; rows with a gap and a repeat), the slices of
// their runs concatenated, at batch sizes 1 to 4 against the CPU runtime.
func TestGPUGatherIndices(t *testing.T) {
	b := modelgen.NewBuilder("gather", 67)
	x := b.Input("input", 3, 6, 5)
	bgr := b.Node("Gather", []string{x, b.Int64s("bgr", []int64{2, 1, 0}, 3)}, modelgen.Int("axis", 1))
	y := b.Node("Conv", []string{bgr, b.Normal("w", 0, 0.3, 4, 3, 3, 3)})
	rows := b.Node("Gather", []string{y, b.Int64s("rows", []int64{0, 2, 3, -1}, 4)}, modelgen.Int("axis", 2))
	b.NodeOut("Reshape", "output", []string{rows, b.Int64s("flat", []int64{0, -1}, 2)})
	b.Output("output", 4*4*3)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUTile runs Tile (x.repeat) of an image's H and W and of its
// channels, each an Unsqueeze, an Expand and a Reshape, at batch sizes 1
// to 4 against the CPU runtime.
func TestGPUTile(t *testing.T) {
	b := modelgen.NewBuilder("tile", 71)
	x := b.Input("input", 2, 3, 4)
	hw := b.Node("Tile", []string{x, b.Int64s("hw", []int64{1, 1, 2, 3}, 4)})
	c := b.Node("Tile", []string{x, b.Int64s("c", []int64{1, 3, 1, 1}, 4)})
	b.NodeOut("Concat", "output", []string{flatNode(b, hw), flatNode(b, c)}, modelgen.Int("axis", 1))
	b.Output("output", 2*6*12+6*3*4)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUMaxMin runs elementwise Max and Min: Relu6 written as Max(x, 0)
// and Min(·, 6), one Clip fused into the convolution before it, and
// Binary max and min of computed tensors broadcasting (the binary
// kernel's op codes 4 and 5), at batch sizes 1 to 4 against the CPU
// runtime.
func TestGPUMaxMin(t *testing.T) {
	b := modelgen.NewBuilder("maxmin", 73)
	x := b.Input("input", 3, 5, 4)
	c := b.Node("Conv", []string{x, b.Normal("w", 0, 2, 3, 3, 3, 3)}, modelgen.Ints("pads", 1, 1, 1, 1))
	relu6 := b.Node("Min", []string{b.Node("Max", []string{c, b.Const("zero", []float32{0})}), b.Const("six", []float32{6})})
	g := b.Node("GlobalAveragePool", []string{x})
	mx := b.Node("Max", []string{x, g, b.Node("Neg", []string{x})})
	mn := b.Node("Min", []string{relu6, g})
	b.NodeOut("Concat", "output", []string{flatNode(b, relu6), flatNode(b, mx), flatNode(b, mn)}, modelgen.Int("axis", 1))
	b.Output("output", 3*3*5*4)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUNegativeSteps runs Slices with negative steps: RGB to BGR of an
// NHWC input (x[..., ::-1]) before a transpose and a convolution, and a
// slice stepping back by two, each a Gather of its elements, at batch
// sizes 1 to 4 against the CPU runtime.
func TestGPUNegativeSteps(t *testing.T) {
	b := modelgen.NewBuilder("negsteps", 79)
	x := b.Input("input", 6, 5, 3)
	bgr := b.Node("Slice", []string{x, b.Int64s("s", []int64{-1}, 1), b.Int64s("e", []int64{-1 << 62}, 1), b.Int64s("a", []int64{-1}, 1), b.Int64s("st", []int64{-1}, 1)})
	nchw := b.Node("Transpose", []string{bgr}, modelgen.Ints("perm", 0, 3, 1, 2))
	y := b.Node("Conv", []string{nchw, b.Normal("w", 0, 0.3, 2, 3, 3, 3)})
	back := b.Node("Slice", []string{y, b.Int64s("s2", []int64{3}, 1), b.Int64s("e2", []int64{-10}, 1), b.Int64s("a2", []int64{2}, 1), b.Int64s("st2", []int64{-2}, 1)})
	b.NodeOut("Reshape", "output", []string{back, b.Int64s("flat", []int64{0, -1}, 2)})
	b.Output("output", 2*2*3)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUCubicResize runs resizes the resize table cannot hold, each a
// MatMul by an axis's weights (H between two transposes): PyTorch's
// bicubic upsampling, an antialiased linear downscale and a 1-D cubic
// one, at batch sizes 1 to 4 against the CPU runtime.
func TestGPUCubicResize(t *testing.T) {
	b := modelgen.NewBuilder("cubic", 83)
	b.SetOpset(18) // antialias
	x := b.Input("input", 3, 6, 5)
	up := b.Node("Resize", []string{x, "", b.Const("s", []float32{1, 1, 2, 2}, 4)}, modelgen.String("mode", "cubic"),
		modelgen.String("coordinate_transformation_mode", "pytorch_half_pixel"))
	down := b.Node("Resize", []string{x, "", b.Const("d", []float32{1, 1, 0.5, 0.4}, 4)}, modelgen.String("mode", "linear"), modelgen.Int("antialias", 1))
	line := b.Node("Resize", []string{b.Node("Reshape", []string{x, b.Int64s("l", []int64{0, 3, 30}, 3)}), "", b.Const("c", []float32{1, 1, 0.5}, 3)},
		modelgen.String("mode", "cubic"))
	b.NodeOut("Concat", "output", []string{flatNode(b, up), flatNode(b, down), flatNode(b, line)}, modelgen.Int("axis", 1))
	b.Output("output", 3*12*10+3*3*2+3*15)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUVideoOps runs a video model's 3-D ops, each 2-D ops: an R3D
// block (a 3-D convolution strided in the plane, batch norm and ReLU, a
// temporal one with bias), a 3-D max pool with ceil_mode and an average
// pool strided in depth, at batch sizes 1 to 4 against the CPU runtime.
func TestGPUVideoOps(t *testing.T) {
	b := modelgen.NewBuilder("video", 89)
	x := b.Input("input", 3, 4, 8, 8)
	c := b.Node("Conv", []string{x, b.Normal("w1", 0, 0.3, 4, 3, 3, 3, 3)}, modelgen.Ints("strides", 1, 2, 2), modelgen.Ints("pads", 1, 1, 1, 1, 1, 1))
	p := b.Const("p", []float32{0.9, 1.1, 1, 1.2}, 4)
	r := b.Node("Relu", []string{b.Node("BatchNormalization", []string{c, p, p, p, p})})
	t3 := b.Node("Conv", []string{r, b.Normal("w2", 0, 0.3, 4, 4, 3, 1, 1), b.Normal("b2", 0, 0.3, 4)}, modelgen.Ints("pads", 1, 0, 0, 1, 0, 0))
	mx := b.Node("MaxPool", []string{t3}, modelgen.Ints("kernel_shape", 2, 3, 3), modelgen.Ints("strides", 2, 2, 2), modelgen.Int("ceil_mode", 1))
	avg := b.Node("AveragePool", []string{t3}, modelgen.Ints("kernel_shape", 2, 2, 2), modelgen.Ints("strides", 2, 2, 2))
	b.NodeOut("Concat", "output", []string{flatNode(b, mx), flatNode(b, avg)}, modelgen.Int("axis", 1))
	b.Output("output", 4*2*2*2+4*2*2*2)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUGroupNorm runs GroupNormalization (opset 21, scale and bias per
// channel) after a convolution, as diffusion U-Nets have it: a LayerNorm
// of X viewed as [N, groups, the rest], then the per-channel Affine, at
// batch sizes 1 to 4 against the CPU runtime.
func TestGPUGroupNorm(t *testing.T) {
	b := modelgen.NewBuilder("groupnorm", 97)
	b.SetOpset(21)
	x := b.Input("input", 3, 6, 5)
	c := b.Node("Conv", []string{x, b.Normal("w", 0, 0.3, 8, 3, 3, 3)}, modelgen.Ints("pads", 1, 1, 1, 1))
	g := b.Node("GroupNormalization", []string{c, b.Normal("s", 1, 0.3, 8), b.Normal("bias", 0, 0.3, 8)}, modelgen.Int("num_groups", 4))
	b.NodeOut("Reshape", "output", []string{g, b.Int64s("flat", []int64{0, -1}, 2)})
	b.Output("output", 8*6*5)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPURoundingAndTrig runs Floor (fused into the Mul before it), Ceil,
// Round of exact halves (to even, as rintf does), Sign (zeros too), Sin
// and Cos (act codes 24-29), at batch sizes 1 to 4 against the CPU
// runtime.
func TestGPURoundingAndTrig(t *testing.T) {
	b := modelgen.NewBuilder("rounding", 101)
	x := b.Input("input", 4, 6)
	k := b.Node("Floor", []string{b.Node("Mul", []string{x, b.Const("four", []float32{4})})})
	halves := b.Node("Mul", []string{k, b.Const("half", []float32{0.5})})
	parts := []string{k, b.Node("Ceil", []string{x}), b.Node("Round", []string{halves}), b.Node("Sign", []string{b.Node("Round", []string{x})}),
		b.Node("Sin", []string{b.Node("Mul", []string{x, b.Const("three", []float32{3})})}), b.Node("Cos", []string{x})}
	b.NodeOut("Concat", "output", parts, modelgen.Int("axis", 2))
	b.Output("output", 4, 36)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUSwinBlocks runs two Swin Transformer blocks (modelgen.SwinBlock,
// the second shifted) after a patch embedding (a strided convolution, its
// output moved to NHWC): six-axis transposes into and out of windows,
// rolls, heads gathered from a five-axis transpose, batched MatMuls, at
// batch sizes 1 to 4 against the CPU runtime.
func TestGPUSwinBlocks(t *testing.T) {
	b := modelgen.NewBuilder("swin", 103)
	b.SetOpset(17)
	x := b.Input("input", 3, 32, 32)
	p := b.Node("Conv", []string{x, b.Normal("patch", 0, 0.2, 8, 3, 4, 4), b.Normal("patch_bias", 0, 0.1, 8)}, modelgen.Ints("strides", 4, 4))
	y := b.Node("Transpose", []string{p}, modelgen.Ints("perm", 0, 2, 3, 1))
	y = b.SwinBlock(b.SwinBlock(y, 8, 8, 4, 2, 0), 8, 8, 4, 2, 2)
	b.NodeOut("Reshape", "output", []string{y, b.Int64s("flat", []int64{0, -1}, 2)})
	b.Output("output", 8*8*8)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUSplitConvs runs convolutions whose weights (128 × 128 × 6 × 6,
// 2.25 MiB) are larger than the tests' 2 MiB pages, each split into two
// by output channels and concatenated: the first with SiLU fused into its
// parts, the second with the first's output added after its Concat, as a
// residual, at batch sizes 1 to 4 against the CPU runtime. (At 256 × 256
// × 3 × 3 on 4 × 4 inputs, timing fakecuda's algorithms took 78 s.)
func TestGPUSplitConvs(t *testing.T) {
	b := modelgen.NewBuilder("split_convs", 107)
	x := b.Input("input", 128, 6, 6)
	c := convNode(b, x, 128, 128, 6, 6, 1)
	s := b.Node("Mul", []string{c, b.Node("Sigmoid", []string{c})})
	y := convNode(b, x, 128, 128, 6, 6, 1)
	b.NodeOut("Relu", "output", []string{b.Node("Add", []string{y, s})})
	b.Output("output", 128, 1, 1)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPUEinsum runs Einsums (attention's scores and their product with
// V, a Linear by a constant, the constant first, a sum over one axis)
// as the engine plans them, batched MatMuls, Gemms, transposes and a
// reduction, at batch sizes 1 to 4 against the CPU runtime.
func TestGPUEinsum(t *testing.T) {
	b := modelgen.NewBuilder("einsum", 109)
	x := b.Input("input", 2, 5, 4)
	eq := func(e string, in ...string) string { return b.Node("Einsum", in, modelgen.String("equation", e)) }
	k := b.Node("Sigmoid", []string{x})
	p := b.Node("Softmax", []string{eq("bhqd,bhkd->bhqk", x, k)}, modelgen.Int("axis", -1))
	o := eq("bhqk,bhkd->bqhd", p, k)                         // [N, 5, 2, 4]
	l := eq("bqhd,ed->bqhe", o, b.Normal("w", 0, 0.5, 3, 4)) // [N, 5, 2, 3]
	f := eq("ed,bqhd->beqh", b.Normal("v", 0, 0.5, 3, 4), o) // [N, 3, 5, 2]
	s := eq("beqh->bqe", f)                                  // [N, 5, 3]
	flat := func(v string) string { return b.Node("Flatten", []string{v}) }
	b.NodeOut("Concat", "output", []string{flat(l), flat(s)}, modelgen.Int("axis", 1))
	b.Output("output", 5*2*3+5*3)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}

// TestGPURecurrent runs a bidirectional LSTM over a GRU (PyTorch's,
// linear_before_reset), both unrolled over 4 steps into Gemms by R,
// strided copies of the gates with their activations fused, and the
// cells' elementwise ops, at batch sizes 1 to 4 against the CPU runtime.
func TestGPURecurrent(t *testing.T) {
	const seq, in, hidden = 4, 6, 8
	b := modelgen.NewBuilder("recurrent", 113)
	x := b.Node("Transpose", []string{b.Input("input", seq, in)}, modelgen.Ints("perm", 1, 0, 2)) // [seq, N, in]
	b.NodeOuts("GRU", []string{"gru_y", ""}, []string{x, b.Normal("gru.W", 0, 0.4, 1, 3*hidden, in), b.Normal("gru.R", 0, 0.4, 1, 3*hidden, hidden),
		b.Normal("gru.B", 0, 0.3, 1, 6*hidden)}, modelgen.Int("hidden_size", hidden), modelgen.Int("linear_before_reset", 1))
	y := b.Node("Squeeze", []string{"gru_y", b.Int64s("dir_axis", []int64{1}, 1)}) // [seq, N, hidden]
	b.NodeOuts("LSTM", []string{"lstm_y", "lstm_h", ""}, []string{y, b.Normal("lstm.W", 0, 0.4, 2, 4*hidden, hidden), b.Normal("lstm.R", 0, 0.4, 2, 4*hidden, hidden),
		b.Normal("lstm.B", 0, 0.3, 2, 8*hidden)}, modelgen.Int("hidden_size", hidden), modelgen.String("direction", "bidirectional"))
	ys := b.Node("Flatten", []string{b.Node("Transpose", []string{"lstm_y"}, modelgen.Ints("perm", 2, 0, 1, 3))})
	hs := b.Node("Flatten", []string{b.Node("Transpose", []string{"lstm_h"}, modelgen.Ints("perm", 1, 0, 2))})
	b.NodeOut("Concat", "output", []string{ys, hs}, modelgen.Int("axis", 1))
	b.Output("output", seq*2*hidden+2*hidden)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}
