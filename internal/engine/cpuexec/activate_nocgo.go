//go:build !cgo

package cpuexec

import "github.com/clockwork-go/clockwork/internal/engine"

// activate applies act to v in place.
func activate(act engine.Activation, v []float32) { activateGo(act, v) }

// softmaxRow writes the softmax of x to y (as long).
func softmaxRow(x, y []float32) { softmaxRowGo(x, y) }
