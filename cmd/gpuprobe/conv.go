//go:build linux && cgo

package main

import (
	"fmt"
	"strings"

	"github.com/clockwork-go/clockwork/internal/cuda"
)

// dnnLayer holds the cuDNN descriptors of the test layer that do not depend
// on the batch size.
type dnnLayer struct {
	filter cuda.FilterDesc
	conv   cuda.ConvDesc
	bias   cuda.TensorDesc
	relu   cuda.ActivationDesc
	math   cuda.MathType
}

func newDNNLayer(tf32 bool) (*dnnLayer, error) {
	l := &dnnLayer{math: cuda.MathFMA}
	if tf32 {
		l.math = cuda.MathDefault
	}
	var err error
	if l.filter, err = cuda.NewFilterDesc(); err != nil {
		return nil, err
	}
	if l.conv, err = cuda.NewConvDesc(); err != nil {
		return nil, err
	}
	if l.bias, err = cuda.NewTensorDesc(); err != nil {
		return nil, err
	}
	if l.relu, err = cuda.NewActivationDesc(); err != nil {
		return nil, err
	}
	return l, need(
		l.filter.Set4d(cuda.DataFloat, cuda.FormatNCHW, channels, channels, 3, 3),
		l.conv.Set2d(1, 1, 1, 1, 1, 1, cuda.CrossCorrelation, cuda.DataFloat),
		l.conv.SetMathType(l.math),
		l.bias.Set4d(cuda.FormatNCHW, cuda.DataFloat, 1, channels, 1, 1),
		l.relu.Set(cuda.ActivationRelu, cuda.NotPropagateNaN, 0),
	)
}

// batchCase is the test network at one batch size.
type batchCase struct {
	b      int
	err    error           // why the next check of this batch size cannot run
	t      cuda.TensorDesc // b × 64 × 56 × 56
	x      cuda.DevicePtr  // input, also the first layer's residual
	act    [2]cuda.DevicePtr
	pooled cuda.DevicePtr
	out    cuda.DevicePtr
	host   *cuda.HostMem // pinned: the input, then room for downloads
	algo   cuda.ConvFwdAlgo
	wsNeed uint64

	graph      cuda.Graph
	exec       cuda.GraphExec
	start, end cuda.Event
	first      []byte // the graph's output before any rebind
	args       cuda.KernelArgs
	gpu, wall  []float64 // replay latencies in µs
	replayErr  error
}

func (c *batchCase) actBytes() uint64 { return uint64(c.b * channels * side * side * 4) }
func (c *batchCase) outBytes() uint64 { return uint64(c.b * classes * 4) }

// images are the images of the batch checked against the CPU: the first
// and the last.
func (c *batchCase) images() []int {
	if c.b == 1 {
		return []int{0}
	}
	return []int{0, c.b - 1}
}

// image returns image n of a downloaded activation.
func image(v []float32, n int) []float32 {
	size := channels * side * side
	return v[n*size : (n+1)*size]
}

// download copies n bytes from src into the download half of c.host.
func (p *probe) download(c *batchCase, src cuda.DevicePtr, n uint64) ([]byte, error) {
	off := int(c.actBytes())
	if err := cuda.MemcpyDtoHAsync(c.host.Ptr(off), src, n, p.exec); err != nil {
		return nil, err
	}
	if err := p.exec.Synchronize(); err != nil {
		return nil, err
	}
	return c.host.Bytes()[off : off+int(n)], nil
}

func (p *probe) downloadFloats(c *batchCase, src cuda.DevicePtr, n uint64) ([]float32, error) {
	if _, err := p.download(c, src, n); err != nil {
		return nil, err
	}
	off := int(c.actBytes()) / 4
	return c.host.Float32s()[off : off+int(n)/4], nil
}

// fused queues one layer: out = relu(conv(in) + bias + in).
func (p *probe) fused(c *batchCase, in, out cuda.DevicePtr) error {
	w, bias, _ := p.model.addrs(p)
	l := p.layer
	return p.dnn.ConvolutionBiasActivationForward(1, c.t, in, l.filter, w, l.conv, c.algo, p.ws, c.wsNeed,
		1, c.t, in, l.bias, bias, l.relu, c.t, out)
}

// conv sets up batch size c.b, chooses the convolution algorithm by timing
// them all (cudnnFindConvolutionForwardAlgorithmEx) and checks one fused
// layer against the CPU.
func (p *probe) conv(c *batchCase) (string, error) {
	c.err = fmt.Errorf("conv-b%d failed", c.b)
	if err := need(p.gpuErr, p.cacheErr, p.dnnErr); err != nil {
		c.err = err
		return "", err
	}
	var err error
	if c.t, err = cuda.NewTensorDesc(); err != nil {
		return "", err
	}
	if err := c.t.Set4d(cuda.FormatNCHW, cuda.DataFloat, c.b, channels, side, side); err != nil {
		return "", err
	}
	if n, k, h, w, err := p.layer.conv.OutputDim2d(c.t, p.layer.filter); err != nil {
		return "", err
	} else if n != c.b || k != channels || h != side || w != side {
		return "", fmt.Errorf("output shape %d×%d×%d×%d, want %d×%d×%d×%d", n, k, h, w, c.b, channels, side, side)
	}
	for _, d := range []struct {
		p *cuda.DevicePtr
		n uint64
	}{{&c.x, c.actBytes()}, {&c.act[0], c.actBytes()}, {&c.act[1], c.actBytes()},
		{&c.pooled, uint64(c.b * channels * 4)}, {&c.out, c.outBytes()}} {
		if *d.p, err = cuda.MemAlloc(d.n); err != nil {
			return "", err
		}
	}
	if c.host, err = cuda.MemHostAlloc(2*int(c.actBytes()), cuda.HostAllocPortable); err != nil {
		return "", err
	}
	x := c.host.Float32s()[:c.actBytes()/4]
	fill(x, uint64(100+c.b), 1)
	if err := cuda.MemcpyHtoDAsync(c.x, c.host.Ptr(0), c.actBytes(), p.exec); err != nil {
		return "", err
	}

	w, _, _ := p.model.addrs(p)
	perfs, err := p.dnn.FindConvolutionForwardAlgorithmEx(c.t, c.x, p.layer.filter, w, p.layer.conv, c.t, c.act[0],
		p.ws, wsSize)
	if err != nil {
		return "", err
	}
	var tried []string
	var chosen *cuda.ConvFwdAlgoPerf
	for i := range perfs {
		pf := &perfs[i]
		if pf.Status != 0 || pf.Memory > wsSize || (!p.opt.tf32 && pf.MathType != cuda.MathFMA && pf.MathType != cuda.MathDefault) {
			continue
		}
		c.algo = pf.Algo
		if c.wsNeed, err = p.dnn.ConvolutionForwardWorkspaceSize(c.t, p.layer.filter, p.layer.conv, c.t, c.algo); err == nil {
			err = p.fused(c, c.x, c.act[0])
		}
		if err == nil {
			err = p.exec.Synchronize()
		}
		if err != nil {
			tried = append(tried, fmt.Sprintf("%v: %v", pf.Algo, err))
			continue
		}
		chosen = pf
		break
	}
	if chosen == nil {
		return "", fmt.Errorf("no algorithm works with cudnnConvolutionBiasActivationForward: %s; found: %s",
			strings.Join(tried, "; "), algoList(perfs))
	}

	y, err := p.downloadFloats(c, c.act[0], c.actBytes())
	if err != nil {
		return "", err
	}
	var e float64
	for _, n := range c.images() {
		xn := widen(image(x, n))
		e = max(e, relErr(image(y, n), p.model.layer.forward(side, side, xn, xn)))
	}
	ms, err := timed(p.exec, func() error {
		for range 10 {
			if err := p.fused(c, c.x, c.act[0]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	msg := fmt.Sprintf("conv+bias+residual+ReLU with %v (%v math, %d KiB workspace), %.1f µs per call; max rel err %.2g on images %v (limit %.0g); Find: %s",
		c.algo, chosen.MathType, c.wsNeed>>10, float64(ms)*100, e, c.images(), p.tolerance(), algoList(perfs))
	if e > p.tolerance() {
		return "", fmt.Errorf("wrong result: %s", msg)
	}
	c.err = nil
	return msg, nil
}

func algoList(perfs []cuda.ConvFwdAlgoPerf) string {
	var parts []string
	for _, pf := range perfs {
		if pf.Status == 0 {
			parts = append(parts, fmt.Sprintf("%v/%v %.3f ms", pf.Algo, pf.MathType, pf.Time))
		} else {
			parts = append(parts, fmt.Sprintf("%v status %d", pf.Algo, pf.Status))
		}
	}
	return strings.Join(parts, ", ")
}
