package client

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// ImageInput returns size bytes of input that LZ4 compresses as it does a
// pre-processed photo, the original's sample inputs: float32 pixel values
// k/255 in runs along a row (8 on average, each level near the last), so
// that a 602,112-byte ResNet input compresses to about 95 KB, where the
// original's images gave about 91 KB and uniform noise 430 KB. A size that
// is not a multiple of 4 ends in zero bytes.
func ImageInput(rng *rand.Rand, size uint64) []byte {
	b := make([]byte, size)
	level, run := rng.IntN(256), 0
	for i := uint64(0); i+4 <= size; i += 4 {
		if run == 0 {
			level = min(255, max(0, level+rng.IntN(33)-16))
			run = 1 + rng.IntN(16)
		}
		run--
		binary.LittleEndian.PutUint32(b[i:], math.Float32bits(float32(level)/255))
	}
	return b
}
