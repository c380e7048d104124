//go:build !cgo

package cpuexec

// im2col writes patches: im2colGo, without cgo.
func (k *convKernel) im2col(xg, cols []float32, p0, np int) { k.im2colGo(xg, cols, p0, np) }

// plane writes one output plane: planeGo, without cgo.
func (d *depthwiseKernel) plane(src, w []float32, b float32, z, dst []float32) {
	d.planeGo(src, w, b, z, dst)
}
