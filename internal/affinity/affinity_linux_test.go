package affinity

import (
	"runtime"
	"sync"
	"syscall"
	"testing"
	"unsafe"
)

// TestPinProcess pins every thread of the test process, those started
// after included, then gives them all CPUs back.
func TestPinProcess(t *testing.T) {
	all, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := PinProcess(all); err != nil {
			t.Fatal(err)
		}
	}()
	last := all[len(all)-1:]
	if err := PinProcess(last); err != nil {
		t.Fatal(err)
	}
	check := func() {
		tids, err := threads()
		if err != nil {
			t.Fatal(err)
		}
		for _, tid := range tids {
			var m mask
			_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, uintptr(tid), unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
			var want mask
			want[last[0]/64] = 1 << (last[0] % 64)
			if e == 0 && m != want {
				t.Errorf("thread %d may run on %x, want CPU %d alone", tid, m, last[0])
			}
		}
	}
	check()
	// Threads started now inherit it.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			runtime.LockOSThread() // each ends its thread: Go starts more
			check()
		})
	}
	wg.Wait()
	if err := PinProcess(nil); err == nil {
		t.Error("PinProcess(nil) succeeded")
	}
	if err := PinProcess([]int{1 << 20}); err == nil {
		t.Error("PinProcess(1048576) succeeded")
	}
}
