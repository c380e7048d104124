//go:build linux && cgo

package cuda

import (
	"math"
	"math/rand/v2"
	"testing"
)

// dev is a test tensor: host values and their device copy.
type dev struct {
	host []float32
	ptr  DevicePtr
}

func upload(t *testing.T, v []float32) dev {
	t.Helper()
	h := hostAlloc(t, 4*len(v))
	copy(h.Float32s(), v)
	p := alloc(t, uint64(4*len(v)))
	check(t, MemcpyHtoDAsync(p, h.Ptr(0), uint64(4*len(v)), Stream{}))
	check(t, Stream{}.Synchronize())
	return dev{v, p}
}

func download(t *testing.T, d dev) []float32 {
	t.Helper()
	h := hostAlloc(t, 4*len(d.host))
	check(t, MemcpyDtoHAsync(h.Ptr(0), d.ptr, uint64(4*len(d.host)), Stream{}))
	check(t, Stream{}.Synchronize())
	return append([]float32(nil), h.Float32s()...)
}

func random(n int, seed uint64, scale float32) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, n)
	for i := range v {
		v[i] = scale * (2*r.Float32() - 1)
	}
	return v
}

func tensor4(t *testing.T, n, c, h, w int) TensorDesc {
	t.Helper()
	d, err := NewTensorDesc()
	check(t, err)
	t.Cleanup(func() { d.Destroy() })
	check(t, d.Set4d(FormatNCHW, DataFloat, n, c, h, w))
	return d
}

func near(t *testing.T, what string, got []float32, want []float64) {
	t.Helper()
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > 1e-5*(1+math.Abs(want[i])) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

func dnnHandle(t *testing.T) DNN {
	t.Helper()
	gpu(t)
	if _, err := LoadCUDNN(); err != nil {
		t.Skipf("no cuDNN: %v", err)
	}
	h, err := NewDNN()
	check(t, err)
	t.Cleanup(func() { h.Destroy() })
	check(t, h.SetStream(Stream{}))
	return h
}

// TestGPUDNNElementwise checks activations, bias addition and softmax.
func TestGPUDNNElementwise(t *testing.T) {
	h := dnnHandle(t)
	const n, c, hw = 2, 3, 4
	x := upload(t, random(n*c*hw*hw, 1, 10))
	y := upload(t, make([]float32, n*c*hw*hw))
	td := tensor4(t, n, c, hw, hw)

	act, err := NewActivationDesc()
	check(t, err)
	defer act.Destroy()
	check(t, act.Set(ActivationClippedRelu, NotPropagateNaN, 6))
	check(t, h.ActivationForward(act, 1, td, x.ptr, 0, td, y.ptr))
	want := make([]float64, len(x.host))
	for i, v := range x.host {
		want[i] = math.Min(math.Max(float64(v), 0), 6)
	}
	near(t, "relu6", download(t, y), want)

	bias := upload(t, []float32{1, -2, 3})
	bd := tensor4(t, 1, c, 1, 1)
	check(t, h.AddTensor(1, bd, bias.ptr, 1, td, y.ptr))
	for i := range want {
		want[i] += float64(bias.host[(i/(hw*hw))%c])
	}
	near(t, "add", download(t, y), want)

	logits := upload(t, random(n*10, 2, 3))
	probs := upload(t, make([]float32, n*10))
	sd := tensor4(t, n, 10, 1, 1)
	check(t, h.SoftmaxForward(SoftmaxAccurate, SoftmaxInstance, 1, sd, logits.ptr, 0, sd, probs.ptr))
	want = make([]float64, n*10)
	for i := range n {
		var sum float64
		for j := range 10 {
			want[i*10+j] = math.Exp(float64(logits.host[i*10+j]))
			sum += want[i*10+j]
		}
		for j := range 10 {
			want[i*10+j] /= sum
		}
	}
	near(t, "softmax", download(t, probs), want)
}

// TestGPUDNNPooling checks max pooling and average pooling without padding
// in the count.
func TestGPUDNNPooling(t *testing.T) {
	h := dnnHandle(t)
	const c, hw = 2, 5
	x := upload(t, random(c*hw*hw, 3, 1))
	xd := tensor4(t, 1, c, hw, hw)
	pool, err := NewPoolingDesc()
	check(t, err)
	defer pool.Destroy()

	// 3×3 windows, padding 1, stride 2: 3×3 outputs.
	for _, mode := range []PoolingMode{PoolMax, PoolAvgExcludePadding} {
		check(t, pool.Set2d(mode, NotPropagateNaN, 3, 3, 1, 1, 2, 2))
		y := upload(t, make([]float32, c*3*3))
		check(t, h.PoolingForward(pool, 1, xd, x.ptr, 0, tensor4(t, 1, c, 3, 3), y.ptr))
		var want []float64
		for ch := range c {
			for oh := range 3 {
				for ow := range 3 {
					best, sum, count := math.Inf(-1), 0.0, 0
					for r := range 3 {
						for q := range 3 {
							ih, iw := 2*oh-1+r, 2*ow-1+q
							if ih < 0 || ih >= hw || iw < 0 || iw >= hw {
								continue
							}
							v := float64(x.host[(ch*hw+ih)*hw+iw])
							best, sum, count = math.Max(best, v), sum+v, count+1
						}
					}
					if mode == PoolMax {
						want = append(want, best)
					} else {
						want = append(want, sum/float64(count))
					}
				}
			}
		}
		near(t, "pool", download(t, y), want)
	}
}

// TestGPUDNNGroupedConv checks a strided grouped convolution with the
// heuristic-free path: every algorithm Find reports as working.
func TestGPUDNNGroupedConv(t *testing.T) {
	h := dnnHandle(t)
	const n, c, k, hw, groups = 1, 4, 6, 7, 2
	x := upload(t, random(n*c*hw*hw, 4, 1))
	w := upload(t, random(k*(c/groups)*3*3, 5, 1))
	xd := tensor4(t, n, c, hw, hw)
	fd, err := NewFilterDesc()
	check(t, err)
	defer fd.Destroy()
	check(t, fd.Set4d(DataFloat, FormatNCHW, k, c/groups, 3, 3))
	cd, err := NewConvDesc()
	check(t, err)
	defer cd.Destroy()
	check(t, cd.Set2d(1, 1, 2, 2, 1, 1, CrossCorrelation, DataFloat))
	check(t, cd.SetGroupCount(groups))
	check(t, cd.SetMathType(MathFMA))
	on, ok, oh, ow, err := cd.OutputDim2d(xd, fd)
	check(t, err)
	if on != n || ok != k || oh != 4 || ow != 4 {
		t.Fatalf("output %d×%d×%d×%d, want 1×6×4×4", on, ok, oh, ow)
	}
	yd := tensor4(t, n, k, 4, 4)
	y := upload(t, make([]float32, n*k*4*4))
	const wsSize = 64 << 20
	ws := alloc(t, wsSize)
	perfs, err := h.FindConvolutionForwardAlgorithmEx(xd, x.ptr, fd, w.ptr, cd, yd, y.ptr, ws, wsSize)
	check(t, err)

	var want []float64
	for oc := range k {
		g := oc / (k / groups)
		for i := range 4 {
			for j := range 4 {
				var s float64
				for ic := range c / groups {
					for r := range 3 {
						for q := range 3 {
							ih, iw := 2*i-1+r, 2*j-1+q
							if ih >= 0 && ih < hw && iw >= 0 && iw < hw {
								s += float64(w.host[((oc*(c/groups)+ic)*3+r)*3+q]) * float64(x.host[((g*(c/groups)+ic)*hw+ih)*hw+iw])
							}
						}
					}
				}
				want = append(want, s)
			}
		}
	}
	tried := 0
	for _, pf := range perfs {
		if pf.Status != 0 || pf.MathType == MathTensorOp || pf.MathType == MathTensorOpAllowConversion {
			continue
		}
		need, err := h.ConvolutionForwardWorkspaceSize(xd, fd, cd, yd, pf.Algo)
		check(t, err)
		check(t, h.ConvolutionForward(1, xd, x.ptr, fd, w.ptr, cd, pf.Algo, ws, need, 0, yd, y.ptr))
		near(t, pf.Algo.String(), download(t, y), want)
		tried++
	}
	if tried == 0 {
		t.Fatalf("no fp32 algorithm among %+v", perfs)
	}
}

// TestGPUBLASBatched checks SgemmStridedBatched: two products of 2×3 by
// 3×2 matrices, column-major.
func TestGPUBLASBatched(t *testing.T) {
	gpu(t)
	if _, err := LoadCUBLAS(); err != nil {
		t.Skipf("no cuBLAS: %v", err)
	}
	h, err := NewBLAS()
	check(t, err)
	defer h.Destroy()
	check(t, h.SetStream(Stream{}))
	check(t, h.SetMathMode(BLASDefaultMath))
	if v, err := h.Version(); err != nil || v <= 0 {
		t.Fatalf("Version = %d, %v", v, err)
	}
	const m, n, k, count = 2, 2, 3, 2
	a := upload(t, random(m*k*count, 6, 1))
	b := upload(t, random(k*n*count, 7, 1))
	c := upload(t, make([]float32, m*n*count))
	check(t, h.SgemmStridedBatched(OpN, OpN, m, n, k, 1, a.ptr, m, m*k, b.ptr, k, k*n, 0, c.ptr, m, m*n, count))
	var want []float64
	for p := range count {
		for j := range n {
			for i := range m {
				var s float64
				for l := range k {
					s += float64(a.host[p*m*k+i+l*m]) * float64(b.host[p*k*n+l+j*k])
				}
				want = append(want, s)
			}
		}
	}
	near(t, "gemm", download(t, c), want)
}
