//go:build linux && cgo

package cuda

import (
	"errors"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// TestIndexLimits: tensors and pools whose 32-bit kernel indices would
// wrap (a grid-stride loop's last step past 2^31, the average pool's
// thread index past 2^32) are refused at Load rather than read out of
// bounds on the GPU, which takes the GPU out of service.
func TestIndexLimits(t *testing.T) {
	ref := func(elems int) engine.TensorRef {
		return engine.TensorRef{Region: engine.IO, Shape: []int{1, elems}}
	}
	p := &engine.Plan{IOBytes: 1 << 40}
	if err := checkRef(p, ref(maxElems), 1); err != nil {
		t.Errorf("%d elements: %v", maxElems, err)
	}
	if err := checkRef(p, ref(maxElems+1), 1); !errors.Is(err, errUnsupported) {
		t.Errorf("%d elements: %v, want unsupported", maxElems+1, err)
	}
	gap := func(planes int) error {
		_, err := newGAPStep(&engine.GlobalPool{X: engine.TensorRef{Shape: []int{1, planes, 1, 1}},
			Y: engine.TensorRef{Shape: []int{1, planes}}})
		return err
	}
	if err := gap(maxGAPPlanes); err != nil {
		t.Errorf("%d planes: %v", maxGAPPlanes, err)
	}
	if err := gap(maxGAPPlanes + 8); !errors.Is(err, errUnsupported) {
		t.Errorf("%d planes: %v, want unsupported", maxGAPPlanes+8, err)
	}
}
