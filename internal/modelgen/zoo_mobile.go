package modelgen

import "math"

// The zoo's networks for small devices, built from inverted residuals
// (MobileNetV3, MnasNet, EfficientNet) or grouped bottlenecks (RegNet),
// most with squeeze-and-excitation: each as torchvision defines it, so
// that their parameters are its, to the byte (TestZooParameters).

// makeDivisible is torchvision's _make_divisible: v rounded to the
// nearest multiple of d, at least d, and not more than 10% below v.
func makeDivisible(v float64, d int) int {
	n := max(d, int(v+float64(d)/2)/d*d)
	if float64(n) < 0.9*v {
		n += d
	}
	return n
}

func (b *Builder) hardSwish(x string) string { return b.Node("HardSwish", []string{x}) }

// hardSigmoid is nn.Hardsigmoid as PyTorch exports it.
func (b *Builder) hardSigmoid(x string) string {
	return b.Node("HardSigmoid", []string{x}, Float("alpha", 1.0/6), Float("beta", 0.5))
}

func (b *Builder) sigmoid(x string) string { return b.Node("Sigmoid", []string{x}) }

// silu is nn.SiLU as PyTorch exports it: x · sigmoid(x).
func (b *Builder) silu(x string) string { return b.Node("Mul", []string{x, b.sigmoid(x)}) }

// squeezeExcite is torchvision's SqueezeExcitation: x scaled per channel
// by gate(fc2(act(fc1(mean of x)))), the fully connected layers 1×1
// convolutions with bias.
func (b *Builder) squeezeExcite(x string, c, squeeze int, act, gate func(string) string) string {
	s := b.Node("GlobalAveragePool", []string{x})
	s = act(b.conv(s, c, squeeze, 1, 1, 0, 1, true))
	s = gate(b.conv(s, squeeze, c, 1, 1, 0, 1, true))
	return b.Node("Mul", []string{s, x})
}

// excite is a block's squeeze-and-excitation: to squeeze channels (none
// if 0), with act between its layers and gate at the end.
type excite struct {
	squeeze   int
	act, gate func(string) string
}

// invertedResidual is the block of MobileNetV3, MnasNet and EfficientNet:
// a 1×1 expansion to exp channels (none if exp is in), a depthwise k×k
// convolution, squeeze-and-excitation se and a 1×1 projection, with the
// residual where the shape allows. The projection's batch norm scales by
// 0.2–0.5, so that activations stay of order one through tens of blocks.
func (b *Builder) invertedResidual(x string, in, exp, out, k, stride int, act func(string) string, se excite) string {
	y := x
	if exp != in {
		y = act(b.convBN(y, in, exp, 1, 1, 0, 1))
	}
	y = act(b.convBN(y, exp, exp, k, stride, (k-1)/2, exp))
	if se.squeeze > 0 {
		y = b.squeezeExcite(y, exp, se.squeeze, se.act, se.gate)
	}
	y = b.bn(b.conv(y, exp, out, 1, 1, 0, 1, false), out, 0.2, 0.5)
	if stride == 1 && in == out {
		y = b.add(y, x)
	}
	return y
}

// mobileNetV3 follows torchvision's MobileNetV3-Large, or -Small if not
// large: hard swish, and squeeze-and-excitation gated by a hard sigmoid,
// in the blocks its table marks.
func mobileNetV3(b *Builder, large bool) {
	type block struct {
		in, k, exp, out int
		se, hs          bool
		stride          int
	}
	blocks, last := []block{
		{16, 3, 16, 16, true, false, 2}, {16, 3, 72, 24, false, false, 2}, {24, 3, 88, 24, false, false, 1},
		{24, 5, 96, 40, true, true, 2}, {40, 5, 240, 40, true, true, 1}, {40, 5, 240, 40, true, true, 1},
		{40, 5, 120, 48, true, true, 1}, {48, 5, 144, 48, true, true, 1}, {48, 5, 288, 96, true, true, 2},
		{96, 5, 576, 96, true, true, 1}, {96, 5, 576, 96, true, true, 1},
	}, 1024
	if large {
		blocks, last = []block{
			{16, 3, 16, 16, false, false, 1}, {16, 3, 64, 24, false, false, 2}, {24, 3, 72, 24, false, false, 1},
			{24, 5, 72, 40, true, false, 2}, {40, 5, 120, 40, true, false, 1}, {40, 5, 120, 40, true, false, 1},
			{40, 3, 240, 80, false, true, 2}, {80, 3, 200, 80, false, true, 1}, {80, 3, 184, 80, false, true, 1},
			{80, 3, 184, 80, false, true, 1}, {80, 3, 480, 112, true, true, 1}, {112, 3, 672, 112, true, true, 1},
			{112, 5, 672, 160, true, true, 2}, {160, 5, 960, 160, true, true, 1}, {160, 5, 960, 160, true, true, 1},
		}, 1280
	}
	b.bnEpsilon = 1e-3
	x := b.Input("input", 3, 224, 224)
	x = b.hardSwish(b.convBN(x, 3, 16, 3, 2, 1, 1))
	for _, c := range blocks {
		act, se := b.relu, excite{act: b.relu, gate: b.hardSigmoid}
		if c.hs {
			act = b.hardSwish
		}
		if c.se {
			se.squeeze = makeDivisible(float64(c.exp/4), 8)
		}
		x = b.invertedResidual(x, c.in, c.exp, c.out, c.k, c.stride, act, se)
	}
	in := blocks[len(blocks)-1].out
	x = b.hardSwish(b.convBN(x, in, 6*in, 1, 1, 0, 1))
	x = b.Node("Flatten", []string{b.Node("GlobalAveragePool", []string{x})}, Int("axis", 1))
	x = b.Node("Dropout", []string{b.hardSwish(b.fc(x, 6*in, last))})
	b.finish(b.fc(x, last, 1000), 1000)
}

// mnasNet10 follows torchvision's MNASNet 1.0: ReLU throughout, no
// squeeze-and-excitation, and the mean over H and W a ReduceMean.
func mnasNet10(b *Builder) {
	x := b.Input("input", 3, 224, 224)
	x = b.relu(b.convBN(x, 3, 32, 3, 2, 1, 1))
	x = b.relu(b.convBN(x, 32, 32, 3, 1, 1, 32))
	x = b.convBN(x, 32, 16, 1, 1, 0, 1)
	in := 16
	for _, s := range [][5]int{{24, 3, 2, 3, 3}, {40, 5, 2, 3, 3}, {80, 5, 2, 6, 3}, {96, 3, 1, 6, 2}, {192, 5, 2, 6, 4}, {320, 3, 1, 6, 1}} {
		out, k, stride, expand, repeats := s[0], s[1], s[2], s[3], s[4]
		for i := range repeats {
			if i > 0 {
				stride = 1
			}
			x = b.invertedResidual(x, in, in*expand, out, k, stride, b.relu, excite{})
			in = out
		}
	}
	x = b.relu(b.convBN(x, in, 1280, 1, 1, 0, 1))
	x = b.Node("ReduceMean", []string{x}, Ints("axes", 2, 3), Int("keepdims", 0))
	b.finish(b.fc(b.Node("Dropout", []string{x}), 1280, 1000), 1000)
}

// efficientNet follows torchvision's EfficientNet of the given width and
// depth multipliers (B0: 1.0, 1.0; B4: 1.4, 1.8): SiLU throughout (in the
// squeeze-and-excitation too, to a quarter of each block's input
// channels).
func efficientNet(b *Builder, width, depth float64) {
	ch := func(c int) int { return makeDivisible(float64(c)*width, 8) }
	x := b.Input("input", 3, 224, 224)
	x = b.silu(b.convBN(x, 3, ch(32), 3, 2, 1, 1))
	for _, s := range [][6]int{{1, 3, 1, 32, 16, 1}, {6, 3, 2, 16, 24, 2}, {6, 5, 2, 24, 40, 2}, {6, 3, 2, 40, 80, 3},
		{6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1}} {
		expand, k, stride, in, out := s[0], s[1], s[2], ch(s[3]), ch(s[4])
		for i := range int(math.Ceil(float64(s[5]) * depth)) {
			if i > 0 {
				in, stride = out, 1
			}
			exp := makeDivisible(float64(in*expand), 8)
			x = b.invertedResidual(x, in, exp, out, k, stride, b.silu, excite{max(1, in/4), b.silu, b.sigmoid})
		}
	}
	in := ch(320)
	x = b.silu(b.convBN(x, in, 4*in, 1, 1, 0, 1))
	x = b.Node("Flatten", []string{b.Node("GlobalAveragePool", []string{x})}, Int("axis", 1))
	b.finish(b.fc(b.Node("Dropout", []string{x}), 4*in, 1000), 1000)
}

// regNetY800MF follows torchvision's RegNetY-800MF: a 32-channel stem,
// then stages of 1, 3, 8 and 2 bottlenecks of widths 64, 144, 320 and
// 784 (the widths its generator quantises), grouped convolutions of 16
// channels a group, squeeze-and-excitation to a quarter of each block's
// input channels.
func regNetY800MF(b *Builder) {
	x := b.Input("input", 3, 224, 224)
	x = b.relu(b.convBN(x, 3, 32, 3, 2, 1, 1))
	in := 32
	for stage, out := range []int{64, 144, 320, 784} {
		for i := range []int{1, 3, 8, 2}[stage] {
			stride := 1
			if i == 0 {
				stride = 2
			}
			y := b.relu(b.convBN(x, in, out, 1, 1, 0, 1))
			y = b.relu(b.convBN(y, out, out, 3, stride, 1, out/16))
			y = b.squeezeExcite(y, out, int(math.Round(0.25*float64(in))), b.relu, b.sigmoid)
			y = b.bn(b.conv(y, out, out, 1, 1, 0, 1, false), out, 0.2, 0.5)
			shortcut := x
			if in != out || stride != 1 {
				shortcut = b.convBN(x, in, out, 1, stride, 0, 1)
			}
			x, in = b.relu(b.add(shortcut, y)), out
		}
	}
	b.finish(b.head(x, in, 1000), 1000)
}
