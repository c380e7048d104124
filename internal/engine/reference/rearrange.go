package reference

// Rearrangements of elements, each computed element by element from its
// definition, apart from how the engine plans it.

// depthToSpace moves blocks of bs×bs channels into bs×bs pixels
// (DepthToSpace, in its DCR or CRD order) or back (toDepth, SpaceToDepth,
// whose order is DCR's), element by element as the operators' definitions
// say: output channel co at (y, x) of DepthToSpace is input channel
// (by·bs + bx)·C' + co (DCR) or co·bs² + by·bs + bx (CRD) at (y/bs, x/bs),
// with by = y mod bs and bx = x mod bs.
func depthToSpace(x Tensor, bs int, crd, toDepth bool) Tensor {
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	// The space side is [n, cs, hs, ws], the depth side [n, cs·bs², hs/bs, ws/bs].
	cs, hs, ws := c/(bs*bs), h*bs, w*bs
	if toDepth {
		cs, hs, ws = c, h, w
	}
	hd, wd := hs/bs, ws/bs
	space := func(b, co, y, xx int) int { return ((b*cs+co)*hs+y)*ws + xx }
	depth := func(b, co, y, xx int) int {
		by, bx := y%bs, xx%bs
		ci := (by*bs+bx)*cs + co
		if crd {
			ci = co*bs*bs + by*bs + bx
		}
		return ((b*cs*bs*bs+ci)*hd+y/bs)*wd + xx/bs
	}
	y := Tensor{Shape: []int{n, cs, hs, ws}, Data: make([]float32, len(x.Data))}
	if toDepth {
		y.Shape = []int{n, cs * bs * bs, hd, wd}
	}
	for b := range n {
		for co := range cs {
			for i := range hs {
				for j := range ws {
					if toDepth {
						y.Data[depth(b, co, i, j)] = x.Data[space(b, co, i, j)]
					} else {
						y.Data[space(b, co, i, j)] = x.Data[depth(b, co, i, j)]
					}
				}
			}
		}
	}
	return y
}

// tile repeats x reps[d] times along each axis d: y[i] = x[i mod shape].
func tile(x Tensor, reps []int64) Tensor {
	shape := make([]int, len(x.Shape))
	for d, n := range x.Shape {
		shape[d] = n * int(reps[d])
	}
	y := newTensor(shape...)
	idx := make([]int, len(shape))
	for i := range y.Data {
		o := 0
		for d, n := range x.Shape {
			o = o*n + idx[d]%n
		}
		y.Data[i] = x.Data[o]
		for d := len(shape) - 1; d >= 0; d-- { // next index, last axis fastest
			if idx[d]++; idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return y
}
