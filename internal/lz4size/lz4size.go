// Package lz4size tells how long an LZ4 block decodes to without decoding
// it: it walks the block's sequences and checks each against what a
// decoder checks (literals within the block, match offsets within the
// output so far and not 0, lengths within a limit), writing nothing.
//
// The controller uses it to refuse a client's input that would not
// decompress to its model's input size before batching it with other
// clients' requests: the worker decompresses a batch's inputs in one
// action, and one bad item fails the whole batch with status 78. Walking
// a block reads only its compressed bytes, a fraction of what decoding it
// writes.
package lz4size

import "errors"

// ErrCorrupt is the error for a block a decoder would refuse.
var ErrCorrupt = errors.New("lz4size: not an LZ4 block")

// ErrTooLong is the error for a block that decodes to more than the limit.
var ErrTooLong = errors.New("lz4size: decodes to more than the limit")

const minMatch = 4

// Decoded returns the number of bytes src decodes to as one LZ4 block
// (the block format, without a frame), or an error if a decoder would
// refuse it or it would decode to more than limit bytes. An empty src
// decodes to nothing, as github.com/pierrec/lz4's UncompressBlock has it.
func Decoded(src []byte, limit int) (int, error) {
	si, di := 0, 0
	for si < len(src) {
		token := src[si]
		si++
		lit := int(token >> 4)
		if lit == 0xF {
			var err error
			// More literals than the block holds is a corrupt block.
			if lit, si, err = extend(src, si, lit, len(src), ErrCorrupt); err != nil {
				return 0, err
			}
		}
		if lit > len(src)-si {
			return 0, ErrCorrupt
		}
		if lit > limit-di {
			return 0, ErrTooLong
		}
		si += lit
		di += lit

		match := int(token & 0xF)
		if si == len(src) && match == 0 {
			break // the last sequence: literals only
		}
		if len(src)-si < 2 {
			return 0, ErrCorrupt
		}
		offset := int(src[si]) | int(src[si+1])<<8
		si += 2
		if offset == 0 || offset > di {
			return 0, ErrCorrupt
		}
		match += minMatch
		if match == 0xF+minMatch {
			var err error
			if match, si, err = extend(src, si, match, limit, ErrTooLong); err != nil {
				return 0, err
			}
		}
		if match > limit-di {
			return 0, ErrTooLong
		}
		di += match
	}
	return di, nil
}

// extend adds to n the length bytes at src[si:] (a byte of 255 says
// another follows) and returns the sum and where the bytes end: errOver if
// the sum passes most, ErrCorrupt if the block ends first.
func extend(src []byte, si, n, most int, errOver error) (int, int, error) {
	for {
		if si >= len(src) {
			return 0, 0, ErrCorrupt
		}
		x := src[si]
		si++
		if n += int(x); n > most {
			return 0, 0, errOver
		}
		if x != 0xFF {
			return n, si, nil
		}
	}
}
