package worker

import (
	"math/rand/v2"
	goruntime "runtime"
	"sync"

	"github.com/pierrec/lz4/v4"

	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// inputBuffers hands out the buffers that inputs are read and
// decompressed into: memory of the runtime's where it lends some
// (runtime.HostMemory: the CUDA runtime's pinned memory, which the GPU
// copies from without a staging copy), else the wire's pools (a batch of
// 16 ImageNet items is 9.6 MB, and allocating it afresh for every Infer
// costs its zeroing and frequent garbage collections). As a
// wire.Allocator it serves the bodies of Infer actions: the raw input, or
// its compressed items.
type inputBuffers struct{ host runtime.HostMemory }

func newInputBuffers(rt runtime.Runtime) inputBuffers {
	hm, _ := rt.(runtime.HostMemory)
	return inputBuffers{hm}
}

func (ib inputBuffers) get(n int) []byte {
	if ib.host != nil {
		if b := ib.host.AllocHost(n); b != nil {
			return b
		}
	}
	return wire.GetBuffer(n)
}

func (ib inputBuffers) put(b []byte) {
	if ib.host == nil || !ib.host.FreeHost(b) {
		wire.PutBuffer(b)
	}
}

// Alloc implements wire.Allocator.
func (ib inputBuffers) Alloc(typ uint64, n int) []byte {
	if typ == workerapi.MsgInfer {
		return ib.get(n)
	}
	return wire.GetBuffer(n)
}

// Free implements wire.Allocator.
func (ib inputBuffers) Free(b []byte) { ib.put(b) }

// decodeInput turns an Infer's body into batch × itemSize bytes of input
// (spec/worker.md §3.5): generated when the body is empty, LZ4-decompressed
// item by item when input_sizes are given (an item of size 0 is generated),
// or taken as is. owned says the input is a buffer from bufs, which the
// caller gives back (bufs.put) once it has been copied.
func decodeInput(op *Op, bufs inputBuffers) (input []byte, owned bool, err error) {
	n := uint64(op.batch) * op.itemSize
	switch {
	case op.generate:
		return generatedInput(op.itemSize, op.batch), false, nil
	case len(op.inputSizes) == 0:
		if uint64(len(op.input)) != n {
			return nil, false, runtime.Errorf(workerapi.CopyInputInvalidInput, "input of %d bytes, expected %d", len(op.input), n)
		}
		return op.input, false, nil
	case len(op.inputSizes) > op.batch:
		return nil, false, runtime.Errorf(workerapi.CopyInputBadSizes, "%d compressed inputs for batch size %d", len(op.inputSizes), op.batch)
	}
	out := bufs.get(int(n))
	if err := decompress(out, op, decodeWorkers(n, len(op.inputSizes))); err != nil {
		bufs.put(out)
		return nil, false, err
	}
	return out, true, nil
}

// parallelBytes is the least input that is decompressed by more than one
// goroutine: an ImageNet item as clients send it takes 0.2-0.5 ms
// (BenchmarkDecodeInput: 0.22 ms on the development machine, 0.42-0.49 on
// an H100 host's CPUs), many times what starting and joining goroutines
// costs, while small models' items are done sooner than a goroutine
// starts. (Each goroutine taking the next item, the caller too, rather
// than items dealt out in turn, measured slower at batch size 16 on 16 of
// that host's CPUs: 0.88-1.05 ms against 0.72-0.77.)
const parallelBytes = 512 << 10

// decodeWorkers is how many goroutines decompress an n-byte batch of items.
func decodeWorkers(n uint64, items int) int {
	return max(1, min(items, goruntime.GOMAXPROCS(0), int(n/parallelBytes)))
}

// decompress fills out with op's items: the compressed ones decompressed
// by up to workers goroutines (items are independent, and at batch size
// 16 a single goroutine would hold the copy-input stage for milliseconds),
// the others generated. The error is the one the first failing item gives,
// as if the items were decoded in order.
func decompress(out []byte, op *Op, workers int) error {
	// Where each item's bytes start; an item overrunning the body ends the
	// items that can be decoded.
	offs := make([]int, 0, len(op.inputSizes))
	var overrun error
	end := 0
	for i, size := range op.inputSizes {
		if uint64(size) > uint64(len(op.input)-end) {
			overrun = runtime.Errorf(workerapi.CopyInputBadSizes, "compressed input %d (%d bytes) overruns the body", i, size)
			break
		}
		offs = append(offs, end)
		end += int(size)
	}
	errs := make([]error, len(offs))
	decode := func(i int) {
		item := out[uint64(i)*op.itemSize : uint64(i+1)*op.itemSize]
		size := int(op.inputSizes[i])
		if size == 0 {
			copy(item, generatedInput(op.itemSize, 1))
			return
		}
		got, err := lz4.UncompressBlock(op.input[offs[i]:offs[i]+size], item)
		if err != nil || uint64(got) != op.itemSize {
			errs[i] = runtime.Errorf(workerapi.CopyInputBadDecompress,
				"input %d does not decompress to %d bytes (got %d, %v)", i, op.itemSize, got, err)
		}
	}
	if workers <= 1 {
		for i := range offs {
			decode(i)
		}
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < len(offs); i += workers {
					decode(i)
				}
			})
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	if overrun != nil {
		return overrun
	}
	for i := len(op.inputSizes); i < op.batch; i++ {
		copy(out[uint64(i)*op.itemSize:], generatedInput(op.itemSize, 1))
	}
	return nil
}

// generated holds, for each item size, the inputs of the largest batch
// generated so far; a smaller batch's are their start. (One buffer a
// batch size held 136 items a model's input size for batch sizes 1 to 16,
// where this holds 16.)
var generated struct {
	sync.Mutex
	byItem map[uint64][]byte
}

// generatedInput returns batch items of itemSize bytes of float32 values
// in [1, 2), the same for every call with the same item size (the original
// used sample images). Callers must not modify the slice.
func generatedInput(itemSize uint64, batch int) []byte {
	n := itemSize * uint64(batch)
	generated.Lock()
	defer generated.Unlock()
	if b := generated.byItem[itemSize]; uint64(len(b)) >= n {
		return b[:n:n]
	}
	if generated.byItem == nil {
		generated.byItem = make(map[uint64][]byte)
	}
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(itemSize, 1))
	for i := uint64(0); i+4 <= n; i += 4 {
		bits := 0x3f800000 | r.Uint32()>>9 // exponent of 1.0, random mantissa
		b[i], b[i+1], b[i+2], b[i+3] = byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24)
	}
	generated.byItem[itemSize] = b
	return b
}
