package lz4size

import (
	"math/rand/v2"
	"testing"

	"github.com/pierrec/lz4/v4"

	"github.com/clockwork-go/clockwork/client"
)

// agree checks Decoded against the decoder the worker uses, decoding into
// a buffer of limit bytes: they fail together, and agree on the length.
func agree(t *testing.T, src []byte, limit int) {
	t.Helper()
	got, err := Decoded(src, limit)
	n, derr := lz4.UncompressBlock(src, make([]byte, limit))
	if (err == nil) != (derr == nil) || (err == nil && got != n) {
		t.Fatalf("block of %d bytes, limit %d: Decoded %d, %v; UncompressBlock %d, %v", len(src), limit, got, err, n, derr)
	}
}

// blocks are compressed inputs of the kinds clients send and the kinds
// that exercise each part of the format: image-like (short matches and
// literals), noise (literals only, long literal lengths), zeros (long
// matches), and short ones.
func blocks(rng *rand.Rand) [][]byte {
	noise := make([]byte, 70000)
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	var out [][]byte
	for _, raw := range [][]byte{
		client.ImageInput(rng, 602112), client.ImageInput(rng, 3136), noise, make([]byte, 100000),
		[]byte("abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabc"), []byte("x"),
	} {
		out = append(out, client.Compress(raw))
	}
	return out
}

func TestDecodedAgreesWithTheDecoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, b := range blocks(rng) {
		size, err := lz4.UncompressBlock(b, make([]byte, 1<<20))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := Decoded(b, size); got != size || err != nil {
			t.Fatalf("a block of %d bytes decodes to %d, not %d, %v", len(b), size, got, err)
		}
		for _, limit := range []int{size, size - 1, size + 1, 0} {
			agree(t, b, max(limit, 0))
		}
		// Cut short anywhere, and with bytes changed: both refuse, or both
		// decode to the same length.
		for range 300 {
			agree(t, b[:rng.IntN(len(b))], size)
			c := append([]byte(nil), b...)
			for range 1 + rng.IntN(3) {
				c[rng.IntN(len(c))] ^= byte(1 + rng.IntN(255))
			}
			agree(t, c, size)
		}
	}
	for range 2000 {
		junk := make([]byte, rng.IntN(64))
		for i := range junk {
			junk[i] = byte(rng.Uint32())
		}
		agree(t, junk, rng.IntN(4096))
	}
}

func FuzzDecoded(f *testing.F) {
	for _, b := range blocks(rand.New(rand.NewPCG(3, 4))) {
		if len(b) < 4096 {
			f.Add(b, 4096)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, limit int) {
		// Small limits keep each run cheap (the decoder's buffer is limit
		// bytes), so that minimizing an input ends within the fuzz time.
		if limit < 0 || limit > 1<<16 {
			return
		}
		agree(t, src, limit)
	})
}

func BenchmarkDecoded(b *testing.B) {
	src := client.Compress(client.ImageInput(rand.New(rand.NewPCG(5, 6)), 602112))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := Decoded(src, 602112); err != nil {
			b.Fatal(err)
		}
	}
}
