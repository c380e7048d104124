//go:build linux && cgo

package cuda

import (
	"bytes"
	"strings"
	"testing"
)

// isFake reports whether dev is fakecuda's. fakecuda enforces the virtual
// memory API's rules strictly, so that the runtime cannot come to depend
// on breaking one; the tests check those rules on it alone, since the
// driver documents no error for some of them, and a misuse it accepts
// would leave the test's mappings in an unknown state.
func isFake(dev Device) bool {
	name, _ := dev.Name()
	return strings.Contains(name, "fakecuda")
}

// TestGPUVirtualMemory maps two physical allocations in turn at one
// reserved address and replays a graph captured once against that
// address: it reads whichever allocation is mapped, the way the CUDA
// runtime's graph sets read a model's weights pages.
func TestGPUVirtualMemory(t *testing.T) {
	dev := gpu(t)
	if ok, err := dev.Attribute(AttrVirtualMemoryManagement); err != nil || ok == 0 {
		t.Skipf("no virtual memory management (%d, %v)", ok, err)
	}
	g, err := AllocationGranularity(dev)
	check(t, err)
	if g == 0 || g&(g-1) != 0 {
		t.Fatalf("granularity %d", g)
	}
	n := g
	var phys [2]MemHandle
	for i := range phys {
		phys[i], err = MemCreate(dev, n)
		check(t, err)
	}
	fake := isFake(dev)
	if _, err := MemCreate(dev, n+1); fake && err == nil {
		t.Error("MemCreate of a size that is not a multiple of the granularity succeeded")
	}
	// Each allocation is also mapped at an address of its own, to fill it.
	own, err := MemAddressReserve(2 * n)
	check(t, err)
	for i, h := range phys {
		check(t, MemMap(own.Add(uint64(i)*n), n, h))
	}
	check(t, MemSetAccess(own, 2*n, dev))
	va, err := MemAddressReserve(n)
	check(t, err)
	if fake && MemMap(va.Add(n/2), n, phys[0]) == nil {
		t.Error("MemMap past the end of a reservation succeeded")
	}

	s, err := NewStream(StreamNonBlocking, 0)
	check(t, err)
	defer s.Destroy()
	host := hostAlloc(t, 3*int(n))
	for i := range 2 * n {
		host.Bytes()[i] = byte(i*13 + i/n)
	}
	check(t, MemcpyHtoDAsync(own, host.Ptr(0), 2*n, s))
	out := alloc(t, n)
	// The driver rejects a copy of reserved addresses that are not mapped,
	// at capture too: the graph is captured with allocation 0 mapped.
	check(t, MemMap(va, n, phys[0]))
	check(t, MemSetAccess(va, n, dev))
	exec := captured(t, s, func() error { return MemcpyDtoDAsync(out, va, n, s) })

	for k, i := range []int{0, 1, 0} {
		if k > 0 {
			check(t, MemMap(va, n, phys[i]))
			check(t, MemSetAccess(va, n, dev))
		}
		if fake && MemMap(va, n, phys[1-i]) == nil {
			t.Error("MemMap over a mapped range succeeded")
		}
		check(t, exec.Launch(s))
		check(t, MemcpyDtoHAsync(host.Ptr(2*int(n)), out, n, s))
		check(t, s.Synchronize())
		if want := host.Bytes()[uint64(i)*n : uint64(i+1)*n]; !bytes.Equal(host.Bytes()[2*n:], want) {
			t.Fatalf("graph read allocation %d wrongly through the fixed address", i)
		}
		if fake && MemAddressFree(va, n) == nil {
			t.Error("MemAddressFree of a mapped range succeeded")
		}
		check(t, MemUnmap(va, n))
	}
	if fake && MemUnmap(va, n) == nil {
		t.Error("MemUnmap of an unmapped range succeeded")
	}
	check(t, MemAddressFree(va, n))
	check(t, MemUnmap(own, 2*n)) // one call over two mappings
	check(t, MemAddressFree(own, 2*n))
	for _, h := range phys {
		check(t, h.Release())
	}
}

// TestGPUMemsetZeroesLargeRegions zeroes the inside of 20 MiB regions,
// plain and mapped (fakecuda drops the whole pages of plain memory rather
// than writing them, which would not zero the memory file behind a
// mapping), and checks every byte and the bytes around them.
func TestGPUMemsetZeroesLargeRegions(t *testing.T) {
	dev := gpu(t)
	const n = 20 << 20
	s, err := NewStream(StreamNonBlocking, 0)
	check(t, err)
	defer s.Destroy()
	host := hostAlloc(t, n)
	want := bytes.Repeat([]byte{0xCD}, n)
	clear(want[3 : n-4])
	zeroes := func(what string, p DevicePtr) {
		t.Helper()
		check(t, MemsetD8Async(p, 0xCD, n, s))
		check(t, MemsetD8Async(p.Add(3), 0, n-7, s)) // unaligned at both ends
		check(t, MemcpyDtoHAsync(host.Ptr(0), p, n, s))
		check(t, s.Synchronize())
		got := host.Bytes()[:n]
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: byte %d is %#x, want %#x", what, i, got[i], want[i])
				return
			}
		}
	}
	zeroes("allocated", alloc(t, n))

	if ok, err := dev.Attribute(AttrVirtualMemoryManagement); err != nil || ok == 0 {
		t.Skipf("no virtual memory management (%d, %v)", ok, err)
	}
	g, err := AllocationGranularity(dev)
	check(t, err)
	size := (uint64(n) + g - 1) / g * g
	h, err := MemCreate(dev, size)
	check(t, err)
	va, err := MemAddressReserve(size)
	check(t, err)
	check(t, MemMap(va, size, h))
	check(t, MemSetAccess(va, size, dev))
	zeroes("mapped", va)
	check(t, MemUnmap(va, size))
	check(t, MemAddressFree(va, size))
	check(t, h.Release())
}
