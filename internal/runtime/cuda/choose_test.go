//go:build linux && cgo

package cuda

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
)

// loadingDevice opens a runtime and returns its GPU 0 as Load has it:
// under its load lock, in its context, until the test ends.
func loadingDevice(t *testing.T) *device {
	t.Helper()
	d := newTestRuntime(t, false).devices[0]
	d.loadMu.Lock()
	if err := d.enter(); err != nil {
		d.loadMu.Unlock()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.leave()
		d.loadMu.Unlock()
	})
	return d
}

// TestGPUFastest tries four ways of filling a buffer: the second writes
// other values than the first and the fourth cannot run, so the fastest
// is the first or the third, and the other two are reported with why.
func TestGPUFastest(t *testing.T) {
	d := loadingDevice(t)
	const n = 4096
	off, ok := d.ioPool.alloc(n)
	if !ok {
		t.Fatal("no IO memory")
	}
	defer d.ioPool.free(off)
	p := d.io.Add(off)
	values := []uint32{1, 2, 1, 1}
	way := -1
	c := candidates{
		n: len(values),
		set: func(i int) error {
			if i == 3 {
				return errors.New("cannot run here")
			}
			way = i
			return nil
		},
		name: func(i int) string { return fmt.Sprint("way ", i) },
		out:  func() ([]byte, error) { return d.load.readBack(d, p, n) },
		tol:  chooseTol,
	}
	b := d.load
	best, tm, tried, ok := b.fastest(c, func() error { return cu.MemsetD32Async(p, values[way], n/4, b.s) })
	if !ok || best != 0 && best != 2 || tm <= 0 {
		t.Fatalf("fastest = way %d in %v (ok %v), want way 0 or 2", best, tm, ok)
	}
	if len(tried) != 2 || !strings.HasPrefix(tried[0], "way 1: output differs from way 0's") ||
		tried[1] != "way 3: cannot run here" {
		t.Errorf("tried %q", tried)
	}
}

// TestGPUProfilingAreaHoldsNoise: the workspace where choose runs the ways
// it compares starts with floats in [-1, 1), not zeros, so that the ways
// compute something from their inputs on the first Load too.
func TestGPUProfilingAreaHoldsNoise(t *testing.T) {
	d := loadingDevice(t)
	for _, off := range []uint64{0, d.prof.size - 4096} {
		b, err := d.load.readBack(d, d.prof.base.Add(off), 4096)
		if err != nil {
			t.Fatal(err)
		}
		distinct := map[uint32]bool{}
		for i := 0; i < len(b); i += 4 {
			bits := binary.LittleEndian.Uint32(b[i:])
			if f := math.Float32frombits(bits); !(f >= -1 && f < 1) {
				t.Fatalf("offset %d: %v", off+uint64(i), f)
			}
			distinct[bits] = true
		}
		if len(distinct) < 1000 {
			t.Errorf("offset %d: %d distinct values in 1024", off, len(distinct))
		}
	}
}
