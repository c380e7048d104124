package engine

import (
	"math"
	"slices"

	"github.com/clockwork-go/clockwork/internal/onnx"
)

// Resize and Upsample scale the spatial axes of [N, C, H, W] or [N, C, L] (nearest,
// linear or cubic, with every coordinate mapping ONNX defines but
// tf_crop_and_resize): PyTorch's F.interpolate, YOLO's and FPNs'
// upsampling. For nearest and linear the import works out, for each
// output row and column, the input rows or columns it reads and their
// weight, in float64 as ONNX's reference does, into a constant table the
// executors read; so the CPU and the GPU compute the same sums. Cubic
// ones, and linear ones with antialias or exclude_outside, read more
// elements than the table holds: MatMuls by weights (resizematrix.go).

// resizeArgs are a Resize's input and output sizes (its table is the
// node's second input).
type resizeArgs struct {
	h, w, oh, ow int
}

// resizeNode reads a Resize (opset 10 on) or an Upsample (before it).
func (r *nodeReader) resizeNode(n *node, op string) error {
	a := r.a
	mode, err := a.str("mode", "nearest")
	if err != nil {
		return err
	}
	coord, nearestMode := "asymmetric", "floor" // Upsample's, and Resize's in opset 10
	f := resizeFilter{cubicA: -0.75}
	var scales []float64
	var sizes []int64
	opset := r.b.m.opset
	switch {
	case op == "Upsample" && opset < 9:
		if err := r.inputs(1, 1); err != nil {
			return err
		}
		at, err := a.get("scales", onnx.AttributeProto_FLOATS)
		if err != nil {
			return err
		}
		for _, s := range at.GetFloats() {
			scales = append(scales, float64(s))
		}
	case op == "Upsample" || opset < 11:
		if err := r.inputs(2, 2); err != nil {
			return err
		}
		if scales, err = r.resizeScales(1); err != nil {
			return err
		}
	default:
		if err := r.inputs(1, 4); err != nil {
			return err
		}
		if coord, err = a.str("coordinate_transformation_mode", "half_pixel"); err != nil {
			return err
		}
		if nearestMode, err = a.str("nearest_mode", "round_prefer_floor"); err != nil {
			return err
		}
		aa, err := a.int("antialias", 0, 0, 1)
		if err != nil {
			return err
		}
		ex, err := a.int("exclude_outside", 0, 0, 1)
		if err != nil {
			return err
		}
		f.antialias, f.exclude = aa == 1, ex == 1
		cubicA, err := a.float("cubic_coeff_a", -0.75)
		if err != nil {
			return err
		}
		f.cubicA = float64(cubicA)
		if a.has("axes") {
			return r.errorf("the axes attribute is not supported")
		}
		if p, err := a.str("keep_aspect_ratio_policy", "stretch"); err != nil || p != "stretch" {
			if err == nil {
				err = r.errorf("keep_aspect_ratio_policy %q is not supported", p)
			}
			return err
		}
		if scales, err = r.resizeScales(2); err != nil {
			return err
		}
		hasSizes := len(r.np.GetInput()) > 3 && r.np.GetInput()[3] != ""
		if (scales == nil) != hasSizes {
			return r.errorf("exactly one of scales and sizes must be given")
		}
		if hasSizes {
			if sizes, err = r.resizeSizes(); err != nil {
				return err
			}
		}
	}
	switch mode {
	case "nearest", "linear", "cubic":
	default:
		return r.errorf("mode %q is not supported (nearest, linear and cubic)", mode)
	}
	f.mode = mode
	switch coord {
	case "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nearest":
	default:
		return r.errorf("coordinate_transformation_mode %q is not supported", coord)
	}
	switch nearestMode {
	case "round_prefer_floor", "round_prefer_ceil", "floor", "ceil":
	default:
		return r.errorf("nearest_mode %q is not supported", nearestMode)
	}
	x, s, err := r.requiredShapes(0)
	if err != nil {
		return err
	}
	rank := len(s[0])
	if rank != 3 && rank != 4 || slices.Contains(batchAxes(s)[1:], true) {
		return r.errorf("input has shape %v: only [N, C, H, W] and [N, C, L] are supported", s[0])
	}
	// [N, C, L] is resized as [N, C, 1, L] (spatial.go): its scales and
	// sizes get a 1 for the height.
	n.lifted = rank == 3
	givenScales, givenSizes := scales, sizes // for the errors
	if sizes == nil && len(scales) != rank {
		return r.errorf("scales %v for an input of rank %d", givenScales, rank)
	}
	if n.lifted {
		scales, sizes = liftList(scales, 1), liftList(sizes, 1)
	}
	hw := lift(s[0][2:], 1)
	h, w := hw[0], hw[1]
	var oh, ow int
	var sh, sw float64
	if sizes != nil {
		if len(sizes) != 4 || sizes[1] != int64(s[0][1]) {
			return r.errorf("sizes %v for an input of shape %v: only the spatial axes may be resized", givenSizes, s[0])
		}
		if sizes[2] < 1 || sizes[3] < 1 || sizes[2] > maxDim || sizes[3] > maxDim {
			return r.errorf("invalid sizes %v", givenSizes)
		}
		oh, ow = int(sizes[2]), int(sizes[3])
		sh, sw = float64(oh)/float64(h), float64(ow)/float64(w)
	} else {
		if len(scales) != 4 || scales[0] != 1 || scales[1] != 1 {
			return r.errorf("scales %v: only the spatial axes may be resized", givenScales)
		}
		sh, sw = scales[2], scales[3]
		for _, sc := range []float64{sh, sw} {
			if !(sc > 0) || sc > maxDim {
				return r.errorf("invalid scales %v", givenScales)
			}
		}
		oh, ow = int(math.Floor(float64(h)*sh)), int(math.Floor(float64(w)*sw))
		if oh < 1 || ow < 1 || oh > maxDim || ow > maxDim {
			return r.errorf("scales %v make an output of %d×%d", givenScales, oh, ow)
		}
	}
	if mode == "cubic" || mode == "linear" && (f.antialias || f.exclude) {
		return r.resizeByMatrices(n, x, f, coord, [2][3]float64{{float64(h), float64(oh), sh}, {float64(w), float64(ow), sw}})
	}
	if n, ok := checkedElems([]int{oh + ow, 3}); !ok || n > maxFoldElems {
		return r.errorf("an output of %d×%d is too large", oh, ow)
	}
	table := make([]float32, 0, 3*(oh+ow))
	for _, ax := range [][3]float64{{float64(h), float64(oh), sh}, {float64(w), float64(ow), sw}} {
		in, out, scale := ax[0], ax[1], ax[2]
		for o := range int(out) {
			i0, i1, wt := resizeSource(float64(o), in, out, scale, mode, coord, nearestMode)
			table = append(table, float32(i0), float32(i1), float32(wt))
		}
	}
	tv := r.b.m.addValue(value{name: r.np.GetOutput()[0] + ".resize_table", kind: valConst, c: floatTensor(table, len(table))})
	n.kind, n.in = nResize, []int{x, tv}
	n.resize = resizeArgs{h: h, w: w, oh: oh, ow: ow}
	return nil
}

// resizeSizes reads input 3, the sizes. PyTorch's F.interpolate(size=…)
// writes them as the input's first two dimensions (Shape, Slice) and the
// size given: the first may be the batch size, as long as it is the
// input's at every batch size; the others may not depend on it.
func (r *nodeReader) resizeSizes() ([]int64, error) {
	c, _, err := r.constant(3)
	if err != nil {
		return nil, err
	}
	_, s, err := r.requiredShapes(0)
	if err != nil {
		return nil, err
	}
	if c.i64 == nil || len(c.dims) != 1 || len(c.i64) != len(s[0]) {
		return nil, r.errorf("the sizes must be a constant int64 tensor of %d elements, one per axis of the input", len(s[0]))
	}
	for k := range c.i64 {
		for b := range s {
			if v := c.at(k); k == 0 && v.c+v.n*int64(b+1) != int64(s[b][0]) || k > 0 && v.n != 0 {
				return nil, r.errorf("sizes %v: only the spatial axes may be resized, by sizes that do not depend on the batch size", c.i64)
			}
		}
	}
	return c.i64, nil
}

// resizeScales reads input i, the scales (nil if absent or empty, as
// opset 11 writes an absent one).
func (r *nodeReader) resizeScales(i int) ([]float64, error) {
	if i >= len(r.np.GetInput()) || r.np.GetInput()[i] == "" {
		return nil, nil
	}
	c, _, err := r.floatConst(i, 1)
	if err != nil || c == nil || len(c.f32) == 0 {
		return nil, err
	}
	out := make([]float64, len(c.f32))
	for k, v := range c.f32 {
		out[k] = float64(v)
	}
	return out, nil
}

// resizeCoord maps output coordinate o along an axis of in elements
// resized to out (by scale) to the input's.
func resizeCoord(o, in, out, scale float64, coord string) float64 {
	switch coord {
	case "half_pixel":
		return (o+0.5)/scale - 0.5
	case "pytorch_half_pixel":
		if out > 1 {
			return (o+0.5)/scale - 0.5
		}
		return 0
	case "align_corners":
		if out > 1 {
			return o * (in - 1) / (out - 1)
		}
		return 0
	case "tf_half_pixel_for_nearest":
		return (o + 0.5) / scale
	}
	return o / scale // asymmetric
}

// resizeSource is output coordinate o's input coordinates along an axis
// of in elements resized to out: linear reads i0 and i1 with weights
// 1 − w and w, nearest reads i0 (= i1, w = 0). Coordinates outside the
// input are clamped to its edge, as ONNX's reference pads with edge
// values.
func resizeSource(o, in, out, scale float64, mode, coord, nearestMode string) (i0, i1 int, w float64) {
	x := resizeCoord(o, in, out, scale, coord)
	clamp := func(i float64) int { return int(max(0, min(i, in-1))) }
	if mode == "nearest" {
		var i float64
		switch nearestMode {
		case "floor":
			i = math.Floor(x)
		case "ceil":
			i = math.Ceil(x)
		case "round_prefer_ceil":
			i = math.Floor(x + 0.5)
		default: // round_prefer_floor
			i = math.Ceil(x - 0.5)
		}
		return clamp(i), clamp(i), 0
	}
	f := math.Floor(x)
	return clamp(f), clamp(f + 1), x - f
}
