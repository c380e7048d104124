package reference

import "math"

// conv3D is a Conv of [N, C, D, H, W] by weights [M, C/group, kd, kh,
// kw], as ONNX defines it, one output element at a time.
func conv3D(n node) Tensor {
	x, w := n.x(0), n.x(1)
	b, hasB := n.in(2)
	in, k := x.Shape[2:], w.Shape[2:]
	N, C, M, G := x.Shape[0], x.Shape[1], w.Shape[0], n.i("group", 1)
	s, d, p := n.ints("strides", 1, 1, 1), n.ints("dilations", 1, 1, 1), n.ints("pads", 0, 0, 0, 0, 0, 0)
	ap := n.s("auto_pad", "NOTSET")
	var begin, out [3]int
	for a := range 3 {
		begin[a], _, out[a] = pads(ap, in[a], k[a], s[a], d[a], p[a], p[a+3], false)
	}
	cg, mg := C/G, M/G
	y := newTensor(N, M, out[0], out[1], out[2])
	i := 0
	for img := range N {
		for m := range M {
			for o0 := range out[0] {
				for o1 := range out[1] {
					for o2 := range out[2] {
						var sum float64
						if hasB {
							sum = float64(b.t.Data[m])
						}
						for c := range cg {
							ci := m/mg*cg + c
							for k0 := range k[0] {
								i0 := o0*s[0] - begin[0] + k0*d[0]
								for k1 := range k[1] {
									i1 := o1*s[1] - begin[1] + k1*d[1]
									for k2 := range k[2] {
										i2 := o2*s[2] - begin[2] + k2*d[2]
										if i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] || i2 < 0 || i2 >= in[2] {
											continue
										}
										xv := x.Data[(((img*C+ci)*in[0]+i0)*in[1]+i1)*in[2]+i2]
										wv := w.Data[(((m*cg+c)*k[0]+k0)*k[1]+k1)*k[2]+k2]
										sum += float64(xv) * float64(wv)
									}
								}
							}
						}
						y.Data[i] = float32(sum)
						i++
					}
				}
			}
		}
	}
	return y
}

// pool3D is a MaxPool or AveragePool of [N, C, D, H, W], as ONNX defines
// them: a mean divides by the elements of the window inside the input,
// or with count_include_pad inside the padded input.
func pool3D(n node) Tensor {
	x := n.x(0)
	in, k := x.Shape[2:], n.ints("kernel_shape")
	s, d, p := n.ints("strides", 1, 1, 1), n.ints("dilations", 1, 1, 1), n.ints("pads", 0, 0, 0, 0, 0, 0)
	ap, ceil := n.s("auto_pad", "NOTSET"), n.i("ceil_mode", 0) == 1
	countPad, isMax := n.i("count_include_pad", 0) == 1, n.n.GetOpType() == "MaxPool"
	var begin, end, out [3]int
	for a := range 3 {
		begin[a], end[a], out[a] = pads(ap, in[a], k[a], s[a], d[a], p[a], p[a+3], ceil)
	}
	y := newTensor(x.Shape[0], x.Shape[1], out[0], out[1], out[2])
	i := 0
	for nc := range x.Shape[0] * x.Shape[1] {
		for o0 := range out[0] {
			for o1 := range out[1] {
				for o2 := range out[2] {
					best, sum, count, padded := math.Inf(-1), 0.0, 0, 0
					for k0 := range k[0] {
						for k1 := range k[1] {
							for k2 := range k[2] {
								at := [3]int{o0*s[0] - begin[0] + k0*d[0], o1*s[1] - begin[1] + k1*d[1], o2*s[2] - begin[2] + k2*d[2]}
								inside, insidePadded := true, true
								for a := range 3 {
									inside = inside && at[a] >= 0 && at[a] < in[a]
									insidePadded = insidePadded && at[a] >= -begin[a] && at[a] < in[a]+end[a]
								}
								if insidePadded {
									padded++
								}
								if !inside {
									continue
								}
								v := float64(x.Data[((nc*in[0]+at[0])*in[1]+at[1])*in[2]+at[2]])
								best = max(best, v)
								sum += v
								count++
							}
						}
					}
					switch {
					case isMax:
						y.Data[i] = float32(best)
					case countPad:
						y.Data[i] = float32(sum / float64(padded))
					default:
						y.Data[i] = float32(sum / float64(count))
					}
					i++
				}
			}
		}
	}
	return y
}
