//go:build cgo

package cpuexec

import "math"

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

// firstDiff is the first index at which got and want differ, to the bit
// but for which NaN (the payload a sum keeps is the compiler's choice),
// or -1 where they do not.
func firstDiff(got, want []float32) int {
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			return i
		}
	}
	return -1
}
