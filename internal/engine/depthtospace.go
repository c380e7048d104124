package engine

// depthToSpace reads a DepthToSpace or SpaceToDepth of [N, C, H, W]:
// super-resolution's pixel shuffle (ESPCN, Real-ESRGAN's upsampler) and
// its inverse (YOLOv2's reorg, pixel unshuffle). As ONNX defines them, each
// is a reshape to six axes, a transpose and a reshape back: two views and
// a strided copy here, so that every runtime runs them as it runs those.
func (r *nodeReader) depthToSpace(n *node, op string) error {
	if err := r.unary(n); err != nil {
		return err
	}
	if !r.a.has("blocksize") {
		return r.errorf("missing attribute \"blocksize\"")
	}
	bs, err := r.a.int("blocksize", 0, 1, 1<<12)
	if err != nil {
		return err
	}
	mode := "DCR"
	if op == "DepthToSpace" {
		if mode, err = r.a.str("mode", "DCR"); err != nil {
			return err
		}
		if mode != "DCR" && mode != "CRD" {
			return r.errorf("mode %q is not DCR or CRD", mode)
		}
	}
	s, err := r.b.shapesOf(n.in[0])
	if err != nil {
		return err
	}
	x := s[0]
	if len(x) != 4 {
		return r.errorf("input has shape %v, want [N, C, H, W]", x)
	}
	if batch := batchAxes(s); !batch[0] || batch[1] || batch[2] || batch[3] {
		return r.errorf("input has shape %v at batch size 1: the batch axis must be the first", x)
	}
	c, h, w := x[1], x[2], x[3]
	var six, perm, out []int
	switch {
	case op == "SpaceToDepth":
		if h%bs != 0 || w%bs != 0 {
			return r.errorf("height %d and width %d must be multiples of the blocksize %d", h, w, bs)
		}
		six, perm, out = []int{0, c, h / bs, bs, w / bs, bs}, []int{0, 3, 5, 1, 2, 4}, []int{0, c * bs * bs, h / bs, w / bs}
	case c%(bs*bs) != 0:
		return r.errorf("%d channels must be a multiple of the blocksize squared, %d", c, bs*bs)
	case mode == "DCR": // the blocks outermost in the channels, as TensorFlow's depth_to_space
		six, perm, out = []int{0, bs, bs, c / (bs * bs), h, w}, []int{0, 3, 4, 1, 5, 2}, []int{0, c / (bs * bs), h * bs, w * bs}
	default: // CRD: the blocks innermost, as PyTorch's pixel_shuffle
		six, perm, out = []int{0, c / (bs * bs), bs, bs, h, w}, []int{0, 1, 4, 2, 5, 3}, []int{0, c / (bs * bs), h * bs, w * bs}
	}
	split := r.addBefore(node{kind: nView, view: viewReshape, shape: six, in: []int{n.in[0]}}, "six axes")
	moved := r.addBefore(node{kind: nTranspose, perm: perm, in: []int{split, r.b.oneValue()}}, "blocks moved")
	n.kind, n.view, n.shape, n.in = nView, viewReshape, out, []int{moved}
	return nil
}
