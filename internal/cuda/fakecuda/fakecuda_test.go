//go:build linux && cgo

package fakecuda

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/clockwork-go/clockwork/internal/cuda"
)

func TestBuild(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not found")
	}
	dir := t.TempDir()
	if err := Build(dir); err != nil {
		t.Fatal(err)
	}
	for _, name := range Libraries {
		if target, err := os.Readlink(filepath.Join(dir, name)); err != nil || target != "libfakecuda.so" {
			t.Errorf("%s -> %q, %v", name, target, err)
		}
	}
}

// TestDevices checks, through package cuda, the fake's GPUs with
// FAKECUDA_DEVICES=2 (in a fresh process): each with its context, its
// PCI address and the NVML device there, and streams bound to the
// context they were made in.
func TestDevices(t *testing.T) {
	out, err := RunTests(t, "^TestDevicesChild$", "FAKECUDA_DEVICES=2", "FAKECUDA_CHILD=1")
	if err != nil || !strings.Contains(string(out), "--- PASS: TestDevicesChild") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func TestDevicesChild(t *testing.T) {
	if os.Getenv("FAKECUDA_CHILD") == "" {
		t.Skip("run by TestDevices")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, load := range []func() (*cuda.Library, error){cuda.LoadDriver, cuda.LoadNVML} {
		if _, err := load(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cuda.Init(); err != nil {
		t.Fatal(err)
	}
	if err := cuda.NVMLInit(); err != nil {
		t.Fatal(err)
	}
	n, err := cuda.DeviceCount()
	if nv, err2 := cuda.NVMLDeviceCount(); err != nil || err2 != nil || n != 2 || nv != 2 {
		t.Fatalf("%d devices (%v), %d NVML devices (%v)", n, err, nv, err2)
	}
	if _, err := cuda.GetDevice(2); err == nil {
		t.Error("device 2 of 2 exists")
	}
	var ctxs []cuda.Context
	nvml := map[cuda.NVMLDevice]bool{}
	for i := range n {
		d, err := cuda.GetDevice(i)
		if err != nil {
			t.Fatal(err)
		}
		bus, err := d.PCIBusID()
		if err != nil {
			t.Fatal(err)
		}
		nd, err := cuda.NVMLDeviceByPCIBusID(bus)
		if byIndex, err2 := cuda.NVMLDeviceByIndex(i); err != nil || err2 != nil || nd != byIndex {
			t.Errorf("GPU %d at %s: NVML device %v (%v), by index %v (%v)", i, bus, nd, err, byIndex, err2)
		}
		nvml[nd] = true
		ctx, err := d.PrimaryCtxRetain()
		if err != nil {
			t.Fatal(err)
		}
		ctxs = append(ctxs, ctx)
	}
	if ctxs[0] == ctxs[1] || len(nvml) != 2 {
		t.Fatalf("the two GPUs share a context (%v) or an NVML device (%d devices)", ctxs[0] == ctxs[1], len(nvml))
	}
	if err := ctxs[0].SetCurrent(); err != nil {
		t.Fatal(err)
	}
	s, err := cuda.NewStream(0, 0)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cuda.MemAlloc(4)
	if err != nil {
		t.Fatal(err)
	}
	if err := cuda.MemsetD32Async(p, 7, 1, s); err != nil {
		t.Errorf("work on GPU 0's stream with its context current: %v", err)
	}
	if err := ctxs[1].SetCurrent(); err != nil {
		t.Fatal(err)
	}
	if err := cuda.MemsetD32Async(p, 7, 1, s); err == nil {
		t.Error("work on GPU 0's stream with GPU 1's context current was accepted")
	}
}

// TestFault checks, through package cuda, the injected fault with two
// GPUs (in a fresh process): GPU 1's first graph launch once the fault's
// file exists succeeds but does not run, the next call that synchronises
// shows the fault, and from then on GPU 1's calls and events fail with
// CUDA_ERROR_ILLEGAL_ADDRESS, while GPU 0 goes on.
func TestFault(t *testing.T) {
	file := filepath.Join(t.TempDir(), "fault")
	out, err := RunTests(t, "^TestFaultChild$", "FAKECUDA_DEVICES=2", "FAKECUDA_FAULT=1:"+file, "FAKECUDA_CHILD=1", "FAULT_FILE="+file)
	if err != nil || !strings.Contains(string(out), "--- PASS: TestFaultChild") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func TestFaultChild(t *testing.T) {
	if os.Getenv("FAKECUDA_CHILD") == "" {
		t.Skip("run by TestFault")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if _, err := cuda.LoadDriver(); err != nil {
		t.Fatal(err)
	}
	if err := cuda.Init(); err != nil {
		t.Fatal(err)
	}
	const illegalAddress = 700
	sticky := func(err error) bool {
		var ce *cuda.Error
		return errors.As(err, &ce) && ce.Code == illegalAddress
	}
	// A GPU's memset of 1, 2, ... into a word, as a graph, and an event
	// recorded after each launch.
	type gpu struct {
		ctx   cuda.Context
		s     cuda.Stream
		word  cuda.DevicePtr
		exec  cuda.GraphExec
		event cuda.Event
	}
	gpus := make([]gpu, 2)
	for i := range gpus {
		g := &gpus[i]
		d, err := cuda.GetDevice(i)
		if err != nil {
			t.Fatal(err)
		}
		if g.ctx, err = d.PrimaryCtxRetain(); err != nil {
			t.Fatal(err)
		}
		if err := g.ctx.SetCurrent(); err != nil {
			t.Fatal(err)
		}
		if g.s, err = cuda.NewStream(0, 0); err != nil {
			t.Fatal(err)
		}
		if g.word, err = cuda.MemAlloc(4); err != nil {
			t.Fatal(err)
		}
		if g.event, err = cuda.NewEvent(cuda.EventDefault); err != nil {
			t.Fatal(err)
		}
		if err := g.s.BeginCapture(cuda.CaptureThreadLocal); err != nil {
			t.Fatal(err)
		}
		err = cuda.MemsetD32Async(g.word, uint32(i+1), 1, g.s)
		graph, endErr := g.s.EndCapture()
		if err != nil || endErr != nil {
			t.Fatal(err, endErr)
		}
		if g.exec, err = graph.Instantiate(0); err != nil {
			t.Fatal(err)
		}
	}
	// launch launches GPU i's graph and records its event (errors there
	// are the launch's), then queries the event.
	launch := func(i int) (launchErr, queryErr error) {
		g := &gpus[i]
		if err := g.ctx.SetCurrent(); err != nil {
			t.Fatal(err)
		}
		if launchErr = g.exec.Launch(g.s); launchErr == nil {
			launchErr = g.event.Record(g.s)
		}
		if launchErr != nil {
			return launchErr, nil
		}
		_, queryErr = g.event.Query()
		return nil, queryErr
	}
	for range 2 {
		if l, q := launch(1); l != nil || q != nil {
			t.Fatalf("GPU 1's launch before the fault: %v, %v", l, q)
		}
	}
	if err := os.WriteFile(os.Getenv("FAULT_FILE"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The next launch faults: it and the record after it succeed, the
	// query (a call that synchronises) and what follows fail.
	if l, q := launch(1); l != nil || !sticky(q) {
		t.Fatalf("GPU 1's launch once the fault's file exists: %v, then %v; want nil, then CUDA_ERROR_ILLEGAL_ADDRESS", l, q)
	}
	if _, err := gpus[1].event.Query(); !sticky(err) {
		t.Errorf("GPU 1's event queried with GPU 1's context not current: %v", err)
	}
	if _, err := cuda.MemAlloc(4); !sticky(err) {
		t.Errorf("cuMemAlloc on GPU 1 after the fault: %v", err)
	}
	if l, _ := launch(1); !sticky(l) {
		t.Errorf("GPU 1's launch after the fault: %v", l)
	}
	for range 3 {
		if l, q := launch(0); l != nil || q != nil {
			t.Fatalf("GPU 0 after GPU 1's fault: %v, %v", l, q)
		}
	}
	var word [4]byte // the fake copies when the copy is queued
	if err := cuda.MemcpyDtoHAsync(unsafe.Pointer(&word[0]), gpus[0].word, 4, gpus[0].s); err != nil || word != [4]byte{1} {
		t.Errorf("GPU 0's word %v (%v), want its memset's 1", word, err)
	}
}
