package client

import (
	"math/rand/v2"
	"testing"

	"github.com/pierrec/lz4/v4"
)

func TestCompressRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 100, 602112} {
		in := make([]byte, n)
		for i := range in {
			in[i] = byte(r.IntN(16)) // partly compressible
		}
		c := Compress(in)
		out := make([]byte, n)
		got, err := lz4.UncompressBlock(c, out)
		if n > 0 && (err != nil || got != n || string(out) != string(in)) {
			t.Fatalf("n=%d: %d, %v", n, got, err)
		}
	}
}

func BenchmarkCompress(b *testing.B) {
	in := make([]byte, 602112)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range in {
		in[i] = byte(r.Uint32())
	}
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		Compress(in)
	}
}
