//go:build !cgo

package cpuexec

// winogradFiltersOf writes the transforms of filters [f0, f1) of w to u:
// winogradFiltersGo, without cgo.
func winogradFiltersOf(mc int, w, u []float32, f0, f1 int) { winogradFiltersGo(mc, w, u, f0, f1) }

// input transforms the patches of tiles [t0, t0+nt): inputGo, without cgo.
func (w *winogradKernel) input(x, v []float32, ld, t0, nt int, work []float32) {
	w.inputGo(x, v, ld, t0, nt, work)
}

// output writes the outputs of tiles [t0, t0+nt) of m channels: outputGo,
// without cgo.
func (w *winogradKernel) output(m int, mo []float32, ld int, bias, z, y []float32, t0, nt int, work []float32) {
	w.outputGo(m, mo, ld, bias, z, y, t0, nt, work)
}
