package reference

import (
	"math"
	"slices"
)

// filter is how a cubic Resize, or a linear one with antialias or
// exclude_outside, weighs the input elements around an output's
// coordinate.
type filter struct {
	mode               string
	a                  float64 // cubic_coeff_a
	antialias, exclude bool
}

// resize resizes x [N, C, H, W] to out, W then H, each output along an
// axis the dot product of coefficients with the nearest input elements,
// the input padded with its edge values, as ONNX's reference computes it.
// source maps output coordinate o of axis d to the input's.
func (f filter) resize(x Tensor, out []int, scale []float64, source func(d, o int) float64) Tensor {
	in := x.Shape
	rows := in[0] * in[1] * in[2]
	cols := make([]float64, rows*out[3]) // W resized
	for r := range rows {
		line := x.Data[r*in[3]:][:in[3]]
		for o := range out[3] {
			cols[r*out[3]+o] = f.interpolate(func(i int) float64 { return float64(line[i]) }, in[3], source(3, o), scale[3])
		}
	}
	y := newTensor(in[0], in[1], out[2], out[3])
	for p := range in[0] * in[1] {
		for ox := range out[3] {
			at := func(i int) float64 { return cols[(p*in[2]+i)*out[3]+ox] }
			for oy := range out[2] {
				y.Data[(p*out[2]+oy)*out[3]+ox] = float32(f.interpolate(at, in[2], source(2, oy), scale[2]))
			}
		}
	}
	return y
}

// interpolate is the value at coordinate x of a line of n elements (at).
func (f filter) interpolate(at func(int) float64, n int, x, scale float64) float64 {
	ratio := x - math.Floor(x)
	if ratio == 0 {
		ratio = 1 // the element on the left is preferred
	}
	coeffs := f.coeffs(ratio, scale)
	// The len(coeffs) indices nearest x in the input padded by half as
	// many on each side, ties to the smaller, in order.
	pad := (len(coeffs) + 1) / 2
	idx := make([]int, n+2*pad)
	for i := range idx {
		idx[i] = i - pad
	}
	slices.SortStableFunc(idx, func(i, j int) int {
		di, dj := math.Abs(x-float64(i)), math.Abs(x-float64(j))
		switch {
		case di < dj:
			return -1
		case di > dj:
			return 1
		}
		return i - j
	})
	idx = idx[:len(coeffs)]
	slices.Sort(idx)
	if f.exclude {
		var sum float64
		for k, i := range idx {
			if i < 0 || i >= n {
				coeffs[k] = 0
			}
			sum += coeffs[k]
		}
		for k := range coeffs {
			coeffs[k] /= sum
		}
	}
	var v float64
	for k, i := range idx {
		v += coeffs[k] * at(min(max(i, 0), n-1))
	}
	return v
}

// coeffs are ONNX's reference's interpolation coefficients for ratio in
// (0, 1] at scale.
func (f filter) coeffs(r, scale float64) []float64 {
	a := f.a
	switch {
	case f.mode == "cubic" && f.antialias:
		s := min(scale, 1)
		k := func(x float64) float64 {
			x = math.Abs(x)
			switch {
			case x <= 1:
				return (a+2)*x*x*x - (a+3)*x*x + 1
			case x < 2:
				return a*x*x*x - 5*a*x*x + 8*a*x - 4*a
			}
			return 0
		}
		var c []float64
		start := int(math.Floor(-2/s) + 1)
		for i := start; i < 2-start; i++ {
			c = append(c, k(s*(float64(i)-r)))
		}
		return normalised(c)
	case f.mode == "cubic":
		return []float64{
			((a*(r+1)-5*a)*(r+1)+8*a)*(r+1) - 4*a,
			((a+2)*r-(a+3))*r*r + 1,
			((a+2)*(1-r)-(a+3))*(1-r)*(1-r) + 1,
			((a*((1-r)+1)-5*a)*((1-r)+1)+8*a)*((1-r)+1) - 4*a,
		}
	case f.antialias:
		s := min(scale, 1)
		var c []float64
		start := int(math.Floor(-1/s) + 1)
		for i := start; i < start+2-2*start; i++ {
			c = append(c, math.Min(math.Max(1-math.Abs((float64(i)-r)*s), 0), 1))
		}
		return normalised(c)
	}
	return []float64{1 - r, r}
}

func normalised(c []float64) []float64 {
	var sum float64
	for _, v := range c {
		sum += v
	}
	for i := range c {
		c[i] /= sum
	}
	return c
}
