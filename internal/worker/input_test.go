package worker

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// TestDecompress checks the compressed forms of an Infer's input, decoded
// by one goroutine and by several: the same bytes, and the error of the
// first failing item.
func TestDecompress(t *testing.T) {
	const items = 4
	good := compressedOp(t, items)
	want := make([]byte, 0, items*good.itemSize)
	for i := range items {
		want = append(want, imageItem(uint64(i))...)
	}
	gen := generatedInput(good.itemSize, 1)
	withSizes := func(sizes []uint32, body []byte) *Op {
		op := *good
		op.inputSizes, op.input = sizes, body
		return &op
	}
	s := good.inputSizes
	corrupt := bytes.Clone(good.input)
	copy(corrupt[int(s[0])+int(s[1]):], bytes.Repeat([]byte{0xff}, 64)) // item 2
	cases := []struct {
		name string
		op   *Op
		code int32  // 0: success
		msg  string // start of the error
		want []byte
	}{
		{name: "all items", op: good, want: want},
		{name: "items missing at the end are generated", op: withSizes(s[:2], good.input[:s[0]+s[1]]),
			want: concat(want[:2*good.itemSize], gen, gen)},
		{name: "an item of size 0 is generated", op: withSizes([]uint32{s[0], 0, s[1], s[2]}, good.input[:s[0]+s[1]+s[2]]),
			want: concat(want[:good.itemSize], gen, want[good.itemSize:3*good.itemSize])},
		{name: "overrun", op: withSizes([]uint32{s[0], s[1], s[2], s[3] + 1}, good.input),
			code: workerapi.CopyInputBadSizes, msg: "compressed input 3 ("},
		{name: "corrupt item before an overrun", op: withSizes([]uint32{s[0], s[1], s[2], s[3] + 1}, corrupt),
			code: workerapi.CopyInputBadDecompress, msg: "input 2 does not decompress"},
		{name: "corrupt item", op: withSizes(s, corrupt), code: workerapi.CopyInputBadDecompress, msg: "input 2 does not decompress"},
	}
	for _, c := range cases {
		for _, workers := range []int{1, 3} {
			out := make([]byte, items*good.itemSize)
			err := decompress(out, c.op, workers)
			switch {
			case c.code == 0 && err != nil:
				t.Errorf("%s, %d goroutines: %v", c.name, workers, err)
			case c.code == 0 && !bytes.Equal(out, c.want):
				t.Errorf("%s, %d goroutines: wrong bytes", c.name, workers)
			case c.code != 0 && (runtime.Code(err, 0) != c.code || !bytes.HasPrefix([]byte(err.Error()), []byte(c.msg))):
				t.Errorf("%s, %d goroutines: error %v, want code %d %q…", c.name, workers, err, c.code, c.msg)
			}
		}
	}
	if _, _, err := decodeInput(withSizes(make([]uint32, items+1), nil), inputBuffers{}); runtime.Code(err, 0) != workerapi.CopyInputBadSizes {
		t.Errorf("more items than the batch: %v", err)
	}
	if in, owned, err := decodeInput(good, inputBuffers{}); err != nil || !owned || !bytes.Equal(in, want) {
		t.Errorf("decodeInput: owned %v, %v", owned, err)
	}

	// Into a runtime's memory where it lends some, and back to it; into
	// the pools where it does not.
	host := &lender{room: 1}
	bufs := inputBuffers{host}
	in, owned, err := decodeInput(good, bufs)
	if err != nil || !owned || !bytes.Equal(in, want) || host.lent != 1 {
		t.Fatalf("decodeInput into lent memory: owned %v, %d lent, %v", owned, host.lent, err)
	}
	bufs.put(in)
	if host.lent != 0 || host.frees != 1 {
		t.Errorf("after put: %d lent, %d frees", host.lent, host.frees)
	}
	host.room = 0
	if in, _, err := decodeInput(good, bufs); err != nil || host.lent != 0 || !bytes.Equal(in, want) {
		t.Errorf("decodeInput with nothing lent: %d lent, %v", host.lent, err)
	} else {
		bufs.put(in)
	}
	host.room = 2
	if b := bufs.Alloc(workerapi.MsgInfer, 100); host.lent != 1 {
		t.Error("an Infer's body is not read into lent memory")
	} else {
		bufs.Free(b)
	}
	if bufs.Alloc(workerapi.MsgLoadWeights, 100); host.lent != 0 {
		t.Error("a LoadWeights' body is read into lent memory")
	}
	if host.frees != 2 || host.foreign != 1 {
		t.Errorf("%d frees, %d of buffers not lent", host.frees, host.foreign)
	}
}

// lender is a runtime.HostMemory that lends up to room buffers at once.
type lender struct {
	room, lent, frees, foreign int
	mine                       map[*byte]bool
}

func (l *lender) AllocHost(n int) []byte {
	if l.lent >= l.room {
		return nil
	}
	if l.mine == nil {
		l.mine = map[*byte]bool{}
	}
	b := make([]byte, n)
	l.mine[&b[0]] = true
	l.lent++
	return b
}

func (l *lender) FreeHost(b []byte) bool {
	if len(b) == 0 || !l.mine[&b[0]] {
		l.foreign++
		return false
	}
	delete(l.mine, &b[0])
	l.lent--
	l.frees++
	return true
}

func concat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestGeneratedInputs: a batch's generated inputs are the start of a
// larger batch's of the same item size, so one buffer an item size serves
// every batch size (one a batch size held 136 items for batch sizes 1 to
// 16); the values are floats in [1, 2).
func TestGeneratedInputs(t *testing.T) {
	const item = 1000
	two := generatedInput(item, 2)
	eight := generatedInput(item, 8)
	if len(two) != 2*item || len(eight) != 8*item || !bytes.Equal(two, eight[:2*item]) {
		t.Fatalf("batch 2's inputs (%d bytes) are not the start of batch 8's (%d bytes)", len(two), len(eight))
	}
	if again := generatedInput(item, 4); &again[0] != &eight[0] {
		t.Error("batch 4's inputs were made again after batch 8's")
	}
	for i := 0; i < len(eight); i += 4 {
		if f := math.Float32frombits(binary.LittleEndian.Uint32(eight[i:])); !(f >= 1 && f < 2) {
			t.Fatalf("value %d is %g", i/4, f)
		}
	}
}
