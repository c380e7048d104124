//go:build linux && cgo

package cuda

import (
	"bytes"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
)

// gpu locks the test to its OS thread and makes device 0's primary context
// current, or skips the test where there is no GPU.
func gpu(t *testing.T) Device {
	t.Helper()
	if _, err := LoadDriver(); err != nil {
		t.Skipf("no CUDA driver: %v", err)
	}
	if err := Init(); err != nil {
		t.Skipf("no usable CUDA driver: %v", err)
	}
	if n, err := DeviceCount(); err != nil || n == 0 {
		t.Skipf("no CUDA device (%d, %v)", n, err)
	}
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	dev, err := GetDevice(0)
	check(t, err)
	ctx, err := dev.PrimaryCtxRetain()
	check(t, err)
	t.Cleanup(func() { dev.PrimaryCtxRelease() })
	check(t, ctx.SetCurrent())
	return dev
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func alloc(t *testing.T, n uint64) DevicePtr {
	t.Helper()
	p, err := MemAlloc(n)
	check(t, err)
	t.Cleanup(func() { MemFree(p) })
	return p
}

func hostAlloc(t *testing.T, n int) *HostMem {
	t.Helper()
	h, err := MemHostAlloc(n, HostAllocPortable)
	check(t, err)
	t.Cleanup(func() { h.Free() })
	return h
}

// captured is the executable graph of what enqueue queues on s.
func captured(t *testing.T, s Stream, enqueue func() error) GraphExec {
	t.Helper()
	check(t, s.BeginCapture(CaptureThreadLocal))
	err := enqueue()
	g, endErr := s.EndCapture()
	check(t, err)
	check(t, endErr)
	t.Cleanup(func() { g.Destroy() })
	ge, err := g.Instantiate(0)
	check(t, err)
	t.Cleanup(func() { ge.Destroy() })
	return ge
}

// timingEvents are a start and an end event that can time the work between.
func timingEvents(t *testing.T) (start, end Event) {
	t.Helper()
	var err error
	start, err = NewEvent(EventDefault)
	check(t, err)
	t.Cleanup(func() { start.Destroy() })
	end, err = NewEvent(EventDefault)
	check(t, err)
	t.Cleanup(func() { end.Destroy() })
	return start, end
}

// TestGPUCopiesAndGraphs copies through device memory, directly and
// through a captured graph that is then pointed at another buffer.
func TestGPUCopiesAndGraphs(t *testing.T) {
	gpu(t)
	const n = 1 << 20
	host := hostAlloc(t, 2*n)
	a, b, c := alloc(t, n), alloc(t, n), alloc(t, n)
	s, err := NewStream(StreamNonBlocking, 0)
	check(t, err)
	defer s.Destroy()
	in, out := host.Bytes()[:n], host.Bytes()[n:]
	for i := range in {
		in[i] = byte(i * 7)
	}
	want := bytes.Clone(in)
	copy(want, bytes.Repeat([]byte{0xAB}, 16))

	capture := func(dst DevicePtr) Graph {
		check(t, s.BeginCapture(CaptureThreadLocal))
		check(t, MemcpyDtoDAsync(dst, a, n, s))
		check(t, MemsetD8Async(dst, 0xAB, 16, s))
		g, err := s.EndCapture()
		check(t, err)
		t.Cleanup(func() { g.Destroy() })
		return g
	}
	exec, err := capture(b).Instantiate(0)
	check(t, err)
	defer exec.Destroy()

	check(t, MemcpyHtoDAsync(a, host.Ptr(0), n, s))
	check(t, exec.Launch(s))
	check(t, MemcpyDtoHAsync(host.Ptr(n), b, n, s))
	check(t, s.Synchronize())
	if !bytes.Equal(out, want) {
		t.Fatal("graph output differs")
	}

	if r, err := exec.Update(capture(c)); err != nil {
		t.Fatalf("Update: %v (%v)", err, r)
	}
	check(t, exec.Upload(s))
	clear(out)
	start, err := NewEvent(EventDefault)
	check(t, err)
	end, err := NewEvent(EventDefault)
	check(t, err)
	check(t, start.Record(s))
	check(t, exec.Launch(s))
	check(t, end.Record(s))
	check(t, MemcpyDtoHAsync(host.Ptr(n), c, n, s))
	for done := false; !done; {
		done, err = end.Query()
		check(t, err)
	}
	check(t, s.Synchronize())
	if !bytes.Equal(out, want) {
		t.Fatal("updated graph output differs")
	}
	ms, err := ElapsedTime(start, end)
	check(t, err)
	t.Logf("1 MiB device copy through a graph: %.3f ms", ms)
}

// TestGPUKernel compiles a kernel with NVRTC and runs it.
func TestGPUKernel(t *testing.T) {
	dev := gpu(t)
	if _, err := LoadNVRTC(); err != nil {
		t.Skipf("no NVRTC: %v", err)
	}
	major, minor, err := dev.ComputeCapability()
	check(t, err)
	cubin, err := CompileCUBIN(`extern "C" __global__ void scale(float *x, int n, float k) {
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) x[i] *= k;
}`, "scale.cu", major, minor)
	check(t, err)
	mod, err := ModuleLoadData(cubin)
	check(t, err)
	defer mod.Unload()
	fn, err := mod.Function("scale")
	check(t, err)

	const n = 1000
	host := hostAlloc(t, 4*n)
	x := alloc(t, 4*n)
	for i := range host.Float32s() {
		host.Float32s()[i] = float32(i)
	}
	var s Stream
	var args KernelArgs
	check(t, MemcpyHtoDAsync(x, host.Ptr(0), 4*n, s))
	check(t, fn.Launch(Dim3{(n + 255) / 256, 1, 1}, Dim3{256, 1, 1}, 0, s, args.Ptr(x).Int32(n).Float32(2)))
	check(t, MemcpyDtoHAsync(host.Ptr(0), x, 4*n, s))
	check(t, s.Synchronize())
	for i, v := range host.Float32s() {
		if v != 2*float32(i) {
			t.Fatalf("x[%d] = %v, want %v", i, v, 2*float32(i))
		}
	}
}

// TestGPUExec runs an exec sequence: input copied into the graph's slot,
// the graph (which doubles the slot's first bytes by copying), output
// copied out, timed by the events.
func TestGPUExec(t *testing.T) {
	gpu(t)
	const n = 4096
	host := hostAlloc(t, 2*n)
	block, slot := alloc(t, 2*n), alloc(t, 2*n)
	s, err := NewStream(StreamNonBlocking, 0)
	check(t, err)
	defer s.Destroy()
	// The "model": output = input.
	ge := captured(t, s, func() error { return MemcpyDtoDAsync(slot.Add(n), slot, n, s) })
	start, end := timingEvents(t)
	in := host.Bytes()[:n]
	for i := range in {
		in[i] = byte(i * 5)
	}
	check(t, MemcpyHtoDAsync(block, host.Ptr(0), n, s))
	x := Exec{Start: start, End: end, Graph: ge,
		In:  DeviceCopy{Dst: slot, Src: block, N: n},
		Out: DeviceCopy{Dst: block.Add(n), Src: slot.Add(n), N: n}}
	check(t, x.Launch(s))
	check(t, MemcpyDtoHAsync(host.Ptr(n), block.Add(n), n, s))
	check(t, s.Synchronize())
	if !bytes.Equal(host.Bytes()[n:], in) {
		t.Error("the output block does not hold the input after the exec sequence")
	}
	if ms, err := ElapsedTime(start, end); err != nil || ms < 0 {
		t.Errorf("exec time %v ms, %v", ms, err)
	}
	x.Graph = GraphExec{}
	if err := x.Launch(s); err == nil || !strings.Contains(err.Error(), "cuGraphLaunch") {
		t.Errorf("Launch without a graph: %v, want a cuGraphLaunch error", err)
	}
}

// TestGPUGate holds a stream's work behind a gate: nothing behind it runs
// until it opens, an exec sequence behind it gives the same output, and
// the gate's counter survives wrapping. On fakecuda, a gate never opened
// is reported where a GPU would wait for ever.
func TestGPUGate(t *testing.T) {
	dev := gpu(t)
	s, err := NewStream(StreamNonBlocking, 0)
	check(t, err)
	defer s.Destroy()
	g, err := NewGate()
	if errors.Is(err, ErrGateUnsupported) {
		t.Skipf("NewGate: %v", err)
	}
	check(t, err)
	defer g.Free()
	ev, err := NewEvent(EventDisableTiming)
	check(t, err)
	defer ev.Destroy()

	const n = 4096
	host := hostAlloc(t, 2*n)
	buf := alloc(t, n)
	in, out := host.Bytes()[:n], host.Bytes()[n:]
	for i := range in {
		in[i] = byte(i*7 + 1)
	}
	for _, seq := range []uint32{0, math.MaxUint32} {
		g.seq = seq
		g.Open()
		clear(out)
		check(t, g.Hold(s))
		check(t, MemcpyHtoDAsync(buf, host.Ptr(0), n, s))
		check(t, MemcpyDtoHAsync(host.Ptr(n), buf, n, s))
		check(t, ev.Record(s))
		done, err := ev.Query()
		check(t, err)
		if done || !bytes.Equal(out, make([]byte, n)) {
			t.Errorf("seq %d: work behind the closed gate ran (event complete: %v)", seq, done)
		}
		g.Open()
		check(t, ev.Synchronize())
		if !bytes.Equal(out, in) {
			t.Errorf("seq %d: the copies behind the gate did not run once it opened", seq)
		}
	}
	if g.seq != 0 {
		t.Errorf("after wrapping, seq = %d, want 0", g.seq)
	}

	// An exec sequence behind the gate (Exec.Gate).
	slot := alloc(t, 2*n)
	ge := captured(t, s, func() error { return MemcpyDtoDAsync(slot.Add(n), slot, n, s) })
	start, end := timingEvents(t)
	block := alloc(t, 2*n)
	check(t, MemcpyHtoDAsync(block, host.Ptr(0), n, s))
	x := Exec{Start: start, End: end, Graph: ge, Gate: g,
		In:  DeviceCopy{Dst: slot, Src: block, N: n},
		Out: DeviceCopy{Dst: block.Add(n), Src: slot.Add(n), N: n}}
	for range 3 {
		clear(out)
		check(t, x.Launch(s))
		check(t, MemcpyDtoHAsync(host.Ptr(n), block.Add(n), n, s))
		check(t, s.Synchronize())
		if !bytes.Equal(out, in) {
			t.Error("the exec sequence behind the gate did not copy its input through")
		}
		if ms, err := ElapsedTime(start, end); err != nil || ms < 0 {
			t.Errorf("exec time %v ms, %v", ms, err)
		}
	}
	// A failed launch still opens the gate: the stream goes on.
	x.Graph = GraphExec{}
	if err := x.Launch(s); err == nil {
		t.Error("Launch without a graph succeeded")
	}
	check(t, ev.Record(s))
	check(t, ev.Synchronize())

	if !isFake(dev) {
		return
	}
	check(t, g.Hold(s))
	check(t, ev.Record(s))
	if err := ev.Synchronize(); err == nil || !strings.Contains(err.Error(), "CUDA_ERROR_LAUNCH_TIMEOUT") {
		t.Errorf("Synchronize behind a gate never opened: %v, want CUDA_ERROR_LAUNCH_TIMEOUT", err)
	}
	g.Open()
	check(t, s.Synchronize())
}
