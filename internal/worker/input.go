package worker

import (
	"math/rand/v2"
	"sync"

	"github.com/pierrec/lz4/v4"

	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// decodeInput turns an Infer's body into batch × itemSize bytes of input
// (spec/worker.md §3.5): generated when the body is empty, LZ4-decompressed
// item by item when input_sizes are given (an item of size 0 is generated),
// or taken as is.
func decodeInput(op *Op) ([]byte, error) {
	n := uint64(op.batch) * op.itemSize
	switch {
	case op.generate:
		return generatedInput(n), nil
	case len(op.inputSizes) == 0:
		if uint64(len(op.input)) != n {
			return nil, runtime.Errorf(workerapi.CopyInputInvalidInput, "input of %d bytes, expected %d", len(op.input), n)
		}
		return op.input, nil
	case len(op.inputSizes) > op.batch:
		return nil, runtime.Errorf(workerapi.CopyInputBadSizes, "%d compressed inputs for batch size %d", len(op.inputSizes), op.batch)
	}
	out := make([]byte, n)
	body := op.input
	for i, size := range op.inputSizes {
		item := out[uint64(i)*op.itemSize : uint64(i+1)*op.itemSize]
		if size == 0 {
			copy(item, generatedInput(op.itemSize))
			continue
		}
		if uint64(size) > uint64(len(body)) {
			return nil, runtime.Errorf(workerapi.CopyInputBadSizes, "compressed input %d (%d bytes) overruns the body", i, size)
		}
		got, err := lz4.UncompressBlock(body[:size], item)
		if err != nil || uint64(got) != op.itemSize {
			return nil, runtime.Errorf(workerapi.CopyInputBadDecompress,
				"input %d does not decompress to %d bytes (got %d, %v)", i, op.itemSize, got, err)
		}
		body = body[size:]
	}
	for i := len(op.inputSizes); i < op.batch; i++ {
		copy(out[uint64(i)*op.itemSize:], generatedInput(op.itemSize))
	}
	return out, nil
}

var generated struct {
	sync.Mutex
	bySize map[uint64][]byte
}

// generatedInput returns n bytes of float32 values in [1, 2), the same for
// every call with the same n (the original used sample images). Callers
// must not modify the slice.
func generatedInput(n uint64) []byte {
	generated.Lock()
	defer generated.Unlock()
	if b, ok := generated.bySize[n]; ok {
		return b
	}
	if generated.bySize == nil {
		generated.bySize = make(map[uint64][]byte)
	}
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(n), 1))
	for i := uint64(0); i+4 <= n; i += 4 {
		bits := 0x3f800000 | r.Uint32()>>9 // exponent of 1.0, random mantissa
		b[i], b[i+1], b[i+2], b[i+3] = byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24)
	}
	generated.bySize[n] = b
	return b
}
