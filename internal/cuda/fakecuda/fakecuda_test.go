package fakecuda

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

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
