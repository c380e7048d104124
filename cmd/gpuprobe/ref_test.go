//go:build linux && cgo

package main

import (
	"math"
	"testing"
)

// naiveConv is the textbook definition the optimised reference must match.
func naiveConv(l convLayer, in shape, x, z []float64, n int) []float64 {
	out := make([]float64, l.k*in.h*in.w)
	for oc := range l.k {
		for oh := range in.h {
			for ow := range in.w {
				s := float64(l.bias[oc])
				for ic := range l.c {
					for kh := range 3 {
						for kw := range 3 {
							ih, iw := oh+kh-1, ow+kw-1
							if ih < 0 || ih >= in.h || iw < 0 || iw >= in.w {
								continue
							}
							s += float64(l.w[((oc*l.c+ic)*3+kh)*3+kw]) * x[((n*l.c+ic)*in.h+ih)*in.w+iw]
						}
					}
				}
				if z != nil {
					s += z[((n*l.k+oc)*in.h+oh)*in.w+ow]
				}
				out[(oc*in.h+oh)*in.w+ow] = math.Max(s, 0)
			}
		}
	}
	return out
}

func TestConvReference(t *testing.T) {
	in := shape{n: 2, c: 3, h: 5, w: 4}
	l := convLayer{k: 4, c: 3, w: make([]float32, 4*3*9), bias: make([]float32, 4)}
	fill(l.w, 1, 1)
	fill(l.bias, 2, 0.5)
	x32, z32 := make([]float32, in.size()), make([]float32, 2*4*5*4)
	fill(x32, 3, 1)
	fill(z32, 4, 1)
	x, z := widen(x32), widen(z32)
	for n := range 2 {
		for _, zz := range [][]float64{nil, z} {
			img := func(v []float64, c int) []float64 {
				if v == nil {
					return nil
				}
				return v[n*c*in.h*in.w : (n+1)*c*in.h*in.w]
			}
			got, want := l.forward(in.h, in.w, img(x, l.c), img(zz, l.k)), naiveConv(l, in, x, zz, n)
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-12 {
					t.Fatalf("n=%d z=%v: out[%d] = %v, want %v", n, zz != nil, i, got[i], want[i])
				}
			}
		}
	}
}

func TestPoolAndGemm(t *testing.T) {
	y := globalAvgPool([]float64{1, 2, 3, 4, 10, 20, 30, 40}, 2, 4)
	if y[0] != 2.5 || y[1] != 25 {
		t.Errorf("globalAvgPool = %v", y)
	}
	// x 2×3, w 2×3: y = x·wᵀ
	g := gemmNT([]float64{1, 2, 3, 4, 5, 6}, []float32{1, 0, 0, 0, 1, 1}, 2, 2, 3)
	if want := []float64{1, 5, 4, 11}; g[0] != want[0] || g[1] != want[1] || g[2] != want[2] || g[3] != want[3] {
		t.Errorf("gemmNT = %v, want %v", g, want)
	}
}

func TestRelErr(t *testing.T) {
	if e := relErr([]float32{1, 2.0002}, []float64{1, 2}); math.Abs(e-1e-4) > 1e-7 {
		t.Errorf("relErr = %v", e)
	}
	if e := relErr([]float32{float32(math.NaN())}, []float64{1}); !math.IsInf(e, 1) {
		t.Errorf("relErr with NaN = %v", e)
	}
}

func TestSummarize(t *testing.T) {
	v := make([]float64, 1000)
	for i := range v {
		v[i] = float64(1000 - i) // 1000 … 1
	}
	d := summarize(v)
	if d.p50 != 500 || d.p99 != 990 || d.p999 != 999 || d.worst != 1000 || d.n != 1000 {
		t.Errorf("summarize = %+v", d)
	}
	if got := d.tail(); got != 999.0/500 {
		t.Errorf("tail = %v", got)
	}
}
