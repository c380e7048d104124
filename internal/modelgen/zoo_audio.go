package modelgen

import "math"

// m5 follows M5 (Dai et al., 2017), the audio classifier of torchaudio's
// speech-command tutorial, on one second of 8 kHz audio, as
// torch.onnx.export writes it: four Conv1d (the first with an 80-sample
// kernel and stride 16), each with BatchNorm1d, ReLU and MaxPool1d(4);
// F.avg_pool1d over the samples left; the channels moved last (Transpose)
// for the Linear (MatMul by its transposed weight, then Add); and
// log_softmax over the 35 commands.
func m5(b *Builder) {
	conv := func(x string, cin, cout, k, stride int) string {
		name := b.Fresh("conv")
		w := b.Normal(name+".weight", 0, math.Sqrt(2/float64(cin*k)), cout, cin, k)
		bias := b.Normal(name+".bias", 0, 0.01, cout)
		b.NodeOut("Conv", name, []string{x, w, bias}, Ints("dilations", 1), Int("group", 1), Ints("kernel_shape", k),
			Ints("pads", 0, 0), Ints("strides", stride))
		return name
	}
	block := func(x string, cin, cout, k, stride int) string {
		c := b.relu(b.bn(conv(x, cin, cout, k, stride), cout, 0.5, 1.5))
		return b.Node("MaxPool", []string{c}, Int("ceil_mode", 0), Ints("kernel_shape", 4), Ints("pads", 0, 0), Ints("strides", 4))
	}
	x := b.Input("input", 1, 8000)
	x = block(x, 1, 32, 80, 16) // 32×124
	x = block(x, 32, 32, 3, 1)  // 32×30
	x = block(x, 32, 64, 3, 1)  // 64×7
	x = block(x, 64, 64, 3, 1)  // 64×1
	x = b.Node("AveragePool", []string{x}, Int("ceil_mode", 0), Ints("kernel_shape", 1), Ints("pads", 0, 0), Ints("strides", 1))
	x = b.Node("Transpose", []string{x}, Ints("perm", 0, 2, 1)) // 1×64
	w := b.Normal("fc1.weight_t", 0, 1/math.Sqrt(64), 64, 35)
	x = b.Node("Add", []string{b.Node("MatMul", []string{x, w}), b.Normal("fc1.bias", 0, 0.01, 35)})
	b.finish(b.Node("LogSoftmax", []string{x}, Int("axis", 2)), 1, 35)
}
