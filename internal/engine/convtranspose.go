package engine

// ConvTranspose: the gradient of a convolution with respect to its input,
// as segmentation networks (FCN, U-Net) and generators upsample with it.
// 1-D and 2-D, with groups, strides, dilations, pads, output_padding, and
// an output_shape or auto_pad that fix the pads.

// deconvParams are a ConvTranspose's attributes.
type deconvParams struct {
	outputPadding [2]int
	outputShape   []int // H, W (1 and L where lifted); nil if not given
}

// convTransposeNode reads a ConvTranspose: X, W [C, M/group, kH, kW] (or
// [C, M/group, k], 1-D) and an optional bias, constants.
func (r *nodeReader) convTransposeNode(n *node) error {
	a, p := r.a, &n.conv
	n.kind = nConvTranspose
	if err := r.convInputs(n, "1-D and 2-D transposed convolutions", func(w []int, group int) int { return w[1] * group }); err != nil {
		return err
	}
	op, err := r.spatialInts(n, "output_padding", 0, 0)
	if err != nil {
		return err
	}
	if op != nil {
		copy(n.deconv.outputPadding[:], op)
	}
	for i, o := range n.deconv.outputPadding {
		if o >= max(p.strides[i], p.dilations[i]) {
			return r.errorf("output_padding %v must be less than the stride or the dilation", n.deconv.outputPadding)
		}
	}
	if n.deconv.outputShape, err = a.ints("output_shape", -1, 1, maxDim); err != nil {
		return err
	}
	if s := n.deconv.outputShape; s != nil {
		rank, sizes := n.spatialRank(), "H and W"
		if n.lifted {
			sizes = "L"
		}
		switch len(s) {
		case rank:
		case rank + 2:
			s = s[2:] // [N, M, H, W] as some exporters write it
		default:
			return r.errorf("output_shape %v: give %s", s, sizes)
		}
		n.deconv.outputShape = lift(s, 1)
	}
	return nil
}

// deconvGeom is a ConvTranspose's output size and pads for input x and
// weights w: out = stride·(in − 1) + output_padding + dilation·(k − 1) + 1
// − pads, the pads worked out from output_shape or auto_pad as ONNX says.
func (n *node) deconvGeom(x, w []int) (geom, error) {
	p := &n.conv
	if len(x) != 4 {
		return geom{}, n.errorf("input has shape %v: a 2-D transposed convolution (weights %v) takes [N, C, H, W]", x, w)
	}
	if w[0] != x[1] || w[0]%p.group != 0 {
		return geom{}, n.errorf("weights %v with group %d do not match input %v", w, p.group, x)
	}
	if p.kernel != nil && (p.kernel[0] != w[2] || p.kernel[1] != w[3]) {
		return geom{}, n.errorf("kernel_shape %v does not match weights %v", p.kernel, w)
	}
	var g geom
	outs, begins, ends := [2]*int{&g.oh, &g.ow}, [2]*int{&g.padTop, &g.padLeft}, [2]*int{&g.padBottom, &g.padRight}
	for i := range 2 {
		in, k := x[2+i], w[2+i]
		full := p.strides[i]*(in-1) + n.deconv.outputPadding[i] + p.dilations[i]*(k-1) + 1
		want := -1
		switch {
		case n.deconv.outputShape != nil:
			want = n.deconv.outputShape[i]
		case p.autoPad == "SAME_UPPER" || p.autoPad == "SAME_LOWER":
			want = in * p.strides[i]
		}
		begin, end := p.pads[i], p.pads[2+i]
		if p.autoPad == "VALID" {
			begin, end = 0, 0
		}
		if want >= 0 {
			// A larger output than the convolution covers makes a negative
			// total: negative pads, whose rows are the bias alone. Halves
			// round down, as ONNX's reference divides.
			total := full - want
			half := total >> 1
			begin, end = total-half, half
			if p.autoPad == "SAME_UPPER" {
				begin, end = half, total-half
			}
		}
		*outs[i], *begins[i], *ends[i] = full-begin-end, begin, end
		if *outs[i] < 1 || *outs[i] > maxDim {
			return geom{}, n.errorf("an output of %d rows or columns from %v", *outs[i], x)
		}
	}
	return g, nil
}
