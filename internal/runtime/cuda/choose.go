//go:build linux && cgo

package cuda

import (
	"bytes"
	"fmt"
	"time"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
	onnxref "github.com/clockwork-go/clockwork/internal/engine/reference"
)

// Steps that can be computed more than one way (a convolution's cuDNN
// algorithms and the runtime's kernels, a Gemm's cuBLAS call and the
// runtime's kernel) choose at Load by timing each way as it will run:
// captured chooseReps times into a graph and replayed, so that the host
// gaps between eager launches are not counted. A way whose output differs
// from the first's beyond the tolerance is not taken.
const (
	chooseReps  = 8        // runs per timed graph
	checkBytes  = 16 << 20 // at most this much of each way's output is compared
	chooseTol   = 1e-4     // relative output difference allowed (FP32)
	chooseTolTF = 1e-2     // with TF32
)

// candidates are the ways one step can run, for fastest to try.
type candidates struct {
	n    int
	set  func(i int) error      // makes way i the step's; an error where it cannot run here
	name func(i int) string     // for the log and errors
	out  func() ([]byte, error) // the step's output, read back after a run (synchronously)
	tol  float64                // allowed relative difference from the first way's output
}

// fastest runs, checks and times every way of c with run (which enqueues
// the step on b's stream as set last made it) and returns the fastest
// way that ran and agreed, with its time per run; tried lists the ways
// that did not, and why. ok is false where none did.
func (b *builder) fastest(c candidates, run func() error) (best int, t time.Duration, tried []string, ok bool) {
	var ref []byte
	refName := ""
	for i := range c.n {
		err := c.set(i)
		if err == nil {
			err = run()
		}
		var out []byte
		if err == nil {
			out, err = c.out()
		}
		if err == nil {
			if ref == nil {
				ref, refName = bytes.Clone(out), c.name(i)
			} else if e := onnxref.RelErr(out, ref); e > c.tol {
				err = fmt.Errorf("output differs from %s's by %.2g", refName, e)
			}
		}
		var ti time.Duration
		if err == nil {
			ti, err = b.timedGraph(chooseReps, run)
		}
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", c.name(i), err))
			continue
		}
		if !ok || ti < t {
			best, t, ok = i, ti, true
		}
	}
	return best, t, tried, ok
}

// readBack copies n bytes at p to d's host scratch on b's stream and
// waits for them.
func (b *builder) readBack(d *device, p cu.DevicePtr, n int) ([]byte, error) {
	host, err := d.hostScratch(n)
	if err != nil {
		return nil, err
	}
	if err := cu.MemcpyDtoHAsync(host.Ptr(0), p, uint64(n), b.s); err != nil {
		return nil, err
	}
	if err := b.s.Synchronize(); err != nil {
		return nil, err
	}
	return host.Bytes()[:n], nil
}

// tolerance is the allowed relative difference between ways.
func tolerance(tf32 bool) float64 {
	if tf32 {
		return chooseTolTF
	}
	return chooseTol
}
