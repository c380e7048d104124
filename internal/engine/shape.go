package engine

import "slices"

// infer computes the shape of every value at batch size batch, checking
// each node's operands.
func (m *Model) infer(batch int) ([][]int, error) { return m.inferFrom(batch, nil, 0) }

// inferFrom extends shapes, the shapes at batch size batch of the values
// that existed when nodes[:from] had been inferred, to the values added
// since and the outputs of nodes[from:]. The import infers the graph so
// far this way, each node once, when a Shape node needs a shape.
func (m *Model) inferFrom(batch int, shapes [][]int, from int) ([][]int, error) {
	known := len(shapes)
	shapes = append(shapes, make([][]int, len(m.values)-known)...)
	for i := known; i < len(m.values); i++ {
		switch v := &m.values[i]; v.kind {
		case valInput:
			shapes[i] = append([]int{batch}, m.Inputs[v.input].Shape...)
		case valConst:
			if v.c != nil {
				shapes[i] = v.c.dims
			}
		}
	}
	for i := from; i < len(m.nodes); i++ {
		n := &m.nodes[i]
		if n.dead {
			continue
		}
		in := make([][]int, len(n.in))
		for j, v := range n.in {
			if v >= 0 {
				in[j] = shapes[v]
			}
		}
		s, err := n.outShape(in, batch)
		if err != nil {
			return nil, err
		}
		if _, ok := checkedElems(s); !ok {
			return nil, nodeErrorf(n.op, n.name, "output shape %v is too large", s)
		}
		shapes[n.out] = s
	}
	return shapes, nil
}

func (n *node) errorf(format string, args ...any) error {
	return nodeErrorf(n.op, n.name, format, args...)
}

// outShape checks a node's input shapes at batch size batch and returns
// its output shape.
func (n *node) outShape(in [][]int, batch int) ([]int, error) {
	if n.lifted {
		return n.liftedShape(in, batch)
	}
	return n.shape2D(in, batch)
}

// shape2D is outShape of a node that is not lifted, or of a lifted one's
// lifted inputs.
func (n *node) shape2D(in [][]int, batch int) ([]int, error) {
	x := in[0]
	switch n.kind {
	case nConv:
		g, err := n.convGeom(x, in[1])
		if err != nil {
			return nil, err
		}
		y := []int{x[0], in[1][0], g.oh, g.ow}
		if z := in[3]; z != nil && !equalShapes(z, y) {
			return nil, n.errorf("residual input has shape %v, want %v", z, y)
		}
		return y, nil
	case nPool:
		g, err := n.poolGeom(x)
		if err != nil {
			return nil, err
		}
		return []int{x[0], x[1], g.oh, g.ow}, nil
	case nGlobalPool:
		k, err := n.meanFrom(x)
		if err != nil {
			return nil, err
		}
		y := slices.Clone(x[:k])
		if !n.squeeze {
			for range x[k:] {
				y = append(y, 1)
			}
		}
		return y, nil
	case nGemm:
		g, err := n.gemmGeom(in)
		if err != nil {
			return nil, err
		}
		return g.y, nil
	case nBatchMatMul:
		g, err := n.bmmGeom(in)
		return g.y, err
	case nExpand:
		return n.expandShape(x, batch)
	case nConvTranspose:
		g, err := n.deconvGeom(x, in[1])
		if err != nil {
			return nil, err
		}
		return []int{x[0], in[1][1] * n.conv.group, g.oh, g.ow}, nil
	case nLRN:
		if len(x) < 3 {
			return nil, n.errorf("input has shape %v, want [N, C, spatial...]", x)
		}
		return x, nil
	case nResize:
		g := n.resize
		if len(x) != 4 || x[2] != g.h || x[3] != g.w {
			return nil, n.errorf("input has shape %v, want [N, C, %d, %d]", x, g.h, g.w)
		}
		return []int{x[0], x[1], g.oh, g.ow}, nil
	case nBinary:
		y, ok := broadcastShape(in[0], in[1])
		if !ok {
			return nil, n.errorf("shapes %v and %v do not broadcast", in[0], in[1])
		}
		return y, nil
	case nAffine:
		if len(x) < 2 || x[1] != in[1][0] {
			return nil, n.errorf("input has shape %v, want [N, %d, ...]", x, in[1][0])
		}
		return x, nil
	case nActivate:
		return x, nil
	case nConcat:
		return n.concatShape(in)
	case nSoftmax:
		if _, err := normAxis(n, n.axis, len(x)); err != nil {
			return nil, err
		}
		return x, nil
	case nLayerNorm:
		axis, err := n.normAxis(x)
		if err != nil {
			return nil, err
		}
		for i, c := range in[1:] {
			if c != nil && numElems(c) != numElems(x[axis:]) {
				return nil, n.errorf("input %d has shape %v, want %d elements as X%v from axis %d", i+1, c, numElems(x[axis:]), x, axis)
			}
		}
		return x, nil
	case nPad:
		begin, end, err := n.padEnds(x)
		if err != nil {
			return nil, err
		}
		if _, _, _, _, err := n.padPlanes(x); err != nil {
			return nil, err
		}
		y := slices.Clone(x)
		for d := range y {
			y[d] += begin[d] + end[d]
		}
		return y, nil
	case nSlice:
		_, _, _, y, err := n.sliceGeom(x)
		return y, err
	case nTranspose:
		perm, err := n.permFor(len(x))
		if err != nil {
			return nil, err
		}
		return permuted(x, perm), nil
	case nView:
		return n.viewShape(x, batch)
	}
	return nil, n.errorf("internal error: unknown node kind %d", n.kind)
}

// normAxis is a LayerNormalization's first normalised axis of x. The
// batch axis may not be one of them: each item is normalised alone.
func (n *node) normAxis(x []int) (int, error) {
	axis, err := normAxis(n, n.axis, len(x))
	if err == nil && axis == 0 {
		err = n.errorf("normalising over the batch axis (axis %d of %v) is not supported", n.axis, x)
	}
	return axis, err
}

func normAxis(n *node, axis, rank int) (int, error) {
	if axis < -rank || axis >= rank {
		return 0, n.errorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}

// geom is the resolved geometry of a convolution or pooling window.
type geom struct {
	oh, ow                               int
	padTop, padLeft, padBottom, padRight int
}

func (n *node) convGeom(x, w []int) (geom, error) {
	p := &n.conv
	if len(x) != 4 {
		return geom{}, n.errorf("input has shape %v: a 2-D convolution (weights %v) takes [N, C, H, W]", x, w)
	}
	if w[1]*p.group != x[1] || w[0]%p.group != 0 {
		return geom{}, n.errorf("weights %v with group %d do not match input %v", w, p.group, x)
	}
	if p.kernel != nil && (p.kernel[0] != w[2] || p.kernel[1] != w[3]) {
		return geom{}, n.errorf("kernel_shape %v does not match weights %v", p.kernel, w)
	}
	return windowGeom(n, x, [2]int{w[2], w[3]}, p.strides, p.dilations, p.pads, p.autoPad, false)
}

func (n *node) poolGeom(x []int) (geom, error) {
	p := &n.pool
	if len(x) != 4 {
		return geom{}, n.errorf("input has shape %v: a 2-D pool (kernel_shape of two values) takes [N, C, H, W]", x)
	}
	return windowGeom(n, x, p.kernel, p.strides, p.dilations, p.pads, p.autoPad, p.ceil)
}

func windowGeom(n *node, x []int, k, s, d [2]int, pads [4]int, autoPad string, ceil bool) (geom, error) {
	var g geom
	var err error
	if g.oh, g.padTop, g.padBottom, err = window1(x[2], k[0], s[0], d[0], pads[0], pads[2], autoPad, ceil); err != nil {
		return g, n.errorf("height: %v", err)
	}
	if g.ow, g.padLeft, g.padRight, err = window1(x[3], k[1], s[1], d[1], pads[1], pads[3], autoPad, ceil); err != nil {
		return g, n.errorf("width: %v", err)
	}
	return g, nil
}

// window1 computes one spatial dimension's output size and padding.
func window1(in, k, stride, dil, padBegin, padEnd int, autoPad string, ceil bool) (out, pb, pe int, err error) {
	ek := dil*(k-1) + 1
	switch autoPad {
	case "VALID":
		if in < ek {
			return 0, 0, 0, errorf("window %d larger than input %d", ek, in)
		}
		return (in-ek)/stride + 1, 0, 0, nil
	case "SAME_UPPER", "SAME_LOWER":
		out = (in + stride - 1) / stride
		total := max(0, (out-1)*stride+ek-in)
		pb = total / 2
		if autoPad == "SAME_LOWER" {
			pb = total - total/2
		}
		return out, pb, total - pb, nil
	}
	span := in + padBegin + padEnd - ek
	if span < 0 {
		return 0, 0, 0, errorf("window %d larger than padded input %d", ek, in+padBegin+padEnd)
	}
	if !ceil {
		return span/stride + 1, padBegin, padEnd, nil
	}
	out = (span+stride-1)/stride + 1
	if (out-1)*stride >= in+padBegin {
		out-- // the last window would start in the end padding
	}
	return out, padBegin, padEnd, nil
}

// bmmShape is the resolved geometry of a MatMul of two computed tensors:
// batch products of m×k by k×n matrices, A's and B's strideA and strideB
// elements apart (0 where one matrix serves them all).
type bmmShape struct {
	batch, m, n, k   int
	strideA, strideB int
	y                []int
}

// bmmGeom follows numpy's matmul for operands of rank ≥ 2 whose batch
// dimensions (all but the last two) are equal, or one side's all 1.
func (n *node) bmmGeom(in [][]int) (bmmShape, error) {
	a, b := in[0], in[1]
	var g bmmShape
	if len(a) < 2 || len(b) < 2 {
		return g, n.errorf("a MatMul of %v and %v: only operands of rank ≥ 2 are supported", a, b)
	}
	g.m, g.k, g.n = a[len(a)-2], a[len(a)-1], b[len(b)-1]
	kb := b[len(b)-2]
	if n.gemm.transB {
		g.n, kb = kb, g.n
	}
	if kb != g.k {
		return g, n.errorf("shapes %v and %v (transB=%v) do not multiply", a, b, n.gemm.transB)
	}
	ba, bb := a[:len(a)-2], b[:len(b)-2]
	batch, ok := broadcastShape(ba, bb)
	if !ok || !equalShapes(ba, bb) && numElems(ba) != 1 && numElems(bb) != 1 {
		return g, n.errorf("a MatMul of %v and %v: only equal batch dimensions, or one side's all 1, are supported", a, b)
	}
	g.batch = numElems(batch)
	if numElems(ba) > 1 {
		g.strideA = g.m * g.k
	}
	if numElems(bb) > 1 {
		g.strideB = g.k * g.n
	}
	g.y = append(batch, g.m, g.n)
	return g, nil
}

// gemmShape is the resolved geometry of a Gemm or MatMul.
type gemmShape struct {
	m, n, k    int
	y          []int
	cRow, cCol int // element strides of C over Y, 0 to broadcast
}

func (n *node) gemmGeom(in [][]int) (gemmShape, error) {
	a, b := in[0], in[1]
	p := &n.gemm
	var g gemmShape
	if len(b) != 2 {
		return g, n.errorf("B has shape %v: only 2-D B is supported", b)
	}
	if p.matmul {
		if len(a) < 2 {
			return g, n.errorf("A has shape %v: want rank ≥ 2", a)
		}
		g.k = a[len(a)-1]
		g.m = numElems(a[:len(a)-1])
		g.n = b[1]
		if b[0] != g.k {
			return g, n.errorf("shapes %v and %v do not multiply", a, b)
		}
		g.y = append(append([]int{}, a[:len(a)-1]...), g.n)
	} else {
		if len(a) != 2 {
			return g, n.errorf("A has shape %v: want rank 2", a)
		}
		g.m, g.k = a[0], a[1]
		if p.transA {
			g.m, g.k = a[1], a[0]
		}
		kb, nb := b[0], b[1]
		if p.transB {
			kb, nb = b[1], b[0]
		}
		if kb != g.k {
			return g, n.errorf("shapes %v and %v (transA=%v, transB=%v) do not multiply", a, b, p.transA, p.transB)
		}
		g.n = nb
		g.y = []int{g.m, g.n}
	}
	if len(in) > 2 && in[2] != nil {
		c := in[2]
		if len(c) > 2 {
			return g, n.errorf("C has shape %v, does not broadcast to [%d, %d]", c, g.m, g.n)
		}
		cm, cn := 1, 1
		if len(c) == 2 {
			cm, cn = c[0], c[1]
		} else if len(c) == 1 {
			cn = c[0]
		}
		switch {
		case cn == g.n:
			g.cCol = 1
		case cn != 1:
			return g, n.errorf("C has shape %v, does not broadcast to [%d, %d]", c, g.m, g.n)
		}
		switch {
		case cm == g.m:
			g.cRow = cn
		case cm != 1:
			return g, n.errorf("C has shape %v, does not broadcast to [%d, %d]", c, g.m, g.n)
		}
		if g.m == 1 {
			g.cRow = 0
		}
		if g.n == 1 {
			g.cCol = 0
		}
	}
	return g, nil
}

func (n *node) concatShape(in [][]int) ([]int, error) {
	x := in[0]
	axis, err := normAxis(n, n.axis, len(x))
	if err != nil {
		return nil, err
	}
	y := append([]int{}, x...)
	for _, s := range in[1:] {
		if len(s) != len(x) {
			return nil, n.errorf("inputs have shapes %v and %v", x, s)
		}
		for d := range s {
			if d != axis && s[d] != x[d] {
				return nil, n.errorf("inputs have shapes %v and %v", x, s)
			}
		}
		y[axis] += s[axis]
	}
	return y, nil
}

// target is a Reshape's or Expand's target shape at batch size batch;
// batch < 0 for a constant.
func (n *node) target(batch int) ([]int, error) {
	if n.shapeBatch == nil {
		return n.shape, nil
	}
	if batch < 0 {
		return nil, n.errorf("reshapes a constant to a shape that depends on the batch size")
	}
	target := make([]int, len(n.shape))
	for i, d := range n.shape {
		target[i] = d + n.shapeBatch[i]*batch
	}
	return target, nil
}

// expandShape is an Expand's output shape for input shape x.
func (n *node) expandShape(x []int, batch int) ([]int, error) {
	target, err := n.target(batch)
	if err != nil {
		return nil, err
	}
	for _, d := range target {
		if d < 1 {
			return nil, n.errorf("invalid shape %v to expand %v to", target, x)
		}
	}
	y, ok := broadcastShape(x, target)
	if !ok {
		return nil, n.errorf("shape %v does not expand to %v", x, target)
	}
	return y, nil
}

// viewShape is a view's output shape for input shape x at batch size
// batch; batch < 0 for a constant, which no batch size reshapes.
func (n *node) viewShape(x []int, batch int) ([]int, error) {
	switch n.view {
	case viewFlatten:
		axis := n.axis
		if axis < -len(x) || axis > len(x) {
			return nil, n.errorf("axis %d out of range for rank %d", axis, len(x))
		}
		if axis < 0 {
			axis += len(x)
		}
		return []int{numElems(x[:axis]), numElems(x[axis:])}, nil
	case viewReshape:
		target, err := n.target(batch)
		if err != nil {
			return nil, err
		}
		return reshape(n, x, target, n.zero)
	case viewSqueeze:
		return n.squeezeShape(x)
	case viewUnsqueeze:
		return n.unsqueezeShape(x)
	}
	return x, nil
}

// squeezeShape drops the axes of x that n.axes names, each of size 1.
func (n *node) squeezeShape(x []int) ([]int, error) {
	drop := make([]bool, len(x))
	for _, a := range n.axes {
		i, err := normAxis(n, a, len(x))
		if err != nil {
			return nil, err
		}
		if x[i] != 1 || drop[i] {
			return nil, n.errorf("cannot squeeze axis %d of shape %v", a, x)
		}
		drop[i] = true
	}
	var y []int
	for i, d := range x {
		if !drop[i] {
			y = append(y, d)
		}
	}
	return y, nil
}

// unsqueezeShape inserts an axis of size 1 into x at each of n.axes,
// which count in the output's rank.
func (n *node) unsqueezeShape(x []int) ([]int, error) {
	rank := len(x) + len(n.axes)
	ones := make([]bool, rank)
	for _, a := range n.axes {
		i, err := normAxis(n, a, rank)
		if err != nil {
			return nil, err
		}
		if ones[i] {
			return nil, n.errorf("axis %d given twice", a)
		}
		ones[i] = true
	}
	y := make([]int, rank)
	j := 0
	for i := range y {
		y[i] = 1
		if !ones[i] {
			y[i] = x[j]
			j++
		}
	}
	return y, nil
}

// reshape resolves a Reshape target against the input shape.
func reshape(n *node, x, target []int, allowZero bool) ([]int, error) {
	y := make([]int, len(target))
	infer := -1
	known := 1
	for i, d := range target {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, n.errorf("shape %v has more than one -1", target)
			}
			infer = i
			continue
		case d < -1:
			return nil, n.errorf("invalid shape value %d in %v", d, target)
		case d == 0 && !allowZero:
			if i >= len(x) {
				return nil, n.errorf("shape %v copies dimension %d of input %v", target, i, x)
			}
			d = x[i]
		}
		y[i] = d
		if d > 0 && known > maxElems/d {
			return nil, n.errorf("shape %v is too large", target)
		}
		known *= d
	}
	total := numElems(x)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, n.errorf("cannot reshape %v into %v", x, target)
		}
		y[infer] = total / known
		known = total
	}
	if known != total {
		return nil, n.errorf("cannot reshape %v into %v", x, target)
	}
	return y, nil
}

// broadcastShape is the numpy broadcast of a and b.
func broadcastShape(a, b []int) ([]int, bool) {
	r := max(len(a), len(b))
	y := make([]int, r)
	for i := range y {
		da, db := dimFromRight(a, r-1-i), dimFromRight(b, r-1-i)
		switch {
		case da == db || db == 1:
			y[i] = da
		case da == 1:
			y[i] = db
		default:
			return nil, false
		}
	}
	return y, true
}

// dimFromRight is dimension i counted from the right, 1 if a is shorter.
func dimFromRight(a []int, i int) int {
	if i >= len(a) {
		return 1
	}
	return a[len(a)-1-i]
}

// broadcastStrides merges Y's dimensions for a Binary op and gives each
// operand's element strides over them (see Binary).
func broadcastStrides(a, b, y []int) (dims, sa, sb []int) {
	r := len(y)
	strides := func(s []int) []int {
		st := make([]int, r)
		acc := 1
		for i := r - 1; i >= 0; i-- {
			d := dimFromRight(s, r-1-i)
			if d != 1 {
				st[i] = acc
			}
			acc *= d
		}
		return st
	}
	return mergeDims(y, strides(a), strides(b))
}

// rowMajorStrides are the element strides of a dense tensor of shape x.
func rowMajorStrides(x []int) []int {
	st := make([]int, len(x))
	acc := 1
	for i := len(x) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= x[i]
	}
	return st
}

// mergeDims drops Y's dimensions of size 1 and merges each dimension into
// the one before it where both operands' strides (fa, fb) continue
// across them.
func mergeDims(y, fa, fb []int) (dims, sa, sb []int) {
	r := len(y)
	for i := 0; i < r; i++ {
		if y[i] == 1 {
			continue
		}
		k := len(dims) - 1
		if k >= 0 && sa[k] == fa[i]*y[i] && sb[k] == fb[i]*y[i] {
			dims[k] *= y[i]
			sa[k], sb[k] = fa[i], fb[i]
			continue
		}
		dims, sa, sb = append(dims, y[i]), append(sa, fa[i]), append(sb, fb[i])
	}
	if len(dims) == 0 {
		return []int{1}, []int{0}, []int{0}
	}
	return dims, sa, sb
}

// meanFrom is the first axis a global pool or a reduction pools x over:
// the spatial axes (from 2), or the reduction's axes, which reduceLast
// made the last ones (from 1 at most: each item is pooled alone).
func (n *node) meanFrom(x []int) (int, error) {
	r := len(x)
	if n.axes == nil {
		if r < 3 {
			return 0, n.errorf("input has shape %v, want [N, C, spatial...]", x)
		}
		return 2, nil
	}
	seen := make([]bool, r)
	k := r
	for _, a := range n.axes {
		if a < 0 {
			a += r
		}
		if a < 0 || a >= r || seen[a] {
			k = -1
			break
		}
		seen[a] = true
		k = min(k, a)
	}
	if k < 1 || len(n.axes) != r-k {
		return 0, n.errorf("a mean over axes %v of a rank-%d input: only over the last axes, not the batch axis, is supported", n.axes, r)
	}
	return k, nil
}

// padEnds is a Pad's zeros before and after each axis of x.
func (n *node) padEnds(x []int) (begin, end []int, err error) {
	r := len(x)
	axes := n.axes
	if axes == nil {
		for a := range r {
			axes = append(axes, a)
		}
	}
	if len(n.pads) != 2*len(axes) {
		return nil, nil, n.errorf("pads %v for %d axes", n.pads, len(axes))
	}
	begin, end = make([]int, r), make([]int, r)
	seen := make([]bool, r)
	for i, a := range axes {
		d, err := normAxis(n, a, r)
		if err != nil {
			return nil, nil, err
		}
		if seen[d] {
			return nil, nil, n.errorf("axis %d given twice", a)
		}
		seen[d] = true
		begin[d], end[d] = n.pads[i], n.pads[len(axes)+i]
		if begin[d] < 0 || end[d] < 0 {
			return nil, nil, n.errorf("negative pads %v (cropping) are not supported", n.pads)
		}
	}
	if r > 0 && begin[0]+end[0] != 0 {
		return nil, nil, n.errorf("pads %v pad the batch axis", n.pads)
	}
	return begin, end, nil
}

// padGeom is a Pad's padding of an input of shape x as top, left, bottom
// and right where it pads the spatial axes of [N, C, H, W] or [N, C, L]
// alone, the padding a convolution after it can take (fusePads).
func (n *node) padGeom(x []int) ([4]int, error) {
	begin, end, err := n.padEnds(x)
	if err != nil {
		return [4]int{}, err
	}
	switch {
	case len(x) != 3 && len(x) != 4 || begin[1]+end[1] != 0:
		return [4]int{}, n.errorf("pads %v of a rank-%d input: not the spatial axes of [N, C, H, W] or [N, C, L] alone", n.pads, len(x))
	case len(x) == 3: // a causal Conv1d's F.pad, say: the pad of height 1 (spatial.go)
		return [4]int{0, begin[2], 0, end[2]}, nil
	}
	return [4]int{begin[2], begin[3], end[2], end[3]}, nil
}

// padPlanes is how the Pad op computes a Pad of x: as planes of [outer,
// h, w], its two padded axes, or one with h = 1, the axes after them
// merged into w (so that padding W of NHWC pads W·C by multiples of C).
// Axes of size 1 may stand between the two; others may not.
func (n *node) padPlanes(x []int) (outer, h, w int, g [4]int, err error) {
	begin, end, err := n.padEnds(x)
	if err != nil {
		return 0, 0, 0, g, err
	}
	var padded []int
	for d := range x {
		if begin[d]+end[d] > 0 {
			padded = append(padded, d)
		}
	}
	if len(padded) == 0 {
		return numElems(x), 1, 1, g, nil
	}
	a2 := padded[len(padded)-1]
	a1 := a2
	if len(padded) > 1 {
		a1 = padded[len(padded)-2]
	}
	if len(padded) > 2 || a1 < a2 && numElems(x[a1+1:a2]) != 1 {
		return 0, 0, 0, g, n.errorf("pads %v of %v: only two axes, with none but axes of size 1 between them, can be padded", n.pads, x)
	}
	inner := numElems(x[a2+1:])
	h, w = 1, x[a2]*inner
	g[1], g[3] = begin[a2]*inner, end[a2]*inner
	if a1 < a2 {
		h, g[0], g[2] = x[a1], begin[a1], end[a1]
	}
	return numElems(x[:a1]), h, w, g, nil
}
