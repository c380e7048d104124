//go:build !cgo

package cpuexec

// binary writes A op B for units [lo, hi): binaryGo, without cgo.
func (k *binaryKernel) binary(a, b, y []float32, lo, hi int) { k.binaryGo(a, b, y, lo, hi) }
