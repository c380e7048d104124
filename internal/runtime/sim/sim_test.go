package sim

import (
	"bytes"
	"testing"
)

// The dummy's outputs are zeros, whatever the reused buffer held.
func TestCopyOutputZeros(t *testing.T) {
	out := bytes.Repeat([]byte{0xAB}, 4000)
	if _, err := (&simModel{}).CopyOutput(0, nil, out, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, make([]byte, len(out))) {
		t.Fatal("CopyOutput left bytes that are not zero")
	}
}
