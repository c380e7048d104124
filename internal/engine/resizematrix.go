package engine

import (
	"fmt"
	"math"
)

// Cubic resizes, and linear ones with antialias or exclude_outside, read
// more than two input elements an output (four, or a filter as wide as the
// downscaling needs), which the resize table does not hold. Each axis's
// resize is instead a constant matrix of [in, out] weights, column o the
// weights of output o, and the resize is MatMuls by them: the last axis
// directly, H between two transposes. So every runtime computes it with
// the MatMul and strided copy it has. The weights are ONNX's reference's,
// in float64.

// resizeFilter is how a Resize weighs the input elements around an
// output's coordinate.
type resizeFilter struct {
	mode               string  // "linear" or "cubic" here
	cubicA             float64 // cubic_coeff_a
	antialias, exclude bool    // antialias; exclude_outside
}

// maxResizeMatrix bounds the elements of one axis's matrix (16 MiB).
const maxResizeMatrix = 1 << 22

// resizeByMatrices makes n the resize of x's last two axes (of its last
// one where n is lifted: [N, C, L]) by the matrices of axes, each {in,
// out, scale}; an axis whose matrix is the identity is left as it is.
func (r *nodeReader) resizeByMatrices(n *node, x int, f resizeFilter, coord string, axes [2][3]float64) error {
	v := x
	for k, ax := range axes {
		in, out, scale := int(ax[0]), int(ax[1]), ax[2]
		if k == 0 && n.lifted {
			continue // the height of 1 a 1-D resize is read with
		}
		if e, ok := checkedElems([]int{in, out}); !ok || e > maxResizeMatrix {
			return r.errorf("resizing %d elements to %d takes a matrix of more than %d elements", in, out, maxResizeMatrix)
		}
		m := f.matrix(in, out, scale, coord)
		if m == nil {
			continue
		}
		name := fmt.Sprintf("%s.resize_%s", r.np.GetOutput()[0], [2]string{"rows", "columns"}[k])
		mv := r.b.m.addValue(value{name: name, kind: valConst, c: floatTensor(m, in, out)})
		matmul := node{kind: nGemm, gemm: gemmParams{alpha: 1, beta: 1, matmul: true}}
		if k == 1 {
			matmul.in = []int{v, mv}
			v = r.addBefore(matmul, "columns resized")
			continue
		}
		t := r.addBefore(node{kind: nTranspose, perm: []int{0, 1, 3, 2}, in: []int{v, r.b.oneValue()}}, "rows last")
		matmul.in = []int{t, mv}
		rows := r.addBefore(matmul, "rows resized")
		v = r.addBefore(node{kind: nTranspose, perm: []int{0, 1, 3, 2}, in: []int{rows, r.b.oneValue()}}, "rows back")
	}
	n.become(node{kind: nView, view: viewIdentity, in: []int{v}})
	return nil
}

// matrix is the [in, out] weights of an axis's resize, nil where they are
// the identity.
func (f resizeFilter) matrix(in, out int, scale float64, coord string) []float32 {
	m := make([]float32, in*out)
	identity := in == out
	for o := range out {
		x := resizeCoord(float64(o), float64(in), float64(out), scale, coord)
		first, w := f.taps(x, scale, in)
		for t, wt := range w {
			i := min(max(first+t, 0), in-1) // the input padded with its edge values
			m[i*out+o] += float32(wt)
		}
		for i := 0; identity && i < in; i++ {
			want := float32(0)
			if i == o {
				want = 1
			}
			identity = m[i*out+o] == want
		}
	}
	if identity {
		return nil
	}
	return m
}

// taps is the first input index an output at input coordinate x reads and
// the weights of it and those after it, as ONNX's reference gives them:
// the len(w) indices nearest x, ties to the smaller, so that x lies in
// (first + len(w)/2 − 1, first + len(w)/2]; indices outside the input
// weigh nothing with exclude_outside (the others renormalised).
func (f resizeFilter) taps(x, scale float64, in int) (first int, w []float64) {
	base := math.Ceil(x) - 1 // x = base + ratio, ratio in (0, 1]
	ratio := x - base
	switch {
	case f.antialias && f.mode == "cubic":
		s := min(scale, 1)
		start := int(math.Floor(-2/s) + 1)
		for i := start; i < 2-start; i++ {
			w = append(w, cubicWeight(s*(float64(i)-ratio), f.cubicA))
		}
	case f.antialias:
		s := min(scale, 1)
		start := int(math.Floor(-1/s) + 1)
		for i := start; i < 2-start; i++ {
			w = append(w, max(0, 1-math.Abs((float64(i)-ratio)*s)))
		}
	case f.mode == "cubic":
		for i := -1; i <= 2; i++ {
			w = append(w, cubicWeight(float64(i)-ratio, f.cubicA))
		}
	default:
		w = []float64{1 - ratio, ratio}
	}
	first = int(base) - len(w)/2 + 1
	if f.antialias {
		normalise(w)
	}
	if f.exclude {
		for t := range w {
			if i := first + t; i < 0 || i >= in {
				w[t] = 0
			}
		}
		normalise(w)
	}
	return first, w
}

// cubicWeight is the cubic convolution kernel with coefficient a at
// distance d.
func cubicWeight(d, a float64) float64 {
	d = math.Abs(d)
	switch {
	case d <= 1:
		return ((a+2)*d-(a+3))*d*d + 1
	case d < 2:
		return ((a*d-5*a)*d+8*a)*d - 4*a
	}
	return 0
}

func normalise(w []float64) {
	var sum float64
	for _, v := range w {
		sum += v
	}
	for i := range w {
		w[i] /= sum
	}
}
