//go:build linux && cgo

package cuda

import (
	"fmt"
	goruntime "runtime"
	"sync"
	"time"

	"github.com/clockwork-go/clockwork/internal/clock"
	cu "github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// The Infer pipeline. Every graph of a GPU reads its input from, and
// writes its output to, one IO slot at a fixed address in the serving
// workspace (a graph bakes in its addresses, and only one exec runs at a
// time per GPU). Each Infer has its own block of the IO pool, so that the
// next input can be copied while an exec runs; Exec moves the input from
// the block into the slot and the output back with device-to-device
// copies around the graph launch (a few µs at about 1 TB/s).

// ioBlock is the runtime.IO of one Infer: a block of its GPU's IO pool
// holding the padded batch's inputs, then its outputs.
type ioBlock struct {
	in   *instance
	v    *variant
	off  uint64
	dev  cu.DevicePtr
	live bool
}

// CopyInput implements runtime.Model: the input is staged in the pinned
// host IO pool, unless it lies there already (AllocHost), and copied into
// a new IO block on the GPU's input stream. An empty input leaves the
// batch's inputs as they are (zero-size inputs).
func (m *Model) CopyInput(gpu, batch, padded int, input []byte, start int64) (runtime.IO, workerapi.Timing, error) {
	d, in, err := m.instance(gpu)
	if err != nil {
		return nil, workerapi.Timing{}, err
	}
	v := in.variant(padded)
	if v == nil || batch < 0 || batch > padded {
		return nil, workerapi.Timing{}, runtime.Errorf(workerapi.CopyInputInvalidBatchSize,
			"batch size %d (padded %d) not supported; have %v", batch, padded, in.sizes())
	}
	n := uint64(len(input))
	if n != 0 && n != uint64(batch)*m.info.InputSize {
		return nil, workerapi.Timing{}, runtime.Errorf(workerapi.CopyInputInvalidInput,
			"input of %d bytes for batch size %d (want %d)", n, batch, uint64(batch)*m.info.InputSize)
	}
	off, ok := d.ioPool.alloc(uint64(v.plan.IOBytes))
	if !ok {
		return nil, workerapi.Timing{}, runtime.Errorf(workerapi.CopyInputIOPoolExhausted,
			"GPU %d IO pool exhausted (%d bytes wanted, %d of %d in use)", gpu, v.plan.IOBytes, d.ioPool.used(), d.ioPool.size)
	}
	blk := m.rt.ios.Get().(*ioBlock)
	*blk = ioBlock{in: in, v: v, off: off, dev: d.io.Add(off), live: true}
	if n == 0 {
		now := uint64(clock.Now())
		return blk, workerapi.Timing{Begin: uint64(start), End: max(now, uint64(start))}, nil
	}
	enqueue := func(host *cu.HostMem, hoff uint64) error {
		return cu.MemcpyHtoDAsync(blk.dev, host.Ptr(int(hoff)), n, d.in.s)
	}
	var t workerapi.Timing
	if hoff, ok := m.rt.hostOffset(input); ok {
		t, err = m.copyAt(d, &d.in, n, hoff, enqueue, nil, start)
	} else {
		t, err = m.copy(d, &d.in, n, func(host *cu.HostMem, hoff uint64) {
			stageInput(host.Bytes()[hoff:hoff+n], input)
		}, enqueue, nil, workerapi.CopyInputHostAlloc, start)
	}
	if err != nil {
		m.Release(gpu, blk)
		return nil, workerapi.Timing{}, err
	}
	return blk, t, nil
}

// copy runs one host-device copy of n bytes through the pinned host IO
// pool on stage st: fill (if any) writes the host memory first, outside
// the GPU's context and the timed span, then copyAt. hostCode is the
// status when the host pool is full.
func (m *Model) copy(d *device, st *stage, n uint64, fill func(*cu.HostMem, uint64), enqueue, done func(*cu.HostMem, uint64) error,
	hostCode int32, start int64) (workerapi.Timing, error) {
	r := m.rt
	hoff, ok := r.hostIO.alloc(n)
	if !ok {
		return workerapi.Timing{}, runtime.Errorf(hostCode, "host IO pool exhausted (%d bytes wanted, %d of %d in use)",
			n, r.hostIO.used(), r.hostIO.size)
	}
	defer r.hostIO.free(hoff)
	if fill != nil {
		fill(r.host, hoff)
	}
	return m.copyAt(d, st, n, hoff, enqueue, done, start)
}

// copyAt runs one host-device copy of the n bytes at hoff in the pinned
// host IO pool on stage st: enqueue queues it, timed, then after its
// completion done (if any) reads the host memory.
func (m *Model) copyAt(d *device, st *stage, n, hoff uint64, enqueue, done func(*cu.HostMem, uint64) error,
	start int64) (workerapi.Timing, error) {
	r := m.rt
	if err := d.enter(); err != nil {
		return workerapi.Timing{}, runtimeError(d, err)
	}
	err := d.failed()
	if err == nil {
		err = st.start.Record(st.s)
	}
	if err == nil {
		err = enqueue(r.host, hoff)
	}
	if err == nil {
		err = st.end.Record(st.s)
	}
	d.leave()
	if err != nil {
		return workerapi.Timing{}, runtimeError(d, err)
	}
	end, dur, err := d.chk.wait(st.w, copyTime(n))
	if err != nil {
		return workerapi.Timing{}, runtimeError(d, err)
	}
	if done != nil {
		if err := done(r.host, hoff); err != nil {
			return workerapi.Timing{}, err
		}
	}
	return workerapi.Timing{Begin: uint64(start), End: uint64(end), Duration: dur}, nil
}

// copyTime is about how long a host-device copy of n bytes takes: a
// launch and PCIe at 20 GB/s (a waiter's expectation, not a promise).
func copyTime(n uint64) time.Duration { return 10*time.Microsecond + time.Duration(n/20) }

// stageParallel is the least input whose staging copy is split across
// goroutines: 9.6 MB (batch 16 of ImageNet items) take about 1 ms on one
// core.
const stageParallel = 4 << 20

// stageInput copies src into dst (pinned memory), in parallel when large.
func stageInput(dst, src []byte) {
	parts := min(4, goruntime.GOMAXPROCS(0), len(src)/stageParallel*2)
	if parts < 2 {
		copy(dst, src)
		return
	}
	var wg sync.WaitGroup
	chunk := (len(src) + parts - 1) / parts
	for lo := 0; lo < len(src); lo += chunk {
		hi := min(lo+chunk, len(src))
		wg.Go(func() { copy(dst[lo:hi], src[lo:hi]) })
	}
	wg.Wait()
}

// block checks that x is a live IO block of this model on gpu.
func (m *Model) block(gpu int, x runtime.IO) (*ioBlock, error) {
	blk, ok := x.(*ioBlock)
	if !ok || blk == nil || !blk.live || gpu < 0 || gpu >= len(m.inst) || blk.in != m.inst[gpu] {
		return nil, runtime.Errorf(workerapi.ErrRuntimeError, "IO %T does not belong to model %s on GPU %d", x, m.path, gpu)
	}
	return blk, nil
}

// Exec implements runtime.Model: one graph launch on the exec stream
// between the input and output slot copies, bracketed by events; the
// duration is their GPU time, the end when the checker saw it complete.
// The SM clocks are the monitor's latest readings at launch and at
// completion.
func (m *Model) Exec(gpu int, x runtime.IO, pages []int, start int64) (runtime.ExecTiming, error) {
	d, err := m.rt.device(gpu)
	if err != nil {
		return runtime.ExecTiming{}, err
	}
	blk, err := m.block(gpu, x)
	if err != nil {
		return runtime.ExecTiming{}, err
	}
	// Other pages than the model's would leave a graph set mapped in part,
	// which no later mapping could replace.
	if len(pages) != len(m.pageLens) {
		return runtime.ExecTiming{}, runtime.Errorf(workerapi.ExecWeightsMissing, "Exec given %d pages, model %s needs %d", len(pages), m.path, len(m.pageLens))
	}
	for _, p := range pages {
		if p < 0 || p >= d.pages {
			return runtime.ExecTiming{}, runtime.Errorf(workerapi.ExecWeightsMissing, "Exec: page %d is outside GPU %d's weights cache of %d pages", p, gpu, d.pages)
		}
	}
	if err := d.enter(); err != nil {
		return runtime.ExecTiming{}, runtimeError(d, err)
	}
	before := d.clock.Load()
	var set *graphSet
	err = d.failed()
	if err != nil {
		err = runtimeError(d, err)
	} else {
		set, err = blk.in.launch(blk, pages)
	}
	d.leave()
	if err != nil {
		return runtime.ExecTiming{}, err
	}
	end, dur, err := d.chk.wait(d.exec.w, time.Duration(blk.v.execNs))
	blk.in.done(set)
	if err != nil {
		return runtime.ExecTiming{}, runtimeError(d, err)
	}
	return runtime.ExecTiming{
		Timing:      workerapi.Timing{Begin: uint64(start), End: uint64(end), Duration: dur},
		ClockBefore: before,
		Clock:       d.clock.Load(),
	}, nil
}

// launch queues blk's exec on the exec stage with the graph set that
// serves pages, mapping them into one first if none does (a copy of the
// model whose set was taken), and counts the set in flight until done.
func (in *instance) launch(blk *ioBlock, pages []int) (*graphSet, error) {
	d, v := in.d, blk.v
	in.mu.Lock()
	defer in.mu.Unlock()
	s := in.find(pages)
	if s == nil {
		in.mu.Unlock()
		_, _, err := in.bindServing(pages)
		in.mu.Lock()
		if err != nil {
			return nil, runtimeError(d, fmt.Errorf("Exec: mapping pages %v into a graph set: %w", pages, err))
		}
		if s = in.find(pages); s == nil {
			return nil, runtime.Errorf(workerapi.ExecConcurrentWeightsModification,
				"Exec: the graphs of model %s on GPU %d were taken for other pages while it started", in.m.path, d.id)
		}
	}
	st := &d.exec
	x := v.exec(d.ws, blk.dev, s.execs[v.index], st.start, st.end)
	x.Gate = st.gate
	if err := x.Launch(st.s); err != nil {
		return nil, runtimeError(d, err)
	}
	s.inflight++
	return s, nil
}

// exec is v's exec stage in workspace region r with graph g, its inputs
// and outputs in the IO block at io (none if 0), between events start and
// end.
func (v *variant) exec(r region, io cu.DevicePtr, g cu.GraphExec, start, end cu.Event) cu.Exec {
	x := cu.Exec{Start: start, End: end, Graph: g}
	if io != 0 {
		slot := r.base.Add(v.lay.slot)
		nIn := uint64(v.plan.InputBytes)
		x.In = cu.DeviceCopy{Dst: slot, Src: io, N: nIn}
		x.Out = cu.DeviceCopy{Dst: io.Add(nIn), Src: slot.Add(nIn), N: uint64(v.plan.OutputBytes)}
	}
	return x
}

// CopyOutput implements runtime.Model: the first len(output) bytes of the
// outputs are copied into the pinned host IO pool on the GPU's output
// stream, then into output.
func (m *Model) CopyOutput(gpu int, x runtime.IO, output []byte, start int64) (workerapi.Timing, error) {
	d, err := m.rt.device(gpu)
	if err != nil {
		return workerapi.Timing{}, err
	}
	blk, err := m.block(gpu, x)
	if err != nil {
		return workerapi.Timing{}, err
	}
	n := uint64(len(output))
	p := blk.v.plan
	if n == 0 {
		now := uint64(clock.Now())
		return workerapi.Timing{Begin: uint64(start), End: max(now, uint64(start))}, nil
	}
	if m.info.OutputSize == 0 || n%m.info.OutputSize != 0 || n > uint64(p.OutputBytes) {
		return workerapi.Timing{}, runtime.Errorf(workerapi.ErrRuntimeError, "output buffer of %d bytes for batch size %d (items of %d bytes)",
			n, p.Batch, m.info.OutputSize)
	}
	src := blk.dev.Add(uint64(p.InputBytes))
	return m.copy(d, &d.out, n, nil, func(host *cu.HostMem, hoff uint64) error {
		return cu.MemcpyDtoHAsync(host.Ptr(int(hoff)), src, n, d.out.s)
	}, func(host *cu.HostMem, hoff uint64) error {
		copy(output, host.Bytes()[hoff:hoff+n])
		return nil
	}, workerapi.CopyOutputHostAlloc, start)
}

// Release implements runtime.Model: the IO block goes back to its pool.
func (m *Model) Release(gpu int, x runtime.IO) {
	blk, err := m.block(gpu, x)
	if err != nil {
		return
	}
	blk.live = false
	blk.in.d.ioPool.free(blk.off)
	*blk = ioBlock{}
	m.rt.ios.Put(blk)
}
