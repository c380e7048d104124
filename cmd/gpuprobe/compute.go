//go:build linux && cgo

package main

import (
	"fmt"
	"time"

	"github.com/clockwork-go/clockwork/internal/cuda"
)

// staging allocates device buffers and pinned host memory for a check; free
// releases them all.
type staging struct {
	dev  []cuda.DevicePtr
	host []*cuda.HostMem
}

func (st *staging) alloc(n uint64) (cuda.DevicePtr, error) {
	p, err := cuda.MemAlloc(n)
	if err == nil {
		st.dev = append(st.dev, p)
	}
	return p, err
}

func (st *staging) pinned(n int) (*cuda.HostMem, error) {
	h, err := cuda.MemHostAlloc(n, cuda.HostAllocPortable)
	if err == nil {
		st.host = append(st.host, h)
	}
	return h, err
}

func (st *staging) free() {
	for _, p := range st.dev {
		cuda.MemFree(p)
	}
	for _, h := range st.host {
		h.Free()
	}
}

// sgemm checks cublasSgemm on a classifier-shaped product against the CPU.
func (p *probe) sgemm() (string, error) {
	if err := need(p.gpuErr, p.blasErr); err != nil {
		return "", err
	}
	const m, n, k = 1000, 16, 2048
	var st staging
	defer st.free()
	h, err := st.pinned(4 * (n*k + m*k + n*m))
	if err != nil {
		return "", err
	}
	f := h.Float32s()
	x, w, y := f[:n*k], f[n*k:n*k+m*k], f[n*k+m*k:]
	fill(x, 11, 1)
	fill(w, 12, 1)
	var dx, dw, dy cuda.DevicePtr
	for _, d := range []struct {
		p *cuda.DevicePtr
		n int
	}{{&dx, n * k}, {&dw, m * k}, {&dy, n * m}} {
		if *d.p, err = st.alloc(uint64(4 * d.n)); err != nil {
			return "", err
		}
	}
	s := p.exec
	if err := cuda.MemcpyHtoDAsync(dx, h.Ptr(0), 4*n*k, s); err != nil {
		return "", err
	}
	if err := cuda.MemcpyHtoDAsync(dw, h.Ptr(4*n*k), 4*m*k, s); err != nil {
		return "", err
	}
	gemm := func() error { return p.blas.Sgemm(cuda.OpT, cuda.OpN, m, n, k, 1, dw, k, dx, k, 0, dy, m) }
	if err := gemm(); err != nil {
		return "", err
	}
	if err := cuda.MemcpyDtoHAsync(h.Ptr(4*(n*k+m*k)), dy, 4*n*m, s); err != nil {
		return "", err
	}
	if err := s.Synchronize(); err != nil {
		return "", err
	}
	e := relErr(y, gemmNT(widen(x), w, n, m, k))
	ms, err := timed(s, func() error {
		for range 10 {
			if err := gemm(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	msg := fmt.Sprintf("[%d×%d]·[%d×%d]ᵀ: max rel err %.2g (limit %.0g); %.1f µs per call", n, k, m, k, e, p.tolerance(), float64(ms)*100)
	if e > p.tolerance() {
		return "", fmt.Errorf("wrong result: %s", msg)
	}
	return msg, nil
}

// gapSource is the global average pool of the test network: one warp per
// h×w plane. Its parameters are the CUDA runtime's kernel's, whose twin
// fakecuda runs for this name; take_max (the runtime's GlobalMaxPool)
// is always 0 here.
const gapSource = `
extern "C" __global__ void global_avg_pool(const float *__restrict__ x, float *__restrict__ y,
                                           int planes, int hw, float scale, int take_max) {
	int warp = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
	int lane = threadIdx.x & 31;
	if (warp >= planes) return;
	const float *p = x + (long long)warp * hw;
	float s = 0.f;
	for (int i = lane; i < hw; i += 32) s += p[i];
	for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
	if (lane == 0) y[warp] = s * scale;
}
`

// launchGAP queues the pool of planes h×w planes of x into y.
func (p *probe) launchGAP(x, y cuda.DevicePtr, planes, hw int, s cuda.Stream, args *cuda.KernelArgs) error {
	args.Reset()
	args.Ptr(x).Ptr(y).Int32(int32(planes)).Int32(int32(hw)).Float32(1 / float32(hw)).Int32(0)
	const block = 256
	grid := (planes*32 + block - 1) / block
	return p.gap.Launch(cuda.Dim3{X: uint32(grid), Y: 1, Z: 1}, cuda.Dim3{X: block, Y: 1, Z: 1}, 0, s, args)
}

// kernel compiles the pool with NVRTC for this GPU, loads it and checks it
// against the CPU.
func (p *probe) kernel() (string, error) {
	if err := need(p.gpuErr, p.rtcLib); err != nil {
		return "", err
	}
	t0 := time.Now()
	cubin, err := cuda.CompileCUBIN(gapSource, "global_avg_pool.cu", p.cc[0], p.cc[1])
	if err != nil {
		return "", err
	}
	compile := time.Since(t0)
	mod, err := cuda.ModuleLoadData(cubin)
	if err != nil {
		return "", err
	}
	if p.gap, err = mod.Function("global_avg_pool"); err != nil {
		return "", err
	}

	planes, hw := 16*channels, side*side
	var st staging
	defer st.free()
	h, err := st.pinned(4 * (planes*hw + planes))
	if err != nil {
		return "", err
	}
	x, y := h.Float32s()[:planes*hw], h.Float32s()[planes*hw:]
	fill(x, 21, 1)
	xBytes, yBytes := uint64(4*planes*hw), uint64(4*planes)
	dx, err := st.alloc(xBytes)
	if err != nil {
		return "", err
	}
	dy, err := st.alloc(yBytes)
	if err != nil {
		return "", err
	}
	var args cuda.KernelArgs
	s := p.exec
	for _, err := range []error{
		cuda.MemcpyHtoDAsync(dx, h.Ptr(0), xBytes, s),
		p.launchGAP(dx, dy, planes, hw, s, &args),
		cuda.MemcpyDtoHAsync(h.Ptr(int(xBytes)), dy, yBytes, s),
		s.Synchronize(),
	} {
		if err != nil {
			return "", err
		}
	}
	e := relErr(y, globalAvgPool(widen(x), planes, hw))
	msg := fmt.Sprintf("sm_%d%d cubin of %d bytes compiled in %.0f ms; pool of %d planes of %d: max rel err %.2g",
		p.cc[0], p.cc[1], len(cubin), float64(compile.Microseconds())/1000, planes, hw, e)
	if e > p.tolerance() {
		return "", fmt.Errorf("wrong result: %s", msg)
	}
	p.gapErr = nil
	return msg, nil
}
