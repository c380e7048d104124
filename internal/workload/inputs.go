package workload

import (
	"encoding/binary"
	"math"
	"math/rand/v2"

	"github.com/clockwork-go/clockwork/client"
)

// inputVariants is how many different inputs are made per input size. The
// original replays 20 pre-processed images per size; a few random ones
// serve as well, since no one looks at the outputs.
const inputVariants = 4

// inputs makes, once per input size, a few random float32 tensors, keeps
// them LZ4-compressed, and hands one out at random per request. Requests
// thus cost no compression, as in the original.
type inputs struct {
	rng    *rand.Rand
	bySize map[uint64][][]byte
}

func newInputs(rng *rand.Rand) *inputs {
	return &inputs{rng: rng, bySize: make(map[uint64][][]byte)}
}

// get returns a compressed input of size bytes (before compression).
func (in *inputs) get(size uint64) []byte {
	v, ok := in.bySize[size]
	if !ok {
		v = make([][]byte, inputVariants)
		for i := range v {
			v[i] = client.Compress(in.tensor(size))
		}
		in.bySize[size] = v
	}
	return v[in.rng.IntN(len(v))]
}

// tensor returns size bytes holding float32 values k/255, like an image
// scaled to [0, 1]; a size that is not a multiple of 4 ends in random bytes.
func (in *inputs) tensor(size uint64) []byte {
	b := make([]byte, size)
	n := size / 4 * 4
	for i := uint64(0); i < n; i += 4 {
		v := float32(in.rng.IntN(256)) / 255
		binary.LittleEndian.PutUint32(b[i:], math.Float32bits(v))
	}
	for i := n; i < size; i++ {
		b[i] = byte(in.rng.Uint32())
	}
	return b
}
