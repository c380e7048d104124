package controllercmd

import (
	"math/rand/v2"
	"sync"

	"github.com/clockwork-go/clockwork/client"
	"github.com/clockwork-go/clockwork/internal/wire"
)

// generatedInputs returns the source of inputs for requests that came
// without one (generate_inputs): one LZ4-compressed image-like input
// (client.ImageInput) per input size, made once (the original used sample
// images of four fixed sizes and crashed on any other size). A size no
// frame could carry, which only a worker's bogus figure gives, gets no
// input (the worker then makes one up itself) rather than the
// controller's memory.
func generatedInputs() func(size uint64) []byte {
	var mu sync.Mutex
	cache := map[uint64][]byte{}
	return func(size uint64) []byte {
		if size > wire.DefaultMaxBodySize {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		if b, ok := cache[size]; ok {
			return b
		}
		b := client.Compress(client.ImageInput(rand.New(rand.NewPCG(size, 2)), size))
		cache[size] = b
		return b
	}
}
