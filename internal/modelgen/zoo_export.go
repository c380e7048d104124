package modelgen

// Models written as torch.onnx.export writes them, with the shape
// arithmetic and data movement that brings: a batch size read with
// Shape and Gather, channels split, shuffled and sliced, layers
// normalised channels last.

import "math"

// ceilPool is a MaxPool with ceil_mode, as Caffe-derived PyTorch models
// pool.
func (b *Builder) ceilPool(x string, k, stride, pad int) string {
	return b.Node("MaxPool", []string{x}, Ints("kernel_shape", k, k), Ints("strides", stride, stride),
		Ints("pads", pad, pad, pad, pad), Int("ceil_mode", 1))
}

// batchTarget is a Reshape target whose first element is x's batch size
// (Shape, Gather, Unsqueeze) and the rest dims, as PyTorch exports
// x.view(x.size(0), ...).
func (b *Builder) batchTarget(x string, dims ...int64) string {
	n := b.Node("Gather", []string{b.Node("Shape", []string{x}), b.Int64s(b.Fresh("zero"), []int64{0})}, Int("axis", 0))
	n = b.Node("Unsqueeze", []string{n, b.Int64s(b.Fresh("axes"), []int64{0}, 1)})
	return b.Node("Concat", []string{n, b.Int64s(b.Fresh("dims"), dims, len(dims))}, Int("axis", 0))
}

// squeezeNet follows torchvision's SqueezeNet 1.0, or 1.1 if v11.
func squeezeNet(b *Builder, v11 bool) {
	fire := func(x string, cin, s, e int) string {
		sq := b.relu(b.conv(x, cin, s, 1, 1, 0, 1, true))
		e1 := b.relu(b.conv(sq, s, e, 1, 1, 0, 1, true))
		e3 := b.relu(b.conv(sq, s, e, 3, 1, 1, 1, true))
		return b.Node("Concat", []string{e1, e3}, Int("axis", 1))
	}
	x := b.Input("input", 3, 224, 224)
	if v11 {
		x = b.ceilPool(b.relu(b.conv(x, 3, 64, 3, 2, 0, 1, true)), 3, 2, 0)
		x = b.ceilPool(fire(fire(x, 64, 16, 64), 128, 16, 64), 3, 2, 0)
		x = b.ceilPool(fire(fire(x, 128, 32, 128), 256, 32, 128), 3, 2, 0)
		x = fire(fire(fire(fire(x, 256, 48, 192), 384, 48, 192), 384, 64, 256), 512, 64, 256)
	} else {
		x = b.ceilPool(b.relu(b.conv(x, 3, 96, 7, 2, 0, 1, true)), 3, 2, 0)
		x = b.ceilPool(fire(fire(fire(x, 96, 16, 64), 128, 16, 64), 128, 32, 128), 3, 2, 0)
		x = fire(fire(fire(fire(x, 256, 32, 128), 256, 48, 192), 384, 48, 192), 384, 64, 256)
		x = fire(b.ceilPool(x, 3, 2, 0), 512, 64, 256)
	}
	x = b.relu(b.conv(b.Node("Dropout", []string{x}), 512, 1000, 1, 1, 0, 1, true))
	g := b.Node("GlobalAveragePool", []string{x})
	b.finish(b.Node("Flatten", []string{g}, Int("axis", 1)), 1000)
}

// shuffleNetV2 follows torchvision's ShuffleNet V2 1.0×: stride-1 units
// split their channels in two (Split), and every unit ends in a channel
// shuffle (Reshape to five axes, Transpose, Reshape back).
func shuffleNetV2(b *Builder) {
	shuffle := func(x string, c, hw int) string {
		g := b.Node("Reshape", []string{x, b.batchTarget(x, 2, int64(c/2), int64(hw), int64(hw))})
		t := b.Node("Transpose", []string{g}, Ints("perm", 0, 2, 1, 3, 4))
		return b.Node("Reshape", []string{t, b.batchTarget(t, -1, int64(hw), int64(hw))})
	}
	x := b.Input("input", 3, 224, 224)
	x = b.relu(b.convBN(x, 3, 24, 3, 2, 1, 1))
	x = b.maxPool(x, 3, 2, 1) // 24×56×56
	cin, hw := 24, 56
	for stage, n := range []int{4, 8, 4} {
		cout := []int{116, 232, 464}[stage]
		half := cout / 2
		for i := range n {
			var left, right string
			if i == 0 { // stride 2: both branches read x
				hw /= 2
				left = b.convBN(x, cin, cin, 3, 2, 1, cin)
				left = b.relu(b.convBN(left, cin, half, 1, 1, 0, 1))
				right = b.relu(b.convBN(x, cin, half, 1, 1, 0, 1))
				right = b.convBN(right, half, half, 3, 2, 1, half)
			} else {
				l, r := b.Fresh("split"), b.Fresh("split")
				b.NodeOuts("Split", []string{l, r}, []string{x, b.Int64s(b.Fresh("halves"), []int64{int64(half), int64(half)}, 2)}, Int("axis", 1))
				left = l
				right = b.relu(b.convBN(r, half, half, 1, 1, 0, 1))
				right = b.convBN(right, half, half, 3, 1, 1, half)
			}
			// A smaller scale on the branch's last batch norm keeps the
			// activations of order one through 16 units.
			right = b.relu(b.bn(b.conv(right, half, half, 1, 1, 0, 1, false), half, 0.2, 0.5))
			x = shuffle(b.Node("Concat", []string{left, right}, Int("axis", 1)), cout, hw)
			cin = cout
		}
	}
	x = b.relu(b.convBN(x, cin, 1024, 1, 1, 0, 1))
	m := b.Node("ReduceMean", []string{x}, Ints("axes", 2, 3), Int("keepdims", 0))
	b.finish(b.fc(m, 1024, 1000), 1000)
}

// googLeNet follows torchvision's GoogLeNet with transform_input, as its
// ImageNet weights have it: each input channel rescaled from ImageNet's
// normalisation to [-1, 1] alone (x[:, i], a Gather) and concatenated
// again. Its convolutions are BasicConv2d: no bias, batch norm, ReLU.
func googLeNet(b *Builder) {
	basic := func(x string, cin, cout, k, stride, pad int) string {
		return b.relu(b.convBN(x, cin, cout, k, stride, pad, 1))
	}
	inception := func(x string, cin, c1, c3r, c3, c5r, c5, pool int) string {
		b1 := basic(x, cin, c1, 1, 1, 0)
		b2 := basic(basic(x, cin, c3r, 1, 1, 0), c3r, c3, 3, 1, 1)
		b3 := basic(basic(x, cin, c5r, 1, 1, 0), c5r, c5, 3, 1, 1) // 3×3, as torchvision's
		b4 := basic(b.ceilPool(x, 3, 1, 1), cin, pool, 1, 1, 0)
		return b.Node("Concat", []string{b1, b2, b3, b4}, Int("axis", 1))
	}
	x := b.Input("input", 3, 224, 224)
	mean, std := []float64{0.485, 0.456, 0.406}, []float64{0.229, 0.224, 0.225}
	var chans []string
	for i := range 3 {
		c := b.Node("Gather", []string{x, b.Int64s(b.Fresh("channel"), []int64{int64(i)})}, Int("axis", 1))
		c = b.Node("Unsqueeze", []string{c, b.Int64s(b.Fresh("axes"), []int64{1}, 1)})
		c = b.Node("Mul", []string{c, b.Const(b.Fresh("scale"), []float32{float32(std[i] / 0.5)})})
		chans = append(chans, b.Node("Add", []string{c, b.Const(b.Fresh("shift"), []float32{float32((mean[i] - 0.5) / 0.5)})}))
	}
	x = b.Node("Concat", chans, Int("axis", 1))
	x = b.ceilPool(basic(x, 3, 64, 7, 2, 3), 3, 2, 0)
	x = b.ceilPool(basic(basic(x, 64, 64, 1, 1, 0), 64, 192, 3, 1, 1), 3, 2, 0)
	x = inception(inception(x, 192, 64, 96, 128, 16, 32, 32), 256, 128, 128, 192, 32, 96, 64)
	x = b.ceilPool(x, 3, 2, 0)
	for _, c := range [][7]int{{480, 192, 96, 208, 16, 48, 64}, {512, 160, 112, 224, 24, 64, 64}, {512, 128, 128, 256, 24, 64, 64},
		{512, 112, 144, 288, 32, 64, 64}, {528, 256, 160, 320, 32, 128, 128}} {
		x = inception(x, c[0], c[1], c[2], c[3], c[4], c[5], c[6])
	}
	x = b.ceilPool(x, 2, 2, 0)
	x = inception(inception(x, 832, 256, 160, 320, 32, 128, 128), 832, 384, 192, 384, 48, 128, 128)
	g := b.Node("GlobalAveragePool", []string{x})
	f := b.Node("Dropout", []string{b.Node("Flatten", []string{g}, Int("axis", 1))})
	b.finish(b.fc(f, 1024, 1000), 1000)
}

// convNeXtTiny follows torchvision's ConvNeXt-T as torch.onnx.export
// writes it at opset 17: LayerNorm2d as a Transpose to channels last,
// LayerNormalization and a Transpose back; each block's Linears as
// MatMul and Add on channels-last tensors, nn.GELU as five nodes, and
// the layer scale a Mul by a [C, 1, 1] constant before the residual Add
// (stochastic depth is the identity in inference). The layer scales are
// drawn from [0.05, 0.3), not PyTorch's initial 1e-6, so that every block
// counts in the output.
func convNeXtTiny(b *Builder) {
	b.SetOpset(17)
	layerNorm := func(x string, c int) string {
		name := b.Fresh("norm")
		return b.Node("LayerNormalization", []string{x, b.Uniform(name+".weight", 0.5, 1.5, c), b.Uniform(name+".bias", -0.1, 0.1, c)},
			Int("axis", -1), Float("epsilon", 1e-6))
	}
	layerNorm2d := func(x string, c int) string {
		t := b.Node("Transpose", []string{x}, Ints("perm", 0, 2, 3, 1))
		return b.Node("Transpose", []string{layerNorm(t, c)}, Ints("perm", 0, 3, 1, 2))
	}
	linear := func(x string, in, out int) string {
		name := b.Fresh("linear")
		w := b.Normal(name+".weight", 0, math.Sqrt(1/float64(in)), in, out) // transposed at export
		return b.Node("Add", []string{b.Node("MatMul", []string{x, w}), b.Normal(name+".bias", 0, 0.01, out)})
	}
	block := func(x string, c int) string {
		y := b.conv(x, c, c, 7, 1, 3, c, true)
		y = layerNorm(b.Node("Transpose", []string{y}, Ints("perm", 0, 2, 3, 1)), c)
		y = linear(b.Gelu(linear(y, c, 4*c)), 4*c, c)
		y = b.Node("Transpose", []string{y}, Ints("perm", 0, 3, 1, 2))
		y = b.Node("Mul", []string{b.Uniform(b.Fresh("layer_scale"), 0.05, 0.3, c, 1, 1), y})
		return b.add(y, x)
	}
	x := b.Input("input", 3, 224, 224)
	x = layerNorm2d(b.conv(x, 3, 96, 4, 4, 0, 1, true), 96)
	dims, depths := []int{96, 192, 384, 768}, []int{3, 3, 9, 3}
	for i, c := range dims {
		for range depths[i] {
			x = block(x, c)
		}
		if i+1 < len(dims) {
			x = b.conv(layerNorm2d(x, c), c, dims[i+1], 2, 2, 0, 1, true)
		}
	}
	g := b.Node("Flatten", []string{layerNorm2d(b.Node("GlobalAveragePool", []string{x}), 768)}, Int("axis", 1))
	b.finish(linear(g, 768, 1000), 1000)
}

// ViTConfig sizes a Vision Transformer.
type ViTConfig struct {
	Image, Patch, Layers, Heads, Hidden, MLP, Classes int
}

// vitB16 is torchvision's ViT-B/16.
var vitB16 = ViTConfig{Image: 224, Patch: 16, Layers: 12, Heads: 12, Hidden: 768, MLP: 3072, Classes: 1000}

// ViT writes torchvision's VisionTransformer as torch.onnx.export writes
// it at opset 17 (nn.MultiheadAttention's export path, grad enabled, and
// scaled_dot_product_attention's symbolic): the class token expanded to
// the batch size (ConstantOfShape, Equal, Where, Expand); in each encoder
// block the packed in-projection unflattened and q, k and v taken from
// axis 0 after the batch axis moved to axis 1; heads merged with the batch
// axis and split again by Reshapes whose targets are shape arithmetic; the
// scale 1/√d from the shape, its square root multiplied into q and kᵀ;
// the MatMuls of computed tensors; the class token's row read with
// Gather. Weights are drawn for activations of order one, not PyTorch's
// initialisation.
func ViT(b *Builder, c ViTConfig) {
	b.SetOpset(17)
	scalar := func(i int64) string { return b.Int64s(b.Fresh("i"), []int64{i}) }
	list := func(v ...int64) string { return b.Int64s(b.Fresh("list"), v, len(v)) }
	dim := func(t string, i int64) string { // t.shape[i], a scalar
		return b.Node("Gather", []string{b.Node("Shape", []string{t}), scalar(i)}, Int("axis", 0))
	}
	unsq := func(s string) string { return b.Node("Unsqueeze", []string{s, list(0)}) }
	concat := func(parts ...string) string { return b.Node("Concat", parts, Int("axis", 0)) }
	transpose := func(t string, perm ...int) string { return b.Node("Transpose", []string{t}, Ints("perm", perm...)) }
	reshape := func(t, shape string) string { return b.Node("Reshape", []string{t, shape}) }
	layerNorm := func(x string) string {
		name := b.Fresh("ln")
		return b.Node("LayerNormalization", []string{x, b.Uniform(name+".weight", 0.5, 1.5, c.Hidden), b.Uniform(name+".bias", -0.1, 0.1, c.Hidden)},
			Int("axis", -1), Float("epsilon", 1e-6))
	}
	linear := func(x string, in, out int) string { // on a tensor of rank 3: MatMul and Add
		name := b.Fresh("linear")
		w := b.Normal(name+".weight", 0, math.Sqrt(1/float64(in)), in, out)
		return b.Node("Add", []string{b.Node("MatMul", []string{x, w}), b.Normal(name+".bias", 0, 0.01, out)})
	}
	gemm := func(x string, in, out int) string { // on a matrix: Gemm
		name := b.Fresh("gemm")
		w := b.Normal(name+".weight", 0, math.Sqrt(1/float64(in)), out, in)
		return b.Node("Gemm", []string{x, w, b.Normal(name+".bias", 0, 0.01, out)}, Float("alpha", 1), Float("beta", 1), Int("transB", 1))
	}
	heads := int64(c.Heads)
	attention := func(input string) string {
		x := transpose(input, 1, 0, 2) // batch_first: [L, N, E]
		tgtLen, bsz, embed := dim(x, 0), dim(x, 1), dim(x, 2)
		headDim := b.Node("Div", []string{embed, scalar(heads)})
		proj := linear(x, c.Hidden, 3*c.Hidden)
		// unflatten(-1, (3, E)).unsqueeze(0).transpose(0, -2).squeeze(-2)
		lead := b.Node("Slice", []string{b.Node("Shape", []string{proj}), list(0), list(2), list(0)})
		proj = reshape(proj, concat(lead, list(3, int64(c.Hidden))))
		proj = b.Node("Squeeze", []string{transpose(b.Node("Unsqueeze", []string{proj, list(0)}), 3, 1, 2, 0, 4), list(3)})
		var qkv [3]string
		for i := range qkv {
			t := b.Node("Gather", []string{proj, scalar(int64(i))}, Int("axis", 0))
			// t.view(t.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
			t = reshape(t, concat(unsq(dim(t, 0)), unsq(b.Node("Mul", []string{bsz, scalar(heads)})), unsq(headDim)))
			t = transpose(t, 1, 0, 2)
			// .view(bsz, num_heads, len, head_dim), len = tgt_len for q, k.size(1) for k and v
			n := tgtLen
			if i > 0 {
				n = dim(t, 1)
			}
			qkv[i] = reshape(t, concat(unsq(bsz), list(heads), unsq(n), unsq(headDim)))
		}
		q, k, v := qkv[0], qkv[1], qkv[2]
		last := b.Node("Slice", []string{b.Node("Shape", []string{q}), list(-1), list(math.MaxInt64)})
		d := b.Node("Cast", []string{last}, Int("to", 1))
		scale := b.Node("Cast", []string{b.Node("Div", []string{b.Const(b.Fresh("one"), []float32{1}, 1), b.Node("Sqrt", []string{d})})}, Int("to", 1))
		kt := transpose(k, 0, 1, 3, 2)
		qs := b.Node("Mul", []string{q, b.Node("Sqrt", []string{scale})})
		ks := b.Node("Mul", []string{kt, b.Node("Sqrt", []string{scale})})
		p := b.Node("Softmax", []string{b.Node("MatMul", []string{qs, ks})}, Int("axis", -1))
		o := transpose(b.Node("MatMul", []string{p, v}), 2, 0, 1, 3)
		o = reshape(o, concat(unsq(b.Node("Mul", []string{bsz, tgtLen})), unsq(embed)))
		o = gemm(o, c.Hidden, c.Hidden)
		o = reshape(o, concat(unsq(tgtLen), unsq(bsz), unsq(dim(o, 1))))
		return transpose(o, 1, 0, 2)
	}
	x := b.Input("input", 3, c.Image, c.Image)
	tokens := (c.Image / c.Patch) * (c.Image / c.Patch)
	n := dim(x, 0)
	x = b.conv(x, 3, c.Hidden, c.Patch, c.Patch, 0, 1, true)
	x = transpose(reshape(x, concat(unsq(n), list(int64(c.Hidden), int64(tokens)))), 0, 2, 1)
	// class_token.expand(n, -1, -1)
	size := reshape(concat(unsq(dim(x, 0)), list(-1), list(-1)), list(-1))
	ones := b.Node("ConstantOfShape", []string{b.Node("Shape", []string{size})}, Int64Tensor("value", 1))
	size = b.Node("Where", []string{b.Node("Equal", []string{size, b.Node("Mul", []string{ones, scalar(-1)})}), ones, size})
	token := b.Node("Expand", []string{b.Normal("class_token", 0, 0.5, 1, 1, c.Hidden), size})
	x = b.Node("Concat", []string{token, x}, Int("axis", 1))
	x = b.add(x, b.Normal("encoder.pos_embedding", 0, 0.5, 1, tokens+1, c.Hidden))
	for range c.Layers {
		x = b.add(attention(layerNorm(x)), x)
		y := linear(b.Gelu(linear(layerNorm(x), c.Hidden, c.MLP)), c.MLP, c.Hidden)
		x = b.add(x, y)
	}
	x = b.Node("Gather", []string{layerNorm(x), scalar(0)}, Int("axis", 1))
	b.finish(gemm(x, c.Hidden, c.Classes), c.Classes)
}
