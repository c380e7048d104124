package affinity

import (
	"runtime"
	"sync"
	"syscall"
	"testing"
	"unsafe"
)

// TestPinProcess pins every thread of the test process, and so the
// threads started after it, then gives them all CPUs back.
func TestPinProcess(t *testing.T) {
	all, err := Allowed()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 1 {
		t.Skip("the process may use one CPU: pinning to it changes nothing")
	}
	defer func() {
		if err := PinProcess(all); err != nil {
			t.Error(err)
		}
	}()
	last := all[len(all)-1]
	var want mask
	want[last/64] = 1 << (last % 64)
	before := map[int]bool{}
	if err := PinProcess([]int{last}); err != nil {
		t.Fatal(err)
	}
	check := func() (fresh int) {
		tids, err := threads()
		if err != nil {
			t.Error(err)
			return 0
		}
		for _, tid := range tids {
			var m mask
			_, _, e := syscall.RawSyscall(syscall.SYS_SCHED_GETAFFINITY, uintptr(tid), unsafe.Sizeof(m), uintptr(unsafe.Pointer(&m)))
			if e == 0 && m != want {
				t.Errorf("thread %d may run on %x, want CPU %d alone", tid, m, last)
			}
			if !before[tid] {
				fresh++
			}
		}
		return fresh
	}
	tids, err := threads()
	if err != nil {
		t.Fatal(err)
	}
	for _, tid := range tids {
		before[tid] = true
	}
	check()
	// Eight goroutines each holding a thread of its own at once: Go must
	// start threads for them, which inherit the CPU.
	var locked, release sync.WaitGroup
	locked.Add(8)
	release.Add(1)
	for range 8 {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			locked.Done()
			release.Wait()
		}()
	}
	locked.Wait()
	if fresh := check(); fresh == 0 {
		t.Error("no thread was started after the pinning: the test tested nothing")
	}
	release.Done()
	if err := PinProcess(nil); err == nil {
		t.Error("PinProcess(nil) succeeded")
	}
	if err := PinProcess([]int{1 << 20}); err == nil {
		t.Error("PinProcess(1048576) succeeded")
	}
}
