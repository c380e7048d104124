package reference

import (
	"encoding/binary"
	"math"
)

// RelErr compares two outputs of little-endian float32s: max |got − want|
// over max |want|, the error relative to the output's scale, which stays
// meaningful where single values are near 0. A NaN or infinity in got, or
// a length mismatch, gives +Inf.
func RelErr(got, want []byte) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d, m float64
	for i := 0; i+4 <= len(want); i += 4 {
		g := float64(math.Float32frombits(binary.LittleEndian.Uint32(got[i:])))
		w := float64(math.Float32frombits(binary.LittleEndian.Uint32(want[i:])))
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return math.Inf(1)
		}
		d, m = max(d, math.Abs(g-w)), max(m, math.Abs(w))
	}
	if m == 0 {
		return d
	}
	return d / m
}
