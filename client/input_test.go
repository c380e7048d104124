package client

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestImageInput: pixel values k/255, the same for the same seed, and a
// ResNet input compresses about as the original's sample images did.
func TestImageInput(t *testing.T) {
	in := ImageInput(rand.New(rand.NewPCG(1, 2)), 602112)
	for i := 0; i < len(in); i += 4 {
		v := math.Float32frombits(binary.LittleEndian.Uint32(in[i:]))
		if k := v * 255; v < 0 || v > 1 || math.Abs(float64(k)-math.Round(float64(k))) > 1e-3 {
			t.Fatalf("value %g at %d is no pixel k/255", v, i/4)
		}
	}
	if n := len(Compress(in)); n < 60_000 || n > 130_000 {
		t.Errorf("compressed to %d bytes, want about 95,000 (the original's images: about 91,000)", n)
	}
	if again := ImageInput(rand.New(rand.NewPCG(1, 2)), 602112); !slices.Equal(in, again) {
		t.Error("the same seed gave another input")
	}
	if odd := ImageInput(rand.New(rand.NewPCG(1, 2)), 7); len(odd) != 7 || odd[4] != 0 {
		t.Errorf("7 bytes: %v", odd)
	}
}
