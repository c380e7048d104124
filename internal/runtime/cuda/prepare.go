package cuda

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Timing runs at Load: warm-ups, then the median of the timed runs.
const (
	warmupRuns = 3
	timedRuns  = 21
	copyRuns   = 3
)

// poolError is a batch size whose IO region or workspace does not fit
// its pool; Load drops that batch size and larger ones, and fails with
// the error's code if it is batch size 1.
type poolError struct {
	code int32
	msg  string
}

func (e *poolError) Error() string { return e.msg }

// prepare builds m on d in the profiling area, under d.loadMu: for each
// plan (ascending batch sizes) it compiles the ops, chooses convolution
// algorithms, runs the op list once, captures it into a graph and, with
// Config.Measure, times it. On GPU 0 it drops batch sizes that do not fit
// the pools or run longer than opts.MaxExec; other GPUs must prepare every
// plan they are given. It returns the instance and, for GPU 0 with
// Measure, the weights transfer time including a rebind of every graph.
func (d *device) prepare(m *Model, plans []*engine.Plan, opts runtime.LoadOptions) (*instance, error) {
	d.loadMu.Lock()
	defer d.loadMu.Unlock()
	if err := d.enter(); err != nil {
		return nil, loadError(m, d, err)
	}
	defer d.leave()
	if err := d.failed(); err != nil {
		return nil, loadError(m, d, err)
	}
	cfg := &m.rt.cfg
	in := &instance{d: d, m: m}
	// The graphs as built read the profiling area; so do the spare sets,
	// which the first LoadWeights into new pages update instead of
	// instantiating graphs of their own.
	for range 1 + spareSets {
		in.sets = append(in.sets, &graphSet{})
	}
	prof := in.sets[0]
	pages := d.profilePages(len(m.pageLens))
	if err := d.copyWeights(d.load, m, pages, min(len(pages), cfg.ProfilePages)); err != nil {
		return nil, loadError(m, d, err)
	}
	if err := d.load.s.Synchronize(); err != nil {
		return nil, loadError(m, d, err)
	}
	for i, p := range plans {
		v, execs, err := d.build(m, p, pages, len(in.sets))
		var pe *poolError
		if errors.As(err, &pe) && d.id == 0 && i > 0 {
			break
		}
		if err != nil {
			in.close()
			if pe != nil {
				return nil, runtime.Errorf(pe.code, "%s on GPU %d: %s", m.path, d.id, pe.msg)
			}
			return nil, loadError(m, d, fmt.Errorf("batch size %d: %w", p.Batch, err))
		}
		v.index = len(in.variants)
		in.variants = append(in.variants, v)
		for k, set := range in.sets {
			set.execs = append(set.execs, execs[k])
		}
		if !cfg.Measure {
			continue
		}
		if v.execNs, err = d.timeExec(v, execs[0]); err != nil {
			in.close()
			return nil, loadError(m, d, fmt.Errorf("timing batch size %d: %w", p.Batch, err))
		}
		if d.id == 0 && p.Batch > 1 && v.execNs > opts.MaxExec {
			in.variants = in.variants[:v.index]
			for _, set := range in.sets {
				set.execs[v.index].Destroy()
				set.execs = set.execs[:v.index]
			}
			v.destroy()
			break
		}
	}
	if d.id == 0 && cfg.Measure {
		copyNs, err := d.timeWeights(m, pages)
		if err != nil {
			in.close()
			return nil, loadError(m, d, fmt.Errorf("timing the weights transfer: %w", err))
		}
		t0 := time.Now()
		d.rebindMu.Lock()
		rebind, err := in.rebind(d.prof, pages, prof)
		d.rebindMu.Unlock()
		wall := time.Since(t0)
		if err != nil {
			in.close()
			return nil, loadError(m, d, fmt.Errorf("rebinding the graphs: %w", err))
		}
		// LoadWeights rebinds while it copies.
		m.info.WeightsLoadTime = max(copyNs, uint64(wall))
		if cfg.Verbose {
			fmt.Fprintf(cfg.Log, "cuda: Load gpu=%d model=%s pages=%d copy_ms=%.3f rebind_ms=%s %s\n",
				d.id, m.path, len(pages), ms(int64(copyNs)), rebindList(in, rebind), in.summary())
		}
	}
	return in, nil
}

func loadError(m *Model, d *device, err error) error {
	return runtime.Errorf(workerapi.ErrInvalidModelPath, "%s on GPU %d: %v", m.path, d.id, d.note(err))
}

// profilePages places n weights pages in the profiling area; pages beyond
// its size share its pages (their contents do not matter for timing).
func (d *device) profilePages(n int) []cu.DevicePtr {
	per := d.profWeights.size / d.pageSize
	out := make([]cu.DevicePtr, n)
	for i := range out {
		out[i] = d.profWeights.base.Add(uint64(i) % per * d.pageSize)
	}
	return out
}

// copyWeights queues the copy of the model's first n weights pages to
// pages on b's stream.
func (d *device) copyWeights(b *builder, m *Model, pages []cu.DevicePtr, n int) error {
	for i := range n {
		if err := cu.MemcpyHtoDAsync(pages[i], m.host.Ptr(i*int(d.pageSize)), m.pageLens[i], b.s); err != nil {
			return err
		}
	}
	return nil
}

// build prepares plan p on d with the weights at pages in the profiling
// area: ops compiled, algorithms chosen, the op list run once, captured
// and instantiated n times (the first one uploaded).
func (d *device) build(m *Model, p *engine.Plan, pages []cu.DevicePtr, n int) (*variant, []cu.GraphExec, error) {
	cfg := &m.rt.cfg
	lay := newLayout(p, d.prof.size)
	if uint64(p.IOBytes) > d.ioPool.size {
		return nil, nil, &poolError{workerapi.CopyInputIOPoolExhausted,
			fmt.Sprintf("batch size %d needs %d bytes of IO memory, the IO pool has %d", p.Batch, p.IOBytes, d.ioPool.size)}
	}
	if lay.conv > d.prof.size {
		return nil, nil, &poolError{workerapi.ExecWorkspacePoolExhausted,
			fmt.Sprintf("batch size %d needs %d bytes of workspace, the workspace pool has %d", p.Batch, lay.conv, d.prof.size)}
	}
	steps, err := compile(p, len(pages), cfg.TF32)
	if err != nil {
		return nil, nil, err
	}
	v := &variant{batch: p.Batch, plan: p, steps: steps}
	b := d.load
	lay.convSize = d.prof.size - lay.conv
	bind := lay.bind(d.prof, pages, d.zeros)
	if err := b.useBLASWorkspace(bind.blas, bind.blasSize); err != nil {
		v.destroy()
		return nil, nil, err
	}
	var need uint64
	for _, s := range steps {
		if c, ok := s.(*convStep); ok {
			if err := c.choose(d, b, &bind, cfg.TF32); err != nil {
				v.destroy()
				return nil, nil, fmt.Errorf("%s op %q: %w", c.op.Kind(), c.op.Source(), err)
			}
			need = max(need, c.choice.ws)
		}
	}
	lay.convSize = alignUp(need, poolAlign)
	v.lay = lay
	bind.convSize = lay.convSize
	run := func() error {
		for _, s := range steps {
			if err := s.enqueue(b, d.k, &bind); err != nil {
				return err
			}
		}
		return nil
	}
	// Once eagerly: every library call is checked and every kernel
	// loaded before the capture.
	if err := errors.Join(run(), b.s.Synchronize()); err != nil {
		v.destroy()
		return nil, nil, err
	}
	g, err := b.capture(run)
	if err != nil {
		v.destroy()
		return nil, nil, err
	}
	defer g.Destroy()
	var execs []cu.GraphExec
	fail := func(err error) (*variant, []cu.GraphExec, error) {
		for _, e := range execs {
			e.Destroy()
		}
		v.destroy()
		return nil, nil, err
	}
	for range n {
		e, err := g.Instantiate(0)
		if err != nil {
			return fail(err)
		}
		execs = append(execs, e)
	}
	if err := errors.Join(execs[0].Upload(b.s), b.s.Synchronize()); err != nil {
		return fail(err)
	}
	return v, execs, nil
}

// timeExec is the median GPU time of v's exec stage in the profiling
// area: input into the slot, graph, output out of it, as Exec runs it.
func (d *device) timeExec(v *variant, exec cu.GraphExec) (uint64, error) {
	in, out := uint64(v.plan.InputBytes), uint64(v.plan.OutputBytes)
	slot := d.prof.base.Add(v.lay.slot)
	var io cu.DevicePtr
	if off, ok := d.ioPool.alloc(uint64(v.plan.IOBytes)); ok {
		defer d.ioPool.free(off)
		io = d.io.Add(off)
	}
	b := d.load
	run := func() error {
		if io != 0 && in > 0 {
			if err := cu.MemcpyDtoDAsync(slot, io, in, b.s); err != nil {
				return err
			}
		}
		if err := exec.Launch(b.s); err != nil {
			return err
		}
		if io != 0 && out > 0 {
			return cu.MemcpyDtoDAsync(io.Add(in), slot.Add(in), out, b.s)
		}
		return nil
	}
	return medianOf(warmupRuns, timedRuns, func() (time.Duration, error) { return b.timed(run) })
}

// timeWeights is the median GPU time of copying the weights from pinned
// memory into pages.
func (d *device) timeWeights(m *Model, pages []cu.DevicePtr) (uint64, error) {
	b := d.load
	return medianOf(1, copyRuns, func() (time.Duration, error) {
		return b.timed(func() error { return d.copyWeights(b, m, pages, len(pages)) })
	})
}

// medianOf runs f warmups+n times and returns the median of the last n
// durations in ns.
func medianOf(warmups, n int, f func() (time.Duration, error)) (uint64, error) {
	ts := make([]time.Duration, 0, n)
	for i := range warmups + n {
		t, err := f()
		if err != nil {
			return 0, err
		}
		if i >= warmups {
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	return uint64(ts[len(ts)/2]), nil
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// rebindList renders per-batch-size rebind times as b1:0.123,b2:0.140.
func rebindList(in *instance, ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, t := range ds {
		parts[i] = fmt.Sprintf("b%d:%.3f", in.variants[i].batch, ms(int64(t)))
	}
	return strings.Join(parts, ",")
}

// summary describes the instance's batch sizes and convolution choices
// for the verbose log.
func (in *instance) summary() string {
	var b strings.Builder
	for _, v := range in.variants {
		fmt.Fprintf(&b, "b%d=%.3fms", v.batch, ms(int64(v.execNs)))
		count := map[string]int{}
		for _, s := range v.steps {
			if c, ok := s.(*convStep); ok {
				count[c.choice.String()]++
			}
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(count)) {
			parts = append(parts, fmt.Sprintf("%s×%d", k, count[k]))
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "[%s]", strings.Join(parts, ","))
		}
		b.WriteByte(' ')
	}
	return strings.TrimSpace(b.String())
}
