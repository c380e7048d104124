//go:build !cgo

package cpuexec

import "github.com/clockwork-go/clockwork/internal/engine"

// activate applies act to v in place.
func activate(act engine.Activation, v []float32) { activateGo(act, v) }

// affine writes x·s + t to y (as long).
func affine(x, y []float32, s, t float32) { affineGo(x, y, s, t) }

// layerNormRows normalises rows [lo, hi) of n floats: layerNormRowsGo.
func layerNormRows(x, y, scale, bias []float32, n int, eps float64, lo, hi int) {
	layerNormRowsGo(x, y, scale, bias, n, eps, lo, hi)
}

// softmaxRow writes the softmax of x to y (as long).
func softmaxRow(x, y []float32) { softmaxRowGo(x, y) }
