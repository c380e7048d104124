package modelgen

import "math"

// SwinBlock adds a Swin Transformer block (Liu et al., 2021) to x, [N,
// hw, hw, c], as torchvision's swin_t writes it through torch.onnx.export
// at opset 17:
//
//   - LayerNormalization of the channels;
//   - with shift > 0, a cyclic shift by −shift along H and W (Slice and
//     Concat, as torch.roll exports);
//   - the window×window windows partitioned (Reshape, six-axis Transpose,
//     Reshape) and multi-head self-attention within each: q, k and v
//     gathered from one projection whose heads a five-axis Transpose puts
//     first, a relative position bias and, shifted, the mask that keeps
//     apart a window's parts from either side of the image (both
//     constants: export folds the table lookup and the mask);
//   - the windows merged back, the shift undone, the residual added;
//   - LayerNormalization, the MLP with GELU, the residual.
//
// It checks a chain of the engine's strided copies and views as a real
// model has them; it is not a zoo model.
func (b *Builder) SwinBlock(x string, hw, c, window, heads, shift int) string {
	grid, tokens, dh := hw/window, window*window, c/heads
	ln := func(v string) string {
		return b.Node("LayerNormalization", []string{v, b.Uniform(b.Fresh("ln.weight"), 0.8, 1.2, c), b.Normal(b.Fresh("ln.bias"), 0, 0.1, c)}, Int("axis", -1))
	}
	linear := func(v string, in, out int) string {
		w := b.Normal(b.Fresh("linear.weight_t"), 0, 1/math.Sqrt(float64(in)), in, out)
		return b.Node("Add", []string{b.Node("MatMul", []string{v, w}), b.Normal(b.Fresh("linear.bias"), 0, 0.02, out)})
	}
	shape := func(v string, dims ...int64) string {
		return b.Node("Reshape", []string{v, b.Int64s(b.Fresh("shape"), dims, len(dims))})
	}
	// roll moves v by k along H and W (axes 1 and 2), as torch.roll.
	roll := func(v string, k int) string {
		k = (k%hw + hw) % hw
		for _, axis := range []int64{1, 2} {
			part := func(from, to int) string {
				return b.Node("Slice", []string{v, b.Int64s(b.Fresh("start"), []int64{int64(from)}, 1), b.Int64s(b.Fresh("end"), []int64{int64(to)}, 1),
					b.Int64s(b.Fresh("axis"), []int64{axis}, 1)})
			}
			v = b.Node("Concat", []string{part(hw-k, hw), part(0, hw-k)}, Int("axis", int(axis)))
		}
		return v
	}
	y := ln(x)
	if shift > 0 {
		y = roll(y, -shift)
	}
	g, w := int64(grid), int64(window)
	y = shape(b.Node("Transpose", []string{shape(y, -1, g, w, g, w, int64(c))}, Ints("perm", 0, 1, 3, 2, 4, 5)), -1, int64(tokens), int64(c))
	qkv := b.Node("Transpose", []string{shape(linear(y, c, 3*c), -1, int64(tokens), 3, int64(heads), int64(dh))}, Ints("perm", 2, 0, 3, 1, 4))
	pick := func(i int64) string {
		return b.Node("Gather", []string{qkv, b.Int64s(b.Fresh("index"), []int64{i})}, Int("axis", 0))
	}
	q := b.Node("Mul", []string{pick(0), b.Const(b.Fresh("scale"), []float32{float32(1 / math.Sqrt(float64(dh)))})})
	attn := b.Node("MatMul", []string{q, b.Node("Transpose", []string{pick(1)}, Ints("perm", 0, 1, 3, 2))})
	attn = b.Node("Add", []string{attn, b.Normal(b.Fresh("relative_position_bias"), 0, 0.5, heads, tokens, tokens)})
	if shift > 0 {
		attn = shape(attn, -1, int64(grid*grid), int64(heads), int64(tokens), int64(tokens))
		attn = b.Node("Add", []string{attn, b.Const(b.Fresh("attn_mask"), swinMask(hw, window, shift), 1, grid*grid, 1, tokens, tokens)})
		attn = shape(attn, -1, int64(heads), int64(tokens), int64(tokens))
	}
	attn = b.Node("Softmax", []string{attn}, Int("axis", -1))
	o := b.Node("Transpose", []string{b.Node("MatMul", []string{attn, pick(2)})}, Ints("perm", 0, 2, 1, 3))
	o = linear(shape(o, -1, int64(tokens), int64(c)), c, c)
	o = shape(b.Node("Transpose", []string{shape(o, -1, g, g, w, w, int64(c))}, Ints("perm", 0, 1, 3, 2, 4, 5)), -1, int64(hw), int64(hw), int64(c))
	if shift > 0 {
		o = roll(o, shift)
	}
	x = b.Node("Add", []string{x, o})
	return b.Node("Add", []string{x, linear(b.Gelu(linear(ln(x), c, 4*c)), 4*c, c)})
}

// swinMask is a shifted window attention's mask, [windows, tokens,
// tokens]: −100 between tokens from different regions of the shifted
// image, 0 within one, as torchvision computes it.
func swinMask(hw, window, shift int) []float32 {
	region := func(i int) int { // of a row or column of the shifted image
		switch {
		case i < hw-window:
			return 0
		case i < hw-shift:
			return 1
		}
		return 2
	}
	grid, tokens := hw/window, window*window
	mask := make([]float32, 0, grid*grid*tokens*tokens)
	label := func(win, t int) int {
		r, c := win/grid*window+t/window, win%grid*window+t%window
		return 3*region(r) + region(c)
	}
	for win := range grid * grid {
		for i := range tokens {
			for j := range tokens {
				v := float32(0)
				if label(win, i) != label(win, j) {
					v = -100
				}
				mask = append(mask, v)
			}
		}
	}
	return mask
}
