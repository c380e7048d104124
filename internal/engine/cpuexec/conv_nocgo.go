//go:build !cgo

package cpuexec

// gathersPatches says whether im2colPanel takes a patch matrix: it does.
const gathersPatches = true

// im2colPanel writes the patches of positions [p0, p0+np) into patches
// and packs them into panel, without cgo.
func (k *convKernel) im2colPanel(xg, patches, panel []float32, p0, np int) {
	k.im2colGo(xg, patches, p0, np)
	packB(k.kdim, np, patches, np, panel)
}

// planes writes the output planes of units [lo, hi): planesGo, without
// cgo.
func (d *depthwiseKernel) planes(x, w, bias, z, y, work []float32, lo, hi int) {
	d.planesGo(x, w, bias, z, y, work, lo, hi)
}

// phasePlanes pools the planes of units [lo, hi): planesGo, without cgo.
func (k *poolKernel) phasePlanes(x, y, _ []float32, lo, hi int) { k.planesGo(x, y, lo, hi) }

// pool writes the pools of x's planes [lo, hi): planesGo, without cgo.
func (k *gapKernel) pool(x, y []float32, lo, hi int) { k.planesGo(x, y, lo, hi) }
