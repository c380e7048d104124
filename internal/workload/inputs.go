package workload

import (
	"math/rand/v2"

	"github.com/clockwork-go/clockwork/client"
)

// inputVariants is how many different inputs are made per input size. The
// original replays 20 pre-processed images per size; a few image-like ones
// serve as well, since no one looks at the outputs.
const inputVariants = 4

// inputs makes, once per input size, a few image-like float32 tensors
// (client.ImageInput), keeps them LZ4-compressed, and hands one out at
// random per request. Requests thus cost no compression, as in the
// original, and as much network.
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
			v[i] = client.Compress(client.ImageInput(in.rng, size))
		}
		in.bySize[size] = v
	}
	return v[in.rng.IntN(len(v))]
}
