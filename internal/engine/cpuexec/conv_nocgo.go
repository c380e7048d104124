//go:build !cgo

package cpuexec

// im2col writes patches: im2colGo, without cgo.
func (k *convKernel) im2col(xg, cols []float32, p0, np int) { k.im2colGo(xg, cols, p0, np) }

// planes writes the output planes of units [lo, hi): planesGo, without
// cgo.
func (d *depthwiseKernel) planes(x, w, bias, z, y, work []float32, lo, hi int) {
	d.planesGo(x, w, bias, z, y, work, lo, hi)
}

// phasePlanes pools the planes of units [lo, hi): planesGo, without cgo.
func (k *poolKernel) phasePlanes(x, y, _ []float32, lo, hi int) { k.planesGo(x, y, lo, hi) }
