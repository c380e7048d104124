package worker

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/pierrec/lz4/v4"

	"github.com/clockwork-go/clockwork/client"
	"github.com/clockwork-go/clockwork/internal/wire"
)

// imageItem is an ImageNet input item as clients send them
// (client.ImageInput: about 95 KB compressed).
func imageItem(seed uint64) []byte {
	return client.ImageInput(rand.New(rand.NewPCG(seed, 7)), 3*224*224*4)
}

// compressedOp is the copy-input operation of a batch of b LZ4-compressed
// ImageNet items, as the controller forwards the client's requests.
func compressedOp(tb testing.TB, b int) *Op {
	op := &Op{batch: b, padded: b, itemSize: 3 * 224 * 224 * 4}
	for i := range b {
		item := imageItem(uint64(i))
		dst := make([]byte, lz4.CompressBlockBound(len(item)))
		n, err := lz4.CompressBlock(item, dst, nil)
		if err != nil || n == 0 {
			tb.Fatalf("compressing: %d, %v", n, err)
		}
		op.input = append(op.input, dst[:n]...)
		op.inputSizes = append(op.inputSizes, uint32(n))
	}
	return op
}

// BenchmarkDecodeInput is the worker's decompression of an Infer's
// LZ4-compressed ImageNet items at batch sizes 1 and 16: "alloc" as it was
// (a fresh buffer, one goroutine), "pooled" with a buffer of the wire's
// pools, and "decodeInput" as it is now (pooled, and items decompressed in
// parallel when the batch is large enough).
func BenchmarkDecodeInput(b *testing.B) {
	for _, batch := range []int{1, 16} {
		op := compressedOp(b, batch)
		n := uint64(batch) * op.itemSize
		run := func(name string, f func() error) {
			b.Run(fmt.Sprintf("b%d/%s", batch, name), func(b *testing.B) {
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					if err := f(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		run("alloc", func() error { return decompress(make([]byte, n), op, 1) })
		run("pooled", func() error {
			out := wire.GetBuffer(int(n))
			defer wire.PutBuffer(out)
			return decompress(out, op, 1)
		})
		run("decodeInput", func() error {
			in, pooled, err := decodeInput(op, inputBuffers{})
			if pooled {
				wire.PutBuffer(in)
			}
			return err
		})
	}
}
