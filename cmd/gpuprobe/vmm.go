//go:build linux && cgo

package main

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/clockwork-go/clockwork/internal/cuda"
)

// vmmPages is how many 16 MiB pages the mapping check moves: VGG-16's
// weights take 35.
const vmmPages = 36

// vmm measures what the CUDA runtime's graph sets rest on (see
// internal/runtime/cuda/graphs.go): the weights cache as one physical
// allocation per page, mapped again at an address of each graph set, so
// that moving a model to other pages is an unmap, a map per page and an
// access change instead of re-capturing its graphs. It times creating the
// pages and remapping vmmPages of them, idle and while graph replays keep
// the GPU busy (a remap that waited for the GPU would take as long as the
// replays), and checks that a graph captured once reads the pages mapped
// at its address after each remap. LoadWeights maps a model's pages while
// they copy, so a remap passes if it takes less than the copy of its pages
// at the 40 GB/s target (on the H200: 1.8 ms for 36 pages, against 15 ms).
func (p *probe) vmm(c *batchCase) (string, error) {
	if err := need(p.cacheErr, c.err); err != nil {
		return "", err
	}
	if ok, err := p.dev.Attribute(cuda.AttrVirtualMemoryManagement); err != nil || ok == 0 {
		return "", errors.Join(errors.New("the device does not support virtual memory management"), err)
	}
	gran, err := cuda.AllocationGranularity(p.dev)
	if err != nil {
		return "", err
	}
	if pageSize%gran != 0 {
		return "", fmt.Errorf("16 MiB pages are not a multiple of the granularity %d", gran)
	}
	const span = vmmPages * pageSize
	var pages [2 * vmmPages]cuda.MemHandle
	var creates []float64
	defer func() {
		for _, h := range pages {
			if h != 0 {
				h.Release()
			}
		}
	}()
	for i := range pages {
		t0 := time.Now()
		if pages[i], err = cuda.MemCreate(p.dev, pageSize); err != nil {
			return "", fmt.Errorf("cuMemCreate page %d: %w", i, err)
		}
		creates = append(creates, us(time.Since(t0)))
	}
	va, err := cuda.MemAddressReserve(span)
	if err != nil {
		return "", err
	}
	defer cuda.MemAddressFree(va, span)
	mapped := false
	defer func() {
		if mapped {
			cuda.MemUnmap(va, span)
		}
	}()
	// remap maps set k (pages k·vmmPages...) at va; it returns the host
	// time of the unmap and of the maps with the access change.
	remap := func(k int) (unmap, mapAccess time.Duration, err error) {
		t0 := time.Now()
		if mapped {
			if err := cuda.MemUnmap(va, span); err != nil {
				return 0, 0, err
			}
			mapped = false
		}
		t1 := time.Now()
		for i := range vmmPages {
			if err := cuda.MemMap(va.Add(uint64(i)*pageSize), pageSize, pages[k*vmmPages+i]); err != nil {
				if i > 0 {
					cuda.MemUnmap(va, uint64(i)*pageSize)
				}
				return 0, 0, err
			}
		}
		if err := cuda.MemSetAccess(va, span, p.dev); err != nil {
			cuda.MemUnmap(va, span)
			return 0, 0, err
		}
		mapped = true
		return t1.Sub(t0), time.Since(t1), nil
	}

	// Each set's first page gets its own byte pattern; a graph captured
	// once copies the page at va into the test's buffer.
	const probeBytes = 1 << 20
	host, err := cuda.MemHostAlloc(2*probeBytes, cuda.HostAllocPortable)
	if err != nil {
		return "", err
	}
	defer host.Free()
	dst, err := cuda.MemAlloc(probeBytes)
	if err != nil {
		return "", err
	}
	defer cuda.MemFree(dst)
	for k := range 2 {
		if _, _, err := remap(k); err != nil {
			return "", err
		}
		if err := need(cuda.MemsetD8Async(va, byte(0x11*(k+1)), probeBytes, p.weights), p.weights.Synchronize()); err != nil {
			return "", err
		}
	}
	if err := p.exec.BeginCapture(cuda.CaptureThreadLocal); err != nil {
		return "", err
	}
	err = cuda.MemcpyDtoDAsync(dst, va, probeBytes, p.exec)
	g, endErr := p.exec.EndCapture()
	if err := errors.Join(err, endErr); err != nil {
		return "", err
	}
	defer g.Destroy()
	copier, err := g.Instantiate(0)
	if err != nil {
		return "", err
	}
	defer copier.Destroy()

	var unmaps, maps, busyUnmaps, busyMaps []float64
	stillBusy := 0
	const reps = 20
	for i := range reps {
		busy := i%2 == 1
		if busy { // about 100 replays in flight while the remap runs
			for range 100 {
				if err := c.exec.Launch(p.exec); err != nil {
					return "", err
				}
			}
			if err := c.end.Record(p.exec); err != nil {
				return "", err
			}
		}
		k := i % 2
		u, m, err := remap(k)
		if err != nil {
			return "", err
		}
		if busy {
			done, err := c.end.Query()
			if err != nil {
				return "", err
			}
			if !done {
				stillBusy++
			}
			busyUnmaps, busyMaps = append(busyUnmaps, us(u)), append(busyMaps, us(m))
		} else {
			unmaps, maps = append(unmaps, us(u)), append(maps, us(m))
		}
		if err := need(copier.Launch(p.exec), cuda.MemcpyDtoHAsync(host.Ptr(probeBytes), dst, probeBytes, p.exec), p.exec.Synchronize()); err != nil {
			return "", err
		}
		if want := bytes.Repeat([]byte{byte(0x11 * (k + 1))}, probeBytes); !bytes.Equal(host.Bytes()[probeBytes:], want) {
			return "", fmt.Errorf("after remap %d the graph did not read set %d's pages", i, k)
		}
	}
	idle, loaded := summarize(maps).p50+summarize(unmaps).p50, summarize(busyMaps).p50+summarize(busyUnmaps).p50
	msg := fmt.Sprintf("granularity %d; cuMemCreate 16 MiB p50 %.1f µs; remap of %d pages: unmap p50 %.1f µs, map+access p50 %.1f µs (max %.1f); "+
		"with replays in flight: unmap p50 %.1f µs, map+access p50 %.1f µs (max %.1f), GPU still busy after %d of %d remaps; the graph read the pages mapped each time",
		gran, summarize(creates).p50, vmmPages, summarize(unmaps).p50, summarize(maps).p50, summarize(maps).worst,
		summarize(busyUnmaps).p50, summarize(busyMaps).p50, summarize(busyMaps).worst, stillBusy, reps/2)
	// LoadWeights maps the pages while they copy: the mapping must take
	// less than the copy at the target rate. (Whether it waited for the
	// replays is reported: the GPU still busy after a remap says it did
	// not; short replays may end first anyway.)
	copyUs := float64(span) / vmmCopyRate * 1e6
	msg += fmt.Sprintf("; %.1f µs per page; copying the pages at 40 GB/s takes %.0f µs", max(idle, loaded)/vmmPages, copyUs)
	if max(idle, loaded) > copyUs {
		return "", fmt.Errorf("a remap takes longer than the pages' copy: %s", msg)
	}
	return msg, nil
}

// vmmCopyRate is the weights copy rate LoadWeights is held to (bytes/s).
const vmmCopyRate = 40e9
