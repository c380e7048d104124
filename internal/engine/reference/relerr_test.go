package reference

import (
	"encoding/binary"
	"math"
	"testing"
)

func floats(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
	}
	return b
}

func TestRelErr(t *testing.T) {
	for _, tc := range []struct {
		got, want []byte
		rel       float64
	}{
		{floats(1, 2, 4), floats(1, 2, 4), 0},
		{floats(1, 2, 3), floats(1, 2, 4), 0.25},
		{floats(0.5, 0), floats(0, 0), 0.5},
		{floats(float32(math.NaN())), floats(1), math.Inf(1)},
		{floats(1), floats(1, 2), math.Inf(1)},
	} {
		if got := RelErr(tc.got, tc.want); got != tc.rel {
			t.Errorf("RelErr = %v, want %v", got, tc.rel)
		}
	}
}
