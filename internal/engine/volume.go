package engine

import "fmt"

// 3-D convolutions and pools of [N, C, D, H, W] (video models: R3D, MC3,
// R(2+1)D, S3D) are computed by the 2-D ops every runtime already has.
//
// A pool is separable: the maximum over a box, or the sum and the count a
// mean divides by, is that over its depth of that over its plane. So it
// is the 2-D pool of every frame ([N, C·D, H, W], a view), then a pool of
// the depth as the height of [N, C, D, OH·OW] (a kernel of [kd, 1]): two
// pools, and views between them.
//
// A convolution is not. Its output frame t is the sum, over the kernel's
// depth k, of the 2-D convolution of input frame t·sd − pd + k·dd by the
// weights' slice k. So the input is transposed to [N, D, C, H, W] and
// padded in D; for each k, the frames that slice reads are a strided copy,
// [N·OD, C, H, W], convolved with the sum so far as the convolution's
// residual; the sum, [N, OD, M, OH, OW], is transposed back. The
// multiply-adds are the 3-D convolution's; the copies are the price, less
// where one 3-D convolution feeds the next (composeTransposes cancels the
// transposes between them).

// volumeAxis is a 3-D window's geometry along one axis.
type volumeAxis struct{ k, s, d, p0, p1 int }

// volumeAxes reads a 3-D window's strides, dilations and pads for its
// kernel ([D, H, W] each), and auto_pad, the depth's SAME pads worked out
// for an input of depth D (the 2-D ops work out the plane's).
func (r *nodeReader) volumeAxes(kernel []int, depth int) (ax [3]volumeAxis, autoPad string, err error) {
	a := r.a
	strides, err := a.ints("strides", 3, 1, maxDim)
	if err != nil {
		return ax, "", err
	}
	dilations, err := a.ints("dilations", 3, 1, maxDim)
	if err != nil {
		return ax, "", err
	}
	pads, err := a.ints("pads", 6, 0, maxDim)
	if err != nil {
		return ax, "", err
	}
	if autoPad, err = a.str("auto_pad", "NOTSET"); err != nil {
		return ax, "", err
	}
	switch autoPad {
	case "NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER":
	default:
		return ax, "", r.errorf("invalid auto_pad %q", autoPad)
	}
	if autoPad != "NOTSET" && pads != nil {
		return ax, "", r.errorf("pads given with auto_pad %s", autoPad)
	}
	for i := range ax {
		ax[i] = volumeAxis{k: kernel[i], s: 1, d: 1}
		if strides != nil {
			ax[i].s = strides[i]
		}
		if dilations != nil {
			ax[i].d = dilations[i]
		}
		if pads != nil {
			ax[i].p0, ax[i].p1 = pads[i], pads[i+3]
		}
	}
	if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
		d := &ax[0]
		out := (depth + d.s - 1) / d.s
		total := max(0, (out-1)*d.s+(d.k-1)*d.d+1-depth)
		d.p0 = total / 2
		if autoPad == "SAME_LOWER" {
			d.p0 = total - total/2
		}
		d.p1 = total - d.p0
	}
	return ax, autoPad, nil
}

// volumePool reads a MaxPool or AveragePool of kernel k [kd, kh, kw]
// whose mode, ceil and count_include_pad p holds.
func (r *nodeReader) volumePool(n *node, p poolParams, k []int) error {
	x, s, err := r.requiredShapes(0)
	if err != nil {
		return err
	}
	if len(s[0]) != 5 {
		return r.errorf("input has shape %v, want [N, C, D, H, W]", s[0])
	}
	c, depth := s[0][1], s[0][2]
	ax, autoPad, err := r.volumeAxes(k, depth)
	if err != nil {
		return err
	}
	// Both 2-D pools work out their own pads for auto_pad, the depth's as
	// the second's height.
	p.autoPad = autoPad
	frames := r.addBefore(node{kind: nView, view: viewReshape, shape: []int{0, c * depth, s[0][3], s[0][4]}, in: []int{x}}, "frames")
	plane := p
	plane.kernel, plane.strides, plane.dilations = [2]int{ax[1].k, ax[2].k}, [2]int{ax[1].s, ax[2].s}, [2]int{ax[1].d, ax[2].d}
	plane.pads = [4]int{ax[1].p0, ax[2].p0, ax[1].p1, ax[2].p1}
	pooled := r.addBefore(node{kind: nPool, pool: plane, in: []int{frames}}, "frames pooled")
	ps, err := r.b.shapesOf(pooled)
	if err != nil {
		return err
	}
	oh, ow := ps[0][2], ps[0][3]
	rows := r.addBefore(node{kind: nView, view: viewReshape, shape: []int{0, c, depth, oh * ow}, in: []int{pooled}}, "depth as rows")
	deep := p
	deep.kernel, deep.strides, deep.dilations = [2]int{ax[0].k, 1}, [2]int{ax[0].s, 1}, [2]int{ax[0].d, 1}
	if autoPad == "NOTSET" {
		deep.pads = [4]int{ax[0].p0, 0, ax[0].p1, 0}
	}
	out := r.addBefore(node{kind: nPool, pool: deep, in: []int{rows}}, "depth pooled")
	os, err := r.b.shapesOf(out)
	if err != nil {
		return err
	}
	n.become(node{kind: nView, view: viewReshape, shape: []int{0, c, os[0][2], oh, ow}, in: []int{out}})
	return nil
}

// volumeConv reads a Conv whose weights w (the value wv) are [M, C/group,
// kd, kh, kw].
func (r *nodeReader) volumeConv(n *node, w *tensor, wv int) error {
	if err := r.inputs(2, 3); err != nil {
		return err
	}
	x, s, err := r.requiredShapes(0)
	if err != nil {
		return err
	}
	group, err := r.a.int("group", 1, 1, maxGroup)
	if err != nil {
		return err
	}
	bias, bv, err := r.floatConst(2, 1)
	if err != nil {
		return err
	}
	if bias != nil && bias.dims[0] != w.dims[0] {
		return r.errorf("bias has shape %v, want [%d]", bias.dims, w.dims[0])
	}
	if len(s[0]) != 5 {
		return r.errorf("input has shape %v, want [N, C, D, H, W] for weights %v", s[0], w.dims)
	}
	c, depth, h, wd := s[0][1], s[0][2], s[0][3], s[0][4]
	m, cg, kd, kh, kw := w.dims[0], w.dims[1], w.dims[2], w.dims[3], w.dims[4]
	if k, err := r.a.ints("kernel_shape", 3, 1, maxDim); err != nil || k != nil && (k[0] != kd || k[1] != kh || k[2] != kw) {
		if err == nil {
			err = r.errorf("kernel_shape %v does not match weights %v", k, w.dims)
		}
		return err
	}
	if cg*group != c || m%group != 0 {
		return r.errorf("weights %v with group %d for an input of %d channels", w.dims, group, c)
	}
	ax, autoPad, err := r.volumeAxes([]int{kd, kh, kw}, depth)
	if err != nil {
		return err
	}
	d := ax[0]
	od := (depth+d.p0+d.p1-((d.k-1)*d.d+1))/d.s + 1
	if od < 1 {
		return r.errorf("input has shape %v: the kernel's depth %d (dilated %d) is deeper than the padded input", s[0], d.k, d.d)
	}
	frames := r.addBefore(node{kind: nTranspose, perm: []int{0, 2, 1, 3, 4}, in: []int{x, r.b.oneValue()}}, "frames first")
	if d.p0+d.p1 > 0 {
		frames = r.addBefore(node{kind: nPad, pads: []int{0, d.p0, 0, 0, 0, 0, d.p1, 0, 0, 0}, in: []int{frames}}, "depth padded")
	}
	fs, err := r.b.shapesOf(frames)
	if err != nil {
		return err
	}
	plane := convParams{group: group, kernel: []int{kh, kw}, strides: [2]int{ax[1].s, ax[2].s}, dilations: [2]int{ax[1].d, ax[2].d},
		pads: [4]int{ax[1].p0, ax[2].p0, ax[1].p1, ax[2].p1}, autoPad: autoPad}
	sum := -1
	for k := range kd {
		read := frames
		if first := k * d.d; first != 0 || d.s != 1 || od != fs[0][1] {
			read = r.addBefore(node{kind: nSlice, in: []int{frames, r.b.oneValue()}, batchAxes: batchAxes(fs),
				slice: sliceArgs{starts: []int64{int64(first)}, ends: []int64{int64(first + (od-1)*d.s + 1)}, axes: []int64{1}, steps: []int64{int64(d.s)}}},
				fmt.Sprintf("frames of depth %d", k))
		}
		images := r.addBefore(node{kind: nView, view: viewReshape, shape: []int{-1, c, h, wd}, in: []int{read}}, fmt.Sprintf("images of depth %d", k))
		wk := make([]float32, 0, m*cg*kh*kw)
		for o := range m * cg {
			wk = append(wk, w.f32[(o*kd+k)*kh*kw:][:kh*kw]...)
		}
		kv := r.b.m.addValue(value{name: fmt.Sprintf("%s/depth %d", r.b.m.values[wv].name, k), kind: valConst, c: floatTensor(wk, m, cg, kh, kw)})
		b := -1
		if k == 0 {
			b = bv
		}
		sum = r.addBefore(node{kind: nConv, conv: plane, in: []int{images, kv, b, sum}}, fmt.Sprintf("sum to depth %d", k))
	}
	ys, err := r.b.shapesOf(sum)
	if err != nil {
		return err
	}
	frameSums := r.addBefore(node{kind: nView, view: viewReshape, shape: []int{-1, od, m, ys[0][2], ys[0][3]}, in: []int{sum}}, "output frames")
	n.become(node{kind: nTranspose, perm: []int{0, 2, 1, 3, 4}, in: []int{frameSums, r.b.oneValue()}})
	return nil
}
