package affinity

import (
	"runtime"
	"slices"
	"testing"
)

func TestPinAndAllowed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	cpus, err := Allowed()
	if err != nil || len(cpus) == 0 || !slices.IsSorted(cpus) {
		t.Fatalf("Allowed() = %v, %v", cpus, err)
	}
	done := make(chan struct{})
	go func() { // pins a thread that exits with its goroutine
		defer close(done)
		runtime.LockOSThread()
		last := cpus[len(cpus)-1]
		if err := Pin(last); err != nil {
			t.Errorf("Pin(%d): %v", last, err)
			return
		}
		if got, err := Allowed(); err != nil || !slices.Equal(got, []int{last}) {
			t.Errorf("after Pin(%d), Allowed() = %v, %v", last, got, err)
		}
		if err := Pin(1 << 20); err == nil {
			t.Error("Pin(1048576) succeeded")
		}
	}()
	<-done
}
