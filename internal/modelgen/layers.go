package modelgen

import "math"

// Layer helpers shared by the zoo. Weights use He initialisation and
// BatchNormalization gets non-trivial statistics, so activations stay
// finite and of order one through deep networks while every import fold
// is exercised.

// conv adds a 2-D convolution with square kernel k.
func (b *Builder) conv(x string, cin, cout, k, stride, pad, group int, bias bool) string {
	return b.convRect(x, cin, cout, [2]int{k, k}, stride, [2]int{pad, pad}, group, bias)
}

// convRect adds a 2-D convolution with kernel k (height, width) and pads
// pad (height, width) on both sides: Inception's 1×7 and 7×1.
func (b *Builder) convRect(x string, cin, cout int, k [2]int, stride int, pad [2]int, group int, bias bool) string {
	name := b.Fresh("conv")
	fanIn := cin / group * k[0] * k[1]
	in := []string{x, b.Normal(name+".weight", 0, math.Sqrt(2/float64(fanIn)), cout, cin/group, k[0], k[1])}
	if bias {
		in = append(in, b.Normal(name+".bias", 0, 0.01, cout))
	}
	b.NodeOut("Conv", name, in,
		Ints("kernel_shape", k[0], k[1]), Ints("strides", stride, stride), Ints("pads", pad[0], pad[1], pad[0], pad[1]),
		Ints("dilations", 1, 1), Int("group", group))
	return name
}

// bn adds a BatchNormalization whose scale is drawn from [lo, hi).
func (b *Builder) bn(x string, c int, lo, hi float64) string {
	name := b.Fresh("bn")
	in := []string{x,
		b.Uniform(name+".weight", lo, hi, c),
		b.Uniform(name+".bias", -0.1, 0.1, c),
		b.Uniform(name+".running_mean", -0.1, 0.1, c),
		b.Uniform(name+".running_var", 0.5, 1.5, c),
	}
	eps := b.bnEpsilon
	if eps == 0 {
		eps = 1e-5
	}
	b.NodeOut("BatchNormalization", name, in, Float("epsilon", eps), Float("momentum", 0.9))
	return name
}

// convBN is conv followed by batch normalization with scale around 1.
func (b *Builder) convBN(x string, cin, cout, k, stride, pad, group int) string {
	return b.bn(b.conv(x, cin, cout, k, stride, pad, group, false), cout, 0.5, 1.5)
}

func (b *Builder) relu(x string) string { return b.Node("Relu", []string{x}) }

// relu6 is Clip(x, 0, 6) with constant bounds (opset ≥ 11).
func (b *Builder) relu6(x string) string {
	if !b.clipBounds {
		b.clipBounds = true
		b.Const("clip_min", []float32{0})
		b.Const("clip_max", []float32{6})
	}
	return b.Node("Clip", []string{x, "clip_min", "clip_max"})
}

func (b *Builder) maxPool(x string, k, stride, pad int) string {
	return b.Node("MaxPool", []string{x}, Ints("kernel_shape", k, k), Ints("strides", stride, stride), Ints("pads", pad, pad, pad, pad))
}

func (b *Builder) avgPool(x string, k, stride, pad int, countPad bool) string {
	cp := 0
	if countPad {
		cp = 1
	}
	return b.Node("AveragePool", []string{x}, Ints("kernel_shape", k, k), Ints("strides", stride, stride),
		Ints("pads", pad, pad, pad, pad), Int("count_include_pad", cp))
}

func (b *Builder) add(x, y string) string { return b.Node("Add", []string{x, y}) }

// fc is a fully connected layer in PyTorch's layout (weight [out, in],
// transB = 1).
func (b *Builder) fc(x string, in, out int) string {
	name := b.Fresh("fc")
	w := b.Normal(name+".weight", 0, math.Sqrt(1/float64(in)), out, in)
	bias := b.Normal(name+".bias", 0, 0.01, out)
	b.NodeOut("Gemm", name, []string{x, w, bias}, Float("alpha", 1), Float("beta", 1), Int("transB", 1))
	return name
}

// head is global average pooling, flatten and the classifier.
func (b *Builder) head(x string, c, classes int) string {
	g := b.Node("GlobalAveragePool", []string{x})
	f := b.Node("Flatten", []string{g}, Int("axis", 1))
	return b.fc(f, c, classes)
}

// finish renames the last tensor to "output" with an Identity-free
// rename of its producing node, and declares it.
func (b *Builder) finish(last string, item ...int) {
	for _, n := range b.g.Node {
		if n.Output[0] == last {
			n.Output[0] = "output"
		}
	}
	b.Output("output", item...)
}

// Gelu is nn.GELU as torch.onnx.export writes it before opset 20:
// x · (1 + erf(x / √2)) · 0.5, five nodes with scalar constants.
func (b *Builder) Gelu(x string) string {
	d := b.Node("Div", []string{x, b.Const(b.Fresh("sqrt2"), []float32{math.Sqrt2})})
	e := b.Node("Add", []string{b.Node("Erf", []string{d}), b.Const(b.Fresh("one"), []float32{1})})
	return b.Node("Mul", []string{b.Node("Mul", []string{x, e}), b.Const(b.Fresh("half"), []float32{0.5})})
}
