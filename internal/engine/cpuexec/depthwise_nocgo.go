//go:build !cgo

package cpuexec

// plane writes one output plane: planeGo, without cgo.
func (d *depthwiseKernel) plane(src, w []float32, b float32, z, dst []float32) {
	d.planeGo(src, w, b, z, dst)
}
