//go:build linux && cgo

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

// prepare builds m on d, under d.loadMu: for each plan (ascending batch
// sizes) it compiles the ops, chooses convolution algorithms, runs the op
// list once in the profiling area, captures it and, with Config.Measure,
// times it there. On the first GPU it is prepared on it drops batch sizes
// that do not fit the pools or run longer than opts.MaxExec; other GPUs
// must prepare every plan they are given. Then it captures the serving
// graph sets and, on the first GPU with Measure, times the weights
// transfer and the mapping of pages into a set.
func (d *device) prepare(m *Model, plans []*engine.Plan, opts runtime.LoadOptions, first bool) (*instance, error) {
	d.loadMu.Lock()
	defer d.loadMu.Unlock()
	if err := d.enter(); err != nil {
		return nil, loadError(m, d, err)
	}
	defer d.leave()
	if err := d.failed(); err != nil {
		return nil, loadError(m, d, err)
	}
	// What was chosen is kept even if the Load fails later.
	defer m.rt.saveChoices(d)
	timed, reused := d.choices.timed, d.choices.reused
	cfg := &m.rt.cfg
	in := &instance{d: d, m: m}
	in.idle.L = &in.mu
	pages := d.profilePages(len(m.pageLens))
	if err := d.copyWeights(d.load, m, pages, min(len(pages), cfg.ProfilePages)); err != nil {
		return nil, loadError(m, d, err)
	}
	if err := d.load.s.Synchronize(); err != nil {
		return nil, loadError(m, d, err)
	}
	for i, p := range plans {
		v, g, err := d.build(m, p, pages)
		var pe *poolError
		if errors.As(err, &pe) && first && i > 0 {
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
		if cfg.Measure {
			v.execNs, err = d.timeExec(v, g)
		}
		g.Destroy()
		if err != nil {
			in.close()
			return nil, loadError(m, d, fmt.Errorf("timing batch size %d: %w", p.Batch, err))
		}
		if cfg.Measure && first && p.Batch > 1 && v.execNs > opts.MaxExec {
			in.variants = in.variants[:v.index]
			v.destroy()
			break
		}
		if cfg.ProfileOps && first {
			if err := d.profileOps(cfg.Log, m, v, pages); err != nil {
				fmt.Fprintf(cfg.Log, "cuda: ops gpu=%d model=%s b=%d: profile failed: %v\n", d.id, m.path, v.batch, err)
			}
		}
	}
	t0 := time.Now()
	if err := in.captureSets(); err != nil {
		in.close()
		return nil, loadError(m, d, fmt.Errorf("capturing the serving graphs: %w", err))
	}
	captured := time.Since(t0)
	if first && cfg.Measure {
		copyNs, err := d.timeWeights(m, pages)
		if err != nil {
			in.close()
			return nil, loadError(m, d, fmt.Errorf("timing the weights transfer: %w", err))
		}
		mapNs, err := in.timeRemap()
		if err != nil {
			in.close()
			return nil, loadError(m, d, fmt.Errorf("timing a mapping of the weights: %w", err))
		}
		// LoadWeights maps the pages while it copies.
		m.info.WeightsLoadTime = max(copyNs, mapNs)
		if cfg.Verbose {
			fmt.Fprintf(cfg.Log, "cuda: Load gpu=%d model=%s pages=%d copy_ms=%.3f map_ms=%.3f capture_ms=%.3f choices_timed=%d choices_reused=%d %s\n",
				d.id, m.path, len(pages), ms(int64(copyNs)), ms(int64(mapNs)), ms(int64(captured)),
				d.choices.timed-timed, d.choices.reused-reused, in.summary())
		}
	}
	return in, nil
}

// captureSets makes the instance's loadSets graph sets, unmapped.
func (in *instance) captureSets() error {
	in.d.setsMu.Lock() // the capturers' builders
	defer in.d.setsMu.Unlock()
	for range loadSets {
		s, err := in.newSet()
		if err == nil {
			in.sets = append(in.sets, s)
			err = in.capture(s)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// timeRemap is the host time of mapping the model's pages into a graph
// set, as LoadWeights does (into the first cache pages; mapping reads and
// writes nothing), or 0 if the cache is smaller than the model.
func (in *instance) timeRemap() (uint64, error) {
	n := len(in.m.pageLens)
	if n == 0 || n > in.d.pages {
		return 0, nil
	}
	s := in.sets[0]
	t0 := time.Now()
	if err := in.remap(s, false, firstPages(n)); err != nil {
		return 0, err
	}
	t := time.Since(t0)
	return uint64(t), cu.MemUnmap(s.va, in.weightsSpan())
}

func loadError(m *Model, d *device, err error) error {
	err = d.note(err)
	return runtime.Errorf(d.code(workerapi.ErrInvalidModelPath), "%s on GPU %d: %v", m.path, d.id, err)
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
// area: ops compiled, algorithms chosen, the op list run once and
// captured.
func (d *device) build(m *Model, p *engine.Plan, pages []cu.DevicePtr) (*variant, cu.Graph, error) {
	cfg := &m.rt.cfg
	lay := newLayout(p, d.prof.size)
	if uint64(p.IOBytes) > d.ioPool.size {
		return nil, cu.Graph{}, &poolError{workerapi.CopyInputIOPoolExhausted,
			fmt.Sprintf("batch size %d needs %d bytes of IO memory, the IO pool has %d", p.Batch, p.IOBytes, d.ioPool.size)}
	}
	if lay.conv > d.prof.size {
		return nil, cu.Graph{}, &poolError{workerapi.ExecWorkspacePoolExhausted,
			fmt.Sprintf("batch size %d needs %d bytes of workspace, the workspace pool has %d", p.Batch, lay.conv, d.prof.size)}
	}
	steps, err := compile(p, len(pages), cfg.TF32)
	if err != nil {
		return nil, cu.Graph{}, err
	}
	v := &variant{batch: p.Batch, plan: p, steps: steps}
	b := d.load
	lay.convSize = d.prof.size - lay.conv
	bind := lay.bind(d.prof, pages, d.zeros)
	if err := b.useBLASWorkspace(bind.blas, bind.blasSize); err != nil {
		v.destroy()
		return nil, cu.Graph{}, err
	}
	var need uint64
	for _, s := range steps {
		switch c := s.(type) {
		case *convStep:
			if err := c.choose(d, b, &bind, cfg.TF32); err != nil {
				v.destroy()
				return nil, cu.Graph{}, fmt.Errorf("%s op %q: %w", c.op.Kind(), c.op.Source(), err)
			}
			need = max(need, c.workspace())
		case *gemmStep:
			if err := c.choose(d, b, &bind, cfg.TF32); err != nil {
				v.destroy()
				return nil, cu.Graph{}, fmt.Errorf("%s op %q: %w", c.op.Kind(), c.op.Source(), err)
			}
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
		return nil, cu.Graph{}, err
	}
	g, err := b.capture(run)
	if err != nil {
		v.destroy()
		return nil, cu.Graph{}, err
	}
	return v, g, nil
}

// timeExec is the median GPU time of v's exec stage with graph g in the
// profiling area: input into the slot, graph, output out of it, as Exec
// runs it.
func (d *device) timeExec(v *variant, g cu.Graph) (uint64, error) {
	exec, err := g.Instantiate(0)
	if err != nil {
		return 0, err
	}
	defer exec.Destroy()
	var io cu.DevicePtr
	if off, ok := d.ioPool.alloc(uint64(v.plan.IOBytes)); ok {
		defer d.ioPool.free(off)
		io = d.io.Add(off)
	}
	b := d.load
	x := v.exec(d.prof, io, exec, b.start, b.end)
	var launches []time.Duration
	gpu, err := medianOf(warmupRuns, timedRuns, func() (time.Duration, error) {
		t, launch, err := b.timedExec(&x)
		launches = append(launches, launch)
		return t, err
	})
	if err != nil {
		return 0, err
	}
	slices.Sort(launches)
	v.launchNs = uint64(launches[len(launches)/2])
	return gpu, nil
}

// timeWeights is the median GPU time of copying the weights from pinned
// memory into pages.
func (d *device) timeWeights(m *Model, pages []cu.DevicePtr) (uint64, error) {
	b := d.load
	return medianOf(1, copyRuns, func() (time.Duration, error) {
		return b.timed(false, func() error { return d.copyWeights(b, m, pages, len(pages)) })
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

// shortOfWorkspace says, for the verbose log, how many of v's
// convolutions could not try some of cuDNN's algorithms for want of
// workspace, which, what they needed at most and what was left.
func (v *variant) shortOfWorkspace() string {
	var n int
	var algos []string
	var need, room uint64
	for _, s := range v.steps {
		c, ok := s.(*convStep)
		if !ok || len(c.choice.short) == 0 {
			continue
		}
		if n == 0 || c.choice.room < room {
			room = c.choice.room
		}
		n++
		need = max(need, c.choice.shortNeed)
		for _, a := range c.choice.short {
			if name := a.String(); !slices.Contains(algos, name) {
				algos = append(algos, name)
			}
		}
	}
	if n == 0 {
		return ""
	}
	slices.Sort(algos)
	return fmt.Sprintf("{workspace short for %d convs: %s need up to %.1f MiB, %.1f MiB left}",
		n, strings.Join(algos, ","), float64(need)/(1<<20), float64(room)/(1<<20))
}

// summary describes the instance's batch sizes and convolution and Gemm choices
// for the verbose log.
func (in *instance) summary() string {
	var b strings.Builder
	for _, v := range in.variants {
		fmt.Fprintf(&b, "b%d=%.3fms", v.batch, ms(int64(v.execNs)))
		count := map[string]int{}
		for _, s := range v.steps {
			switch c := s.(type) {
			case *convStep:
				count[c.choice.String()]++
			case *gemmStep:
				count[c.mode.String()]++
			}
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(count)) {
			parts = append(parts, fmt.Sprintf("%s×%d", k, count[k]))
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "[%s]", strings.Join(parts, ","))
		}
		b.WriteString(v.shortOfWorkspace())
		b.WriteByte(' ')
	}
	return strings.TrimSpace(b.String())
}
