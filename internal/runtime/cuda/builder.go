//go:build linux && cgo

package cuda

import (
	"errors"
	"time"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
)

// builder is a stream with its own cuDNN and cuBLAS handles on which op
// lists are run eagerly, timed and captured into graphs. cuDNN and cuBLAS
// calls cost tens of µs of host time each, so they happen only here, never
// on the serving path.
type builder struct {
	s          cu.Stream
	dnn        cu.DNN
	blas       cu.BLAS
	start, end cu.Event
	w          *waiter  // on end, for the completion checker
	gate       *cu.Gate // for timings as the exec stage runs (nil: none)
	args       cu.KernelArgs
	buf        []byte // the concat kernel's struct argument
}

func newBuilder(tf32 bool) (*builder, error) {
	b := &builder{buf: make([]byte, concatStructSize)}
	var err error
	if b.s, err = cu.NewStream(cu.StreamNonBlocking, 0); err != nil {
		return nil, err
	}
	if b.start, err = cu.NewEvent(cu.EventDefault); err != nil {
		return nil, err
	}
	if b.end, err = cu.NewEvent(cu.EventDefault); err != nil {
		return nil, err
	}
	b.w = newWaiter(cu.Event{}, b.end)
	if b.dnn, err = cu.NewDNN(); err != nil {
		return nil, err
	}
	if err := b.dnn.SetStream(b.s); err != nil {
		return nil, err
	}
	if b.blas, err = cu.NewBLAS(); err != nil {
		return nil, err
	}
	math := cu.BLASDefaultMath // fp32 GEMMs in fp32
	if tf32 {
		math = cu.BLASTF32Math
	}
	return b, b.blas.SetMathMode(math)
}

// useBLASWorkspace points cuBLAS at n bytes at ws, so that it allocates
// nothing while captured. cublasSetStream drops the workspace, hence both.
func (b *builder) useBLASWorkspace(ws cu.DevicePtr, n uint64) error {
	if err := b.blas.SetStream(b.s); err != nil {
		return err
	}
	return b.blas.SetWorkspace(ws, n)
}

// capture records what enqueue queues on the builder's stream into a
// graph; other threads may go on using the GPU meanwhile.
func (b *builder) capture(enqueue func() error) (cu.Graph, error) {
	if err := b.s.BeginCapture(cu.CaptureThreadLocal); err != nil {
		return cu.Graph{}, err
	}
	err := enqueue()
	g, endErr := b.s.EndCapture() // ends the capture even after an error
	if err := errors.Join(err, endErr); err != nil {
		if endErr == nil {
			g.Destroy()
		}
		return cu.Graph{}, err
	}
	return g, nil
}

// timed runs enqueue on the stream between the builder's events and
// returns the GPU time it took. gated puts it behind the builder's gate,
// as the exec stage runs its work (its GPU time does not count the host's
// submission); the weights stage runs ungated.
func (b *builder) timed(gated bool, enqueue func() error) (time.Duration, error) {
	err := func() error {
		if gated && b.gate != nil {
			if err := b.gate.Hold(b.s); err != nil {
				return err
			}
			defer b.gate.Open()
		}
		if err := b.start.Record(b.s); err != nil {
			return err
		}
		if err := enqueue(); err != nil {
			return err
		}
		return b.end.Record(b.s)
	}()
	if err != nil {
		return 0, err
	}
	if err := b.end.Synchronize(); err != nil {
		return 0, err
	}
	ms, err := cu.ElapsedTime(b.start, b.end)
	return time.Duration(float64(ms) * 1e6), err
}

// timedGraph captures reps runs of enqueue into a graph and returns the
// GPU time of one run: the median over replays of the graph, so that no
// host time between eager launches (tens of µs per cuDNN call) is counted.
func (b *builder) timedGraph(reps int, enqueue func() error) (time.Duration, error) {
	g, err := b.capture(func() error {
		for range reps {
			if err := enqueue(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	defer g.Destroy()
	e, err := g.Instantiate(0)
	if err != nil {
		return 0, err
	}
	defer e.Destroy()
	if err := e.Upload(b.s); err != nil {
		return 0, err
	}
	t, err := medianOf(1, 3, func() (time.Duration, error) { return b.timed(true, func() error { return e.Launch(b.s) }) })
	return time.Duration(t) / time.Duration(reps), err
}

// timedExec runs x (with the builder's events, behind its gate) on its
// stream and returns the GPU time between the events, and the host time
// the launch took (without a gate, where it nears the GPU time, the GPU
// may wait for the work's submission inside the timed interval).
func (b *builder) timedExec(x *cu.Exec) (gpu, launch time.Duration, err error) {
	x.Gate = b.gate
	t0 := time.Now()
	if err := x.Launch(b.s); err != nil {
		return 0, 0, err
	}
	launch = time.Since(t0)
	if err := b.end.Synchronize(); err != nil {
		return 0, 0, err
	}
	ms, err := cu.ElapsedTime(b.start, b.end)
	return time.Duration(float64(ms) * 1e6), launch, err
}

func (b *builder) destroy() {
	if b.dnn != (cu.DNN{}) {
		b.dnn.Destroy()
	}
	if b.blas != (cu.BLAS{}) {
		b.blas.Destroy()
	}
	b.start.Destroy()
	b.end.Destroy()
	b.s.Destroy()
	if b.gate != nil {
		b.gate.Free()
	}
}
