//go:build !cgo

package cpuexec

// im2colWork is the floats of work im2colPanel needs for up to np
// positions: their patch matrix.
func (k *convKernel) im2colWork(np int) int { return k.kdim * np }

// im2colPanel writes the patches of positions [p0, p0+np) into work and
// packs them into panel, without cgo.
func (k *convKernel) im2colPanel(xg, work, panel []float32, p0, np int) {
	k.im2colGo(xg, work, p0, np)
	packB(k.kdim, np, work, np, panel)
}

// planes writes output rows [r0, r1) of the planes of units [lo, hi):
// planesGo, without cgo.
func (d *depthwiseKernel) planes(x, w, bias, z, y, work []float32, lo, hi, r0, r1 int) {
	d.planesGo(x, w, bias, z, y, work, lo, hi, r0, r1)
}

// phasePlanes pools the planes of units [lo, hi): planesGo, without cgo.
func (k *poolKernel) phasePlanes(x, y, _ []float32, lo, hi int) { k.planesGo(x, y, lo, hi) }

// pool writes the pools of x's planes [lo, hi): planesGo, without cgo.
func (k *gapKernel) pool(x, y []float32, lo, hi int) { k.planesGo(x, y, lo, hi) }
