//go:build linux && cgo

package main

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/clockwork-go/clockwork/internal/affinity"
	"github.com/clockwork-go/clockwork/internal/cuda"
)

// enqueue queues the whole network on s: the fused layers (each layer's
// input is its residual), the NVRTC pool and the cuBLAS classifier.
func (p *probe) enqueue(c *batchCase, s cuda.Stream) error {
	in := c.x
	for i := range p.opt.layers {
		out := c.act[i%2]
		if err := p.fused(c, in, out); err != nil {
			return err
		}
		in = out
	}
	if err := p.launchGAP(in, c.pooled, c.b*channels, side*side, s, &c.args); err != nil {
		return err
	}
	_, _, fc := p.model.addrs(p)
	return p.blas.Sgemm(cuda.OpT, cuda.OpN, classes, c.b, channels, 1, fc, channels, c.pooled, channels, 0, c.out, classes)
}

// record captures the network into a graph on the exec stream; it returns
// the host time the capture took.
func (p *probe) record(c *batchCase) (cuda.Graph, time.Duration, error) {
	t0 := time.Now()
	if err := p.exec.BeginCapture(cuda.CaptureThreadLocal); err != nil {
		return cuda.Graph{}, 0, err
	}
	err := p.enqueue(c, p.exec)
	g, endErr := p.exec.EndCapture() // ends the capture even after an error
	d := time.Since(t0)
	if err := need(err, endErr); err != nil {
		if endErr == nil {
			g.Destroy()
		}
		return cuda.Graph{}, 0, err
	}
	return g, d, nil
}

// reference is the network's output for the checked images, on the CPU.
func (p *probe) reference(c *batchCase) []float64 {
	x := c.host.Float32s()[:c.actBytes()/4]
	var out []float64
	for _, n := range c.images() {
		y := widen(image(x, n))
		for range p.opt.layers {
			y = p.model.layer.forward(side, side, y, y)
		}
		out = append(out, gemmNT(globalAvgPool(y, channels, side*side), p.model.fc, 1, classes, channels)...)
	}
	return out
}

// checked picks the rows of the checked images from a downloaded output.
func (c *batchCase) checked(out []float32) []float32 {
	var v []float32
	for _, n := range c.images() {
		v = append(v, out[n*classes:(n+1)*classes]...)
	}
	return v
}

// capture records the network as a CUDA graph, instantiates and uploads
// it, runs it once and checks its output against the CPU.
func (p *probe) capture(c *batchCase) (string, error) {
	if err := need(c.err, p.blasErr, p.gapErr); err != nil {
		c.err = err
		return "", err
	}
	c.err = fmt.Errorf("graph-b%d failed", c.b)
	g, rec, err := p.record(c)
	if err != nil {
		return "", err
	}
	c.graph = g
	t0 := time.Now()
	if c.exec, err = g.Instantiate(0); err != nil {
		return "", err
	}
	inst := time.Since(t0)
	if err := c.exec.Upload(p.exec); err != nil {
		return "", err
	}
	if c.start, err = cuda.NewEvent(cuda.EventDefault); err != nil {
		return "", err
	}
	if c.end, err = cuda.NewEvent(cuda.EventDefault); err != nil {
		return "", err
	}
	if err := c.exec.Launch(p.exec); err != nil {
		return "", err
	}
	out, err := p.downloadFloats(c, c.out, c.outBytes())
	if err != nil {
		return "", err
	}
	c.first = bytes.Clone(c.host.Bytes()[c.actBytes() : c.actBytes()+c.outBytes()])
	e := relErr(c.checked(out), p.reference(c))
	msg := fmt.Sprintf("%d fused convs + NVRTC pool + SGEMM captured in %.2f ms, instantiated in %.0f µs; output max rel err %.2g on images %v",
		p.opt.layers, ms(rec), us(inst), e, c.images())
	if e > p.tolerance() {
		return "", fmt.Errorf("wrong result: %s", msg)
	}
	c.err = nil
	return msg, nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// timedLaunch replays the graph once, behind gate if not nil, and waits
// for the spinner to see it complete; it returns the GPU time and the host
// wall-clock time in µs.
func (p *probe) timedLaunch(c *batchCase, gate *cuda.Gate) (gpu, wall float64, err error) {
	t0 := nanotime()
	err = func() error {
		if gate != nil {
			if err := gate.Hold(p.exec); err != nil {
				return err
			}
			defer gate.Open()
		}
		return need(c.start.Record(p.exec), c.exec.Launch(p.exec), c.end.Record(p.exec))
	}()
	if err != nil {
		return 0, 0, err
	}
	done, err := p.spin.wait(c.end)
	if err != nil {
		return 0, 0, err
	}
	gms, err := cuda.ElapsedTime(c.start, c.end)
	return float64(gms) * 1000, float64(done-t0) / 1000, err
}

// replays runs n timed replays after a few untimed ones.
func (p *probe) replays(c *batchCase, n int) (gpu, wall []float64, err error) {
	for i := range n + 20 {
		g, w, err := p.timedLaunch(c, nil)
		if err != nil {
			return nil, nil, err
		}
		if i >= 20 {
			gpu, wall = append(gpu, g), append(wall, w)
		}
	}
	return gpu, wall, nil
}

// sameOutput checks that the graph's output is still bit for bit the first.
func (p *probe) sameOutput(c *batchCase) error {
	out, err := p.download(c, c.out, c.outBytes())
	if err != nil {
		return err
	}
	if !bytes.Equal(out, c.first) {
		f := c.host.Float32s()[c.actBytes()/4:]
		return fmt.Errorf("output changed: max rel err %.2g against the first run", relErr(f[:c.b*classes], widen(bytesToFloats(c.first))))
	}
	return nil
}

func bytesToFloats(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24)
	}
	return v
}

// replayGPU times the replays; its figures are the GPU time between
// events recorded around each launch.
func (p *probe) replayGPU(c *batchCase) (string, error) {
	c.replayErr = need(c.err)
	if c.replayErr != nil {
		return "", c.replayErr
	}
	before := p.smClock()
	c.gpu, c.wall, c.replayErr = p.replays(c, p.opt.replays)
	if c.replayErr != nil {
		return "", c.replayErr
	}
	after := p.smClock()
	if c.replayErr = p.sameOutput(c); c.replayErr != nil {
		return "", c.replayErr
	}
	d := summarize(c.gpu)
	msg := fmt.Sprintf("%v (limit 1.10); SM clock %d→%d MHz; outputs bit-identical", d, before, after)
	if d.tail() > 1.10 {
		return "", fmt.Errorf("unpredictable: %s", msg)
	}
	return msg, nil
}

// replayWall reports the same replays by host wall clock, from before the
// launch until the spinning goroutine saw the end event complete.
func (p *probe) replayWall(c *batchCase) (string, error) {
	if c.replayErr != nil {
		return "", c.replayErr
	}
	d, g := summarize(c.wall), summarize(c.gpu)
	msg := fmt.Sprintf("%v (limit 1.50); wall − GPU at p50 %.1f µs", d, d.p50-g.p50)
	if d.tail() > 1.5 {
		return "", fmt.Errorf("unpredictable: %s", msg)
	}
	return msg, nil
}

// gated times the replays in turns behind a gate (cuda.Gate) and without
// one. Without, the start event runs as soon as it is queued on the idle
// GPU, so the GPU time includes the host's submission of the launch;
// behind a gate it is the GPU's work alone. The wall clock shows what the
// gate costs a caller.
func (p *probe) gated(c *batchCase) (string, error) {
	if c.replayErr != nil {
		return "", c.replayErr
	}
	gate, err := cuda.NewGate()
	if err != nil {
		return "", err
	}
	defer gate.Free()
	var gpu, wall [2][]float64 // ungated, gated
	for i := range 2 * (p.opt.replays + 20) {
		on := i % 2
		g := (*cuda.Gate)(nil)
		if on == 1 {
			g = gate
		}
		gt, wt, err := p.timedLaunch(c, g)
		if err != nil {
			return "", err
		}
		if i >= 40 {
			gpu[on], wall[on] = append(gpu[on], gt), append(wall[on], wt)
		}
	}
	if err := p.sameOutput(c); err != nil {
		return "", err
	}
	off, on := summarize(gpu[0]), summarize(gpu[1])
	msg := fmt.Sprintf("GPU time gated %v (limit 1.10); ungated p50 %.1f, p99.9 %.1f µs, p99.9/p50 %.3f; wall p50 gated %.1f, ungated %.1f µs",
		on, off.p50, off.p999, off.tail(), summarize(wall[1]).p50, summarize(wall[0]).p50)
	if on.tail() > 1.10 {
		return "", fmt.Errorf("unpredictable: %s", msg)
	}
	return msg, nil
}

// rebind moves the weights to another page as LoadWeights does, re-captures
// the graph, updates the executable graph in place and checks that its
// output has not changed; the old page is filled with NaNs first, so a
// graph still reading it would show.
func (p *probe) rebind(c *batchCase) (string, error) {
	if err := need(c.err); err != nil {
		return "", err
	}
	old, next := p.model.page, pageB
	if old == pageB {
		next = pageA
	}
	copyMs, err := timed(p.weights, func() error {
		return cuda.MemcpyHtoDAsync(p.pageAddr(next), p.model.host.Ptr(0), modelBytes, p.weights)
	})
	if err != nil {
		return "", err
	}
	p.model.page = next
	const nan = 0x7fc00000
	if err := need(cuda.MemsetD32Async(p.pageAddr(old), nan, pageSize/4, p.weights), p.weights.Synchronize()); err != nil {
		return "", err
	}

	g, rec, err := p.record(c)
	if err != nil {
		return "", err
	}
	t0 := time.Now()
	if res, err := c.exec.Update(g); err != nil {
		g.Destroy()
		return "", fmt.Errorf("%w (%v)", err, res)
	}
	update := time.Since(t0)
	t0 = time.Now()
	if err := c.exec.Upload(p.exec); err != nil {
		return "", err
	}
	upload := time.Since(t0)
	if err := p.exec.Synchronize(); err != nil {
		return "", err
	}
	c.graph.Destroy()
	c.graph = g

	t0 = time.Now()
	fresh, err := g.Instantiate(0)
	if err != nil {
		return "", err
	}
	inst := time.Since(t0)
	fresh.Destroy()

	_, firstWall, err := p.timedLaunch(c, nil)
	if err != nil {
		return "", err
	}
	_, wall, err := p.replays(c, min(100, p.opt.replays))
	if err != nil {
		return "", err
	}
	if err := p.sameOutput(c); err != nil {
		return "", err
	}
	return fmt.Sprintf("weights page %d→%d (%.3f ms copy, old page NaN-filled); re-capture %.2f ms, cuGraphExecUpdate %.1f µs, cuGraphUpload %.1f µs (a fresh cuGraphInstantiate: %.1f µs); first launch after %.1f µs wall vs p50 %.1f; outputs bit-identical",
		old, next, copyMs, ms(rec), us(update), us(upload), us(inst), firstWall, summarize(wall).p50), nil
}

// overlap replays the graph while another goroutine copies pages on the
// weights stream, as LoadWeights runs beside Infer.
func (p *probe) overlap(c *batchCase) (string, error) {
	if err := need(c.err); err != nil {
		return "", err
	}
	n := min(300, p.opt.replays)
	quietGPU, quietWall, err := p.replays(c, n)
	if err != nil {
		return "", err
	}
	var stop atomic.Bool
	var copied atomic.Int64
	var copyErr error
	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Go(func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if copyErr = p.ctx.SetCurrent(); copyErr != nil {
			return
		}
		for !stop.Load() {
			if copyErr = need(p.copyPaged(), p.weights.Synchronize()); copyErr != nil {
				return
			}
			copied.Add(transferBytes)
		}
	})
	busyGPU, busyWall, err := p.replays(c, n)
	stop.Store(true)
	wg.Wait()
	elapsed := time.Since(t0)
	if err := need(err, copyErr); err != nil {
		return "", err
	}
	qg, bg, qw, bw := summarize(quietGPU), summarize(busyGPU), summarize(quietWall), summarize(busyWall)
	slow := bg.p50/qg.p50 - 1
	msg := fmt.Sprintf("GPU p50 %.1f→%.1f µs (%+.1f%%, limit +10%%), p99.9 %.1f→%.1f; wall p50 %.1f→%.1f, p99.9 %.1f→%.1f; copies meanwhile at %.1f GB/s",
		qg.p50, bg.p50, 100*slow, qg.p999, bg.p999, qw.p50, bw.p50, qw.p999, bw.p999,
		float64(copied.Load())/elapsed.Seconds()/1e9)
	if slow > 0.10 {
		return "", fmt.Errorf("copies slow the graph: %s", msg)
	}
	if err := p.sameOutput(c); err != nil {
		return "", err
	}
	return msg, nil
}

var base = time.Now()

// nanotime is the monotonic clock in ns.
func nanotime() int64 { return int64(time.Since(base)) }

// spinner is a goroutine locked to its own OS thread that polls an event
// with cuEventQuery until it completes, as the worker's completion checker
// does: blocking synchronisation would add tens of µs.
type spinner struct {
	ev     cuda.Event // written by wait before req is bumped
	req    atomic.Int64
	done   atomic.Int64
	at     atomic.Int64 // nanotime when done was seen
	stop   atomic.Bool
	errMu  sync.Mutex
	err    error
	broken error
}

func startSpinner(ctx cuda.Context, cpu int) (*spinner, error) {
	sp := &spinner{}
	ready := make(chan error)
	go sp.loop(ctx, cpu, ready)
	return sp, <-ready
}

func (sp *spinner) loop(ctx cuda.Context, cpu int, ready chan<- error) {
	runtime.LockOSThread() // for good: the thread dies with the goroutine
	if cpu >= 0 {
		if err := affinity.Pin(cpu); err != nil {
			ready <- err
			return
		}
	}
	if err := ctx.SetCurrent(); err != nil {
		ready <- err
		return
	}
	ready <- nil
	var seen int64
	for !sp.stop.Load() {
		r := sp.req.Load()
		if r == seen {
			continue
		}
		for !sp.stop.Load() {
			ok, err := sp.ev.Query()
			if err != nil {
				sp.errMu.Lock()
				sp.err = err
				sp.errMu.Unlock()
				break
			}
			if ok {
				break
			}
		}
		sp.at.Store(nanotime())
		seen = r
		sp.done.Store(r)
	}
}

// wait hands ev to the spinner and spins until the spinner has seen it
// complete; it returns the nanotime of completion.
func (sp *spinner) wait(ev cuda.Event) (int64, error) {
	if sp.broken != nil {
		return 0, sp.broken
	}
	sp.ev = ev
	r := sp.req.Add(1)
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; sp.done.Load() != r; i++ {
		if i%4096 == 0 && time.Now().After(deadline) {
			sp.stop.Store(true)
			sp.broken = errors.New("event not complete after 10 s; spinner stopped")
			return 0, sp.broken
		}
	}
	sp.errMu.Lock()
	defer sp.errMu.Unlock()
	err := sp.err
	sp.err = nil
	return sp.at.Load(), err
}
