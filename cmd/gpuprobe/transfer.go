//go:build linux && cgo

package main

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/clockwork-go/clockwork/internal/cuda"
)

// The test network: layers of 3×3 64→64 convolutions at 56×56 (a ResNet
// stage) sharing one set of weights, a global average pool and a
// 64→1000 classifier.
var side = 56 // tests make it smaller

const (
	channels = 64
	classes  = 1000

	convWBytes = channels * channels * 9 * 4
	biasOff    = convWBytes
	fcOff      = biasOff + 256
	modelBytes = fcOff + classes*channels*4
)

// model is the network's weights in pinned host memory and where they are
// on the device.
type model struct {
	host  *cuda.HostMem
	layer convLayer
	fc    []float32 // classes × channels
	bytes int
	page  int
}

func newModel() (*model, error) {
	h, err := cuda.MemHostAlloc(modelBytes, cuda.HostAllocPortable)
	if err != nil {
		return nil, err
	}
	f := h.Float32s()
	m := &model{
		host: h,
		layer: convLayer{k: channels, c: channels,
			w:    f[:convWBytes/4],
			bias: f[biasOff/4 : biasOff/4+channels]},
		fc:    f[fcOff/4:],
		bytes: modelBytes,
	}
	fill(m.layer.w, 1, 1.0/24) // keeps activations of the same scale from layer to layer
	fill(m.layer.bias, 2, 0.1)
	fill(m.fc, 3, 1.0/8)
	return m, nil
}

// upload copies the weights into page of the cache.
func (m *model) upload(p *probe, page int) error {
	if err := cuda.MemcpyHtoDAsync(p.pageAddr(page), m.host.Ptr(0), modelBytes, p.weights); err != nil {
		return err
	}
	if err := p.weights.Synchronize(); err != nil {
		return err
	}
	m.page = page
	return nil
}

// addrs are the device addresses of the conv weights, bias and classifier.
func (m *model) addrs(p *probe) (w, bias, fc cuda.DevicePtr) {
	base := p.pageAddr(m.page)
	return base, base.Add(biasOff), base.Add(fcOff)
}

// The pinned transfer test copies 100 MB as six page-sized copies into
// scattered pages (not those of the model).
const transferBytes = 100_000_000

var transferPages = []int{5, 17, 9, 33, 21, 48}

// copyPaged queues the 100 MB as page copies on the weights stream.
func (p *probe) copyPaged() error {
	for i, off := 0, 0; off < transferBytes; i, off = i+1, off+pageSize {
		n := min(pageSize, transferBytes-off)
		if err := cuda.MemcpyHtoDAsync(p.pageAddr(transferPages[i]), p.pinned.Ptr(off), uint64(n), p.weights); err != nil {
			return err
		}
	}
	return nil
}

// timed runs f on stream s between two events and returns the GPU time in
// ms.
func timed(s cuda.Stream, f func() error) (float32, error) {
	start, err := cuda.NewEvent(cuda.EventDefault)
	if err != nil {
		return 0, err
	}
	defer start.Destroy()
	end, err := cuda.NewEvent(cuda.EventDefault)
	if err != nil {
		return 0, err
	}
	defer end.Destroy()
	if err := start.Record(s); err != nil {
		return 0, err
	}
	if err := f(); err != nil {
		return 0, err
	}
	if err := end.Record(s); err != nil {
		return 0, err
	}
	if err := end.Synchronize(); err != nil {
		return 0, err
	}
	return cuda.ElapsedTime(start, end)
}

// transfer measures pinned host-to-device copies as LoadWeights does them.
func (p *probe) transfer() (string, error) {
	if err := need(p.gpuErr, p.cacheErr); err != nil {
		return "", err
	}
	if _, err := timed(p.weights, p.copyPaged); err != nil { // warm-up
		return "", err
	}
	var rates []float64
	for range p.opt.reps {
		ms, err := timed(p.weights, p.copyPaged)
		if err != nil {
			return "", err
		}
		rates = append(rates, transferBytes/(float64(ms)*1e6))
	}
	slices.Sort(rates)
	one, err := timed(p.weights, func() error {
		return cuda.MemcpyHtoDAsync(p.pageAddr(10), p.pinned.Ptr(0), transferBytes, p.weights)
	})
	if err != nil {
		return "", err
	}

	// The third page copy arrived intact.
	back, err := cuda.MemHostAlloc(pageSize, 0)
	if err != nil {
		return "", err
	}
	defer back.Free()
	if err := cuda.MemcpyDtoHAsync(back.Ptr(0), p.pageAddr(transferPages[2]), pageSize, p.weights); err != nil {
		return "", err
	}
	if err := p.weights.Synchronize(); err != nil {
		return "", err
	}
	if !bytes.Equal(back.Bytes(), p.pinned.Bytes()[2*pageSize:3*pageSize]) {
		return "", fmt.Errorf("page %d does not hold what was copied", transferPages[2])
	}

	median := rates[len(rates)/2]
	msg := fmt.Sprintf("100 MB as 6 page copies: median %.1f GB/s, best %.1f (%d runs); one 100 MB copy %.1f GB/s; target ≥ 40",
		median, rates[len(rates)-1], len(rates), transferBytes/(float64(one)*1e6))
	if median < 40 {
		return "", fmt.Errorf("too slow: %s", msg)
	}
	return msg, nil
}
