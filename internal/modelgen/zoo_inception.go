package modelgen

// inceptionV3 follows torchvision's Inception v3 on 299×299 inputs,
// without the auxiliary classifier (which only training runs): every
// convolution a BasicConv2d (no bias, batch norm of epsilon 0.001, ReLU),
// the 7×7 and 3×3 factorised into 1×7 and 7×1, 1×3 and 3×1.
func inceptionV3(b *Builder) {
	b.bnEpsilon = 1e-3
	basic := func(x string, cin, cout int, k [2]int, stride int, pad [2]int) string {
		return b.relu(b.bn(b.convRect(x, cin, cout, k, stride, pad, 1, false), cout, 0.5, 1.5))
	}
	one := func(x string, cin, cout int) string { return basic(x, cin, cout, [2]int{1, 1}, 1, [2]int{}) }
	square := func(x string, cin, cout, k, stride, pad int) string {
		return basic(x, cin, cout, [2]int{k, k}, stride, [2]int{pad, pad})
	}
	row := func(x string, cin, cout, k int) string { return basic(x, cin, cout, [2]int{1, k}, 1, [2]int{0, k / 2}) }
	col := func(x string, cin, cout, k int) string { return basic(x, cin, cout, [2]int{k, 1}, 1, [2]int{k / 2, 0}) }
	avg := func(x string) string { return b.avgPool(x, 3, 1, 1, true) }
	cat := func(xs ...string) string { return b.Node("Concat", xs, Int("axis", 1)) }

	a := func(x string, cin, pool int) string { // InceptionA
		b5 := square(one(x, cin, 48), 48, 64, 5, 1, 2)
		b3 := square(square(one(x, cin, 64), 64, 96, 3, 1, 1), 96, 96, 3, 1, 1)
		return cat(one(x, cin, 64), b5, b3, one(avg(x), cin, pool))
	}
	reduceB := func(x string, cin int) string { // InceptionB
		b3 := square(x, cin, 384, 3, 2, 0)
		d := square(square(one(x, cin, 64), 64, 96, 3, 1, 1), 96, 96, 3, 2, 0)
		return cat(b3, d, b.maxPool(x, 3, 2, 0))
	}
	c := func(x string, c7 int) string { // InceptionC
		b7 := col(row(one(x, 768, c7), c7, c7, 7), c7, 192, 7)
		d := row(col(row(col(one(x, 768, c7), c7, c7, 7), c7, c7, 7), c7, c7, 7), c7, 192, 7)
		return cat(one(x, 768, 192), b7, d, one(avg(x), 768, 192))
	}
	reduceD := func(x string) string { // InceptionD
		b3 := square(one(x, 768, 192), 192, 320, 3, 2, 0)
		b7 := square(col(row(one(x, 768, 192), 192, 192, 7), 192, 192, 7), 192, 192, 3, 2, 0)
		return cat(b3, b7, b.maxPool(x, 3, 2, 0))
	}
	e := func(x string, cin int) string { // InceptionE
		b3 := one(x, cin, 384)
		d := square(one(x, cin, 448), 448, 384, 3, 1, 1)
		return cat(one(x, cin, 320),
			cat(row(b3, 384, 384, 3), col(b3, 384, 384, 3)),
			cat(row(d, 384, 384, 3), col(d, 384, 384, 3)),
			one(avg(x), cin, 192))
	}

	x := b.Input("input", 3, 299, 299)
	x = square(x, 3, 32, 3, 2, 0)
	x = square(x, 32, 32, 3, 1, 0)
	x = b.maxPool(square(x, 32, 64, 3, 1, 1), 3, 2, 0)
	x = b.maxPool(square(one(x, 64, 80), 80, 192, 3, 1, 0), 3, 2, 0) // 192×35×35
	x = a(a(a(x, 192, 32), 256, 64), 288, 64)
	x = reduceB(x, 288) // 768×17×17
	x = c(c(c(c(x, 128), 160), 160), 192)
	x = reduceD(x) // 1280×8×8
	x = e(e(x, 1280), 2048)
	g := b.Node("GlobalAveragePool", []string{x})
	f := b.Node("Dropout", []string{b.Node("Flatten", []string{g}, Int("axis", 1))})
	b.finish(b.fc(f, 2048, 1000), 1000)
}
