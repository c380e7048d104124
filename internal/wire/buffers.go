package wire

import (
	"math/bits"
	"sync"
	"unsafe"
)

// Pools of reusable buffers for message bodies. A worker receives
// every Infer's input as a body: 602112 bytes an ImageNet item, 9.6 MB at
// batch size 16. Allocating each afresh costs zeroing it and page faults
// (the Go runtime clears large allocations, and returns freed memory to
// the OS) and, with a live heap of a few tens of MB, a garbage collection
// every few Infers: on a worker serving batch 16 on fakecuda, 811
// collections where the pools leave 8 (cmd/gpucheck -overhead). A
// connection made WithBodyPool reads bodies into these buffers and its
// receiver gives each back with Message.Release; the worker also
// decompresses inputs into them (where its runtime lends no pinned memory)
// and copies outputs out through them. Outputs are small (4,000 bytes an
// ImageNet item) but there is one a result, so buffers are pooled from
// 1 KiB up: with that and its completions no longer boxed (worker's
// minheap.go), a worker on fakecuda collected 8 times in 10,000 Infers
// of batch size 1 where it had collected 25 (cmd/gpucheck -overhead,
// GODEBUG=gctrace=1), and 6 once PutBuffer stopped boxing every buffer it
// was given (with the worker's own fixes of the same commit).
//
// Sizes are rounded up to classes a quarter of a power of two apart (at
// most 25% unused), so that bodies of about the same size, such as the
// LZ4-compressed inputs of one model, share buffers.
const (
	minPooled = 1 << 10  // smaller buffers are plain allocations
	maxPooled = 32 << 20 // and so are larger ones
	minShift  = 10       // log2(minPooled)
	numPools  = 4 * (25 - minShift)
)

// pools hold a buffer as a pointer to its first byte (its capacity is
// its class's size): a slice would be boxed, an allocation at every Put.
var pools [numPools]sync.Pool

// class returns the pool index and the buffer size for an n-byte body,
// minPooled < n <= maxPooled: with 2^(k-1) < n <= 2^k, sizes step by a
// quarter of 2^(k-1).
func class(n int) (idx, size int) {
	k := bits.Len(uint(n - 1))
	step := 1 << (k - 3)
	q := (n + step - 1) / step // 5..8
	return 4*(k-1-minShift) + q - 5, q * step
}

// An Allocator provides the buffers a connection reads message bodies
// into (WithBodyAllocator). Alloc returns a buffer of length n for the
// body of a message of type typ; Free takes back a buffer from Alloc.
// Both may be called from several goroutines.
type Allocator interface {
	Alloc(typ uint64, n int) []byte
	Free(b []byte)
}

// Pools is the Allocator of the buffer pools (WithBodyPool).
var Pools Allocator = pooled{}

type pooled struct{}

func (pooled) Alloc(_ uint64, n int) []byte { return GetBuffer(n) }
func (pooled) Free(b []byte)                { PutBuffer(b) }

// GetBuffer returns a buffer of length n, from a pool if n is in the
// pooled range. Its contents are undefined.
func GetBuffer(n int) []byte {
	if n <= minPooled || n > maxPooled {
		return make([]byte, n)
	}
	idx, size := class(n)
	if p, ok := pools[idx].Get().(*byte); ok {
		return unsafe.Slice(p, size)[:n]
	}
	return make([]byte, n, size)
}

// PutBuffer gives b (from GetBuffer, or any buffer) back for reuse; b must
// not be used afterwards. Buffers whose capacity is not a class size are
// left to the garbage collector.
func PutBuffer(b []byte) {
	n := cap(b)
	if n <= minPooled || n > maxPooled {
		return
	}
	if idx, size := class(n); size == n {
		pools[idx].Put(unsafe.SliceData(b))
	}
}
