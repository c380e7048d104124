//go:build linux && cgo

package main

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// The CPU references accumulate in float64, so that their own rounding is
// negligible next to the GPU's fp32 error.

// shape is an NCHW tensor shape.
type shape struct{ n, c, h, w int }

func (s shape) size() int  { return s.n * s.c * s.h * s.w }
func (s shape) plane() int { return s.h * s.w }

// fill sets v to uniform values in [-scale, scale) from a fixed seed.
func fill(v []float32, seed uint64, scale float32) {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for i := range v {
		v[i] = scale * (2*r.Float32() - 1)
	}
}

// convLayer is a 3×3 convolution with padding 1 and stride 1 from c to k
// channels, followed by bias, a residual input and ReLU:
// y = max(0, conv(x, w) + bias + z).
type convLayer struct {
	k, c int
	w    []float32 // k × c × 3 × 3
	bias []float32 // k
}

// forward computes one image: x is c×h×w, z (k×h×w) may be nil for no
// residual. It uses every CPU.
func (l convLayer) forward(h, w int, x, z []float64) []float64 {
	out := make([]float64, l.k*h*w)
	parallel(l.k, func(oc int) {
		acc := out[oc*h*w : (oc+1)*h*w]
		for i := range acc {
			acc[i] = float64(l.bias[oc])
		}
		for ic := range l.c {
			xp := x[ic*h*w : (ic+1)*h*w]
			for kh := range 3 {
				for kw := range 3 {
					wt := float64(l.w[((oc*l.c+ic)*3+kh)*3+kw])
					for oh := range h {
						ih := oh + kh - 1
						if ih < 0 || ih >= h {
							continue
						}
						row, src := acc[oh*w:(oh+1)*w], xp[ih*w:(ih+1)*w]
						for ow := max(0, 1-kw); ow < min(w, w+1-kw); ow++ {
							row[ow] += wt * src[ow+kw-1]
						}
					}
				}
			}
		}
		if z != nil {
			for i, v := range z[oc*h*w : (oc+1)*h*w] {
				acc[i] += v
			}
		}
		for i, v := range acc {
			acc[i] = max(v, 0)
		}
	})
	return out
}

// globalAvgPool averages each h×w plane of x.
func globalAvgPool(x []float64, planes, hw int) []float64 {
	y := make([]float64, planes)
	for p := range y {
		var s float64
		for _, v := range x[p*hw : (p+1)*hw] {
			s += v
		}
		y[p] = s / float64(hw)
	}
	return y
}

// gemmNT computes y[n×m] = x[n×k]·wᵀ for row-major x and w[m×k].
func gemmNT(x []float64, w []float32, n, m, k int) []float64 {
	y := make([]float64, n*m)
	parallel(n*m, func(i int) {
		xr, wr := x[(i/m)*k:(i/m+1)*k], w[(i%m)*k:(i%m+1)*k]
		var s float64
		for j := range k {
			s += xr[j] * float64(wr[j])
		}
		y[i] = s
	})
	return y
}

// relErr is max |got − want| / max |want|: the error relative to the
// output's scale, which stays meaningful where single outputs are near 0.
// A NaN in got makes it +Inf.
func relErr(got []float32, want []float64) float64 {
	var d, m float64
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return math.Inf(1)
		}
		d, m = max(d, math.Abs(g-w)), max(m, math.Abs(w))
	}
	if m == 0 {
		return d
	}
	return d / m
}

func widen(v []float32) []float64 {
	w := make([]float64, len(v))
	for i, x := range v {
		w[i] = float64(x)
	}
	return w
}

// parallel runs f(0..n-1) on every CPU.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	wg.Wait()
}
