//go:build !cgo

package cpuexec

import "github.com/clockwork-go/clockwork/internal/engine"

// activate applies act to v in place.
func activate(act engine.Activation, v []float32) { activateGo(act, v) }

// affine writes x·s + t to y (as long).
func affine(x, y []float32, s, t float32) { affineGo(x, y, s, t) }

// softmaxRow writes the softmax of x to y (as long).
func softmaxRow(x, y []float32) { softmaxRowGo(x, y) }
