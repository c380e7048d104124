//go:build cgo

package cpuexec

// isas are the instruction sets this CPU runs, isaGo first: what the
// kernels' tests compare and their benchmarks time side by side.
func isas() []isa {
	var l []isa
	for i := isaGo; i < numISAs; i++ {
		if i.supported() {
			l = append(l, i)
		}
	}
	return l
}
