package controllercmd

import (
	"math/rand/v2"
	"sync"

	"github.com/clockwork-go/clockwork/client"
	"github.com/clockwork-go/clockwork/internal/wire"
)

// generatedInputs returns the source of inputs for requests that came
// without one (generate_inputs): one LZ4-compressed input of random
// float32 values per input size, made once (the original used sample
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
		raw := make([]byte, size)
		r := rand.New(rand.NewPCG(size, 2))
		for i := uint64(0); i+4 <= size; i += 4 {
			bits := 0x3f800000 | r.Uint32()>>9 // a float32 in [1, 2)
			raw[i], raw[i+1], raw[i+2], raw[i+3] = byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24)
		}
		b := client.Compress(raw)
		cache[size] = b
		return b
	}
}
