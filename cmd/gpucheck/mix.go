package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// The -mix mode asks what INFER5's slow execs depend on. Under INFER5
// about 1 % of ResNet-50's execs ran 4-10 % longer than the rest, and a
// controller that predicts the p99 of the last ten (the original's
// estimate) carries each into ten predictions (7.4-7.8 % error at p99 on
// the H200 where the target is 5 %), while the
// same model alone, one Infer at a time, has GPU p99.9/p50 1.005. INFER5
// differs in three ways: execs of several copies of the model (other
// weights) follow each other, batch sizes 1 and 2 alternate, and the
// next exec is queued while one runs; and the GPU idles between execs,
// for as long as there is no work (a GPU's clock drops when it idles:
// the H200 reported 345 MHz idle, 1,980 under load). -mix loads two
// copies and runs fixed patterns of Infers, each one at a time and two
// in flight (the idle ones only one at a time), and reports the
// batch-size-1 execs of each against those of one copy alone, with the
// SM clocks the worker read around them.

// mixStep is one Infer of a pattern: which copy, which batch size.
type mixStep struct{ copy, batch int }

type mixPattern struct {
	name  string
	steps []mixStep
	idle  time.Duration // between an Infer's result and the next Infer
}

var mixPatterns = []mixPattern{
	{"one copy: b1", []mixStep{{0, 1}}, 0},
	{"two copies: b1, b1", []mixStep{{0, 1}, {1, 1}}, 0},
	{"one copy: b1, b2", []mixStep{{0, 1}, {0, 2}}, 0},
	{"two copies: b1, b2", []mixStep{{0, 1}, {1, 2}}, 0},
	{"one copy: b1, 2 ms idle", []mixStep{{0, 1}}, 2 * time.Millisecond},
	{"one copy: b1, 20 ms idle", []mixStep{{0, 1}}, 20 * time.Millisecond},
}

// slowFactor marks an exec as slow: this much over the baseline's p50.
const slowFactor = 1.03

// mixRow is one pattern at one depth: the GPU times of its execs by
// batch size.
type mixRow struct {
	pattern  string
	inflight int
	exec     map[int][]time.Duration
	clocks   [2]uint32 // the lowest and highest SM clock read around its execs (MHz)
}

// runMix runs the -mix mode and prints its table.
func runMix(o *options) error {
	tmp, err := os.MkdirTemp("", "gpucheck-mix-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if o.fakeCUDA {
		if err := useFakeCUDA(tmp); err != nil {
			return err
		}
	}
	models := filepath.Join(tmp, "models")
	if err := generate(o, models, o.infer5Model); err != nil {
		return err
	}
	logDir := tmp
	if out := os.Getenv("OUT"); out != "" {
		logDir = out
	}
	bn, stop, err := startBench(o, o.bin, filepath.Join(logDir, "worker-mix.log"), models)
	if err != nil {
		return err
	}
	defer stop()
	if rt := bn.w.runtimeName(); !strings.HasPrefix(rt, "cuda") {
		return fmt.Errorf("the worker runs on %q, not on a GPU (or on fakecuda with -fakecuda)", rt)
	}
	c, path := bn.c, bn.path(o.infer5Model)
	info, _, err := c.do(&workerapi.LoadModelFromDisk{ModelID: 0, Path: path, Latest: latest, Copies: 2,
		MaxBatchSize: 2, MaxExecDuration: latest})
	if err != nil {
		return fmt.Errorf("LoadModelFromDisk: %w", err)
	}
	for id := range int32(2) {
		if _, _, err := c.do(&workerapi.LoadWeights{ModelID: id, Latest: latest}); err != nil {
			return fmt.Errorf("LoadWeights of copy %d: %w", id, err)
		}
	}
	itemSize := info.(*workerapi.LoadModelFromDiskResult).InputSize
	inputs := map[int][]byte{1: input(1, itemSize, false), 2: input(2, itemSize, false)}
	fmt.Printf("mix: %s on %s, two copies; %d execs of batch size 1 a row, after %d warm-ups and %v\n",
		o.infer5Model, bn.w.runtimeName(), o.n, o.warmup, minWarmup)
	// Each row as it is measured: a run cut short still tells something.
	fmt.Print(mixHeader)
	var base map[int]float64
	for _, k := range []int{1, 2} {
		for _, p := range mixPatterns {
			if p.idle > 0 && k > 1 {
				continue
			}
			r, err := bn.mixRow(p, k, inputs)
			if err != nil {
				return fmt.Errorf("%s, %d in flight: %w", p.name, k, err)
			}
			if base == nil {
				base = r.p50s()
			}
			fmt.Print(r.lines(base))
		}
	}
	return nil
}

// mixRow runs pattern p over and over with k Infers in the worker at
// once, and keeps the GPU times after the warm-up until it has o.n of
// batch size 1.
func (bn *bench) mixRow(p mixPattern, k int, inputs map[int][]byte) (mixRow, error) {
	r := mixRow{pattern: p.name, inflight: k, exec: map[int][]time.Duration{}}
	next := 0
	pl := &pipeline{c: bn.c, k: k, infer: func() *workerapi.Infer {
		s := p.steps[next%len(p.steps)]
		next++
		return &workerapi.Infer{ModelID: int32(s.copy), Latest: latest, BatchSize: uint32(s.batch), Input: inputs[s.batch]}
	}}
	defer pl.drain() // the last ones still in the worker
	t0 := time.Now()
	for done, kept := 1, 0; kept < bn.o.n; done++ {
		t, err := pl.next()
		if err != nil {
			return r, err
		}
		t.release()
		time.Sleep(p.idle)
		if done <= bn.o.warmup || time.Since(t0) < minWarmup {
			continue
		}
		batch := int(t.a.BatchSize)
		r.exec[batch] = append(r.exec[batch], time.Duration(t.res.Exec.Duration))
		for _, c := range []uint32{t.res.GPUClockBefore, t.res.GPUClock} {
			if r.clocks[0] == 0 || c < r.clocks[0] {
				r.clocks[0] = c
			}
			r.clocks[1] = max(r.clocks[1], c)
		}
		if batch == 1 {
			kept++
		}
	}
	return r, nil
}

var mixHeader = fmt.Sprintf("\n%-24s %8s %3s | %6s %8s %8s %8s %8s %6s | %s\n", "pattern", "inflight", "b",
	"execs", "p50", "p99", "p99.9", "max", "tail", fmt.Sprintf("slow (> %.2f × base p50); SM clock", slowFactor))

// p50s is the row's GPU-time p50 (ms) by batch size.
func (r mixRow) p50s() map[int]float64 {
	out := map[int]float64{}
	for batch, ds := range r.exec {
		out[batch] = summarize(ds).p50
	}
	return out
}

// lines are the row's table lines, one per batch size: the GPU-time
// distribution and the share of execs slower than slowFactor × base's
// p50 of that batch size (the first row's: one copy, one at a time), or
// the row's own p50 where base has none.
func (r mixRow) lines(base map[int]float64) string {
	var b strings.Builder
	for _, batch := range []int{1, 2} {
		ds := r.exec[batch]
		if len(ds) == 0 {
			continue
		}
		d := summarize(ds)
		ref := base[batch]
		if ref == 0 {
			ref = d.p50
		}
		slow := 0
		for _, x := range ds {
			if float64(x)/1e6 > slowFactor*ref {
				slow++
			}
		}
		fmt.Fprintf(&b, "%-24s %8d %3d | %6d %8.3f %8.3f %8.3f %8.3f %6.3f | %d (%.2f %%) over %.3f ms; %d-%d MHz\n",
			r.pattern, r.inflight, batch, d.n, d.p50, d.p99, d.p999, d.max, d.tail(), slow,
			100*float64(slow)/float64(len(ds)), slowFactor*ref, r.clocks[0], r.clocks[1])
	}
	return b.String()
}
