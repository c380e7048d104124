package main

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/clockwork-go/clockwork/internal/engine/reference"
	"math"
	"path/filepath"
	"runtime/metrics"
	"slices"
	"time"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// fillerID is the model id of the small model loaded between a model's
// eviction and its reload, so that the reload gets other pages.
const fillerID = 1000

// bench drives one worker through the check of each model.
type bench struct {
	o      *options
	w      *workerProc
	c      *client
	models string            // directory of the generated models
	refs   map[string][]byte // CPU outputs of batch size 1, by model
	start  time.Time
	log    *sampleLog // every timed inference (nil: none kept)
}

// modelRun is what the check measured of one model.
type modelRun struct {
	name, path string
	err        error // the model could not be checked at all
	info       *workerapi.LoadModelFromDiskResult
	load       [2]loadResult // first load, reload into other pages
	rows       []*row
	cpuErr     float64 // relative error of b1 against the CPU (NaN: not checked)
}

// loadResult is one LoadWeights: its reported timing and the runtime's
// console line about it.
type loadResult struct {
	err    error
	timing workerapi.Timing
	line   loadLine
	logged bool
}

// row is one model and batch size.
type row struct {
	batch      int
	err        error
	exec, e2e  dist
	worker     dist          // from the start of copy-input to the end of copy-output
	copyIn     dist          // the copy-input stage
	samples    []sample      // the timed inferences' stamps
	clocks     [2]uint32     // lowest and highest SM clock (MHz) seen
	steal      time.Duration // the machine's steal time while the row ran
	stealOK    bool          // whether /proc/stat counts it
	warmups    int
	first      []byte // output of the first inference
	changed    int    // later outputs that differ from the first
	reloadErr  error  // the inferences after the reload
	reloadSame bool   // their outputs equal the first
	reloaded   bool
}

// startBench starts bin's worker with its console in logPath, connects to
// it and returns a bench on it, with models in models; stop closes the
// connection and stops the worker.
func startBench(o *options, bin, logPath, models string) (bn *bench, stop func(), err error) {
	w, err := startWorker(bin, logPath, o.workerFlags)
	if err != nil {
		return nil, nil, err
	}
	c, err := dial(w.addr, o.spinReads)
	if err != nil {
		w.stop()
		return nil, nil, err
	}
	return &bench{o: o, w: w, c: c, models: models, start: time.Now()}, func() { c.close(); w.stop() }, nil
}

func (bn *bench) path(name string) string { return filepath.Join(bn.models, name, "model") }

// window is "run as soon as possible".
const latest = math.MaxUint64

func (bn *bench) loadModel(id int32, path string, maxBatch int) (*workerapi.LoadModelFromDiskResult, error) {
	r, _, err := bn.c.do(&workerapi.LoadModelFromDisk{ModelID: id, Path: path, Latest: latest, Copies: 1,
		MaxBatchSize: uint32(maxBatch), MaxExecDuration: math.MaxUint64})
	if err != nil {
		return nil, err
	}
	return r.(*workerapi.LoadModelFromDiskResult), nil
}

func (bn *bench) loadWeights(id int32, path string) loadResult {
	n := bn.w.loadCount(path)
	r, _, err := bn.c.do(&workerapi.LoadWeights{ModelID: id, Latest: latest})
	if err != nil {
		return loadResult{err: err}
	}
	lr := loadResult{timing: r.(*workerapi.LoadWeightsResult).Timing}
	lr.line, lr.logged = bn.w.waitLoad(path, n)
	return lr
}

func (bn *bench) evict(id int32) error {
	_, _, err := bn.c.do(&workerapi.EvictWeights{ModelID: id, Latest: latest})
	return err
}

// timed is an Infer's result, the Infer, and gpucheck's clock.Now stamps:
// sent, written whole (0 if not known) and the result's arrival. The
// result's Output is valid until release is called.
type timed struct {
	res                    *workerapi.InferResult
	a                      *workerapi.Infer
	sent, written, arrived int64
	release                func()
}

// infer runs one Infer, a copy of a (its input shared).
func (bn *bench) infer(a workerapi.Infer) (timed, error) {
	rep, sent, err := bn.c.doStamped(&a)
	if err != nil {
		return timed{}, err
	}
	return timed{rep.r.(*workerapi.InferResult), &a, sent, rep.written, rep.at, rep.release}, nil
}

// loadFiller loads the filler model from disk.
func (bn *bench) loadFiller() error {
	_, err := bn.loadModel(fillerID, bn.path(fillerModel), 1)
	return err
}

// runModel checks one model: load, LoadWeights, n inferences per batch
// size, eviction, the filler into the cache, a reload (into other pages),
// and inferences whose outputs must equal those before the reload.
func (bn *bench) runModel(id int32, name string) *modelRun {
	o := bn.o
	mr := &modelRun{name: name, path: bn.path(name), cpuErr: math.NaN()}
	info, err := bn.loadModel(id, mr.path, slices.Max(o.batches))
	if err != nil {
		mr.err = fmt.Errorf("LoadModelFromDisk: %w", err)
		return mr
	}
	mr.info = info
	fmt.Printf("  %s loaded in %.1f s: batch sizes %v, exec %s, weights %.2f ms\n", name,
		float64(info.Timing.Duration)/1e9, info.BatchSizes, msList(info.ExecTimes), float64(info.WeightsLoadTime)/1e6)
	if mr.load[0] = bn.loadWeights(id, mr.path); mr.load[0].err != nil {
		mr.err = fmt.Errorf("LoadWeights: %w", mr.load[0].err)
		return mr
	}
	for _, b := range o.batches {
		r := &row{batch: b}
		mr.rows = append(mr.rows, r)
		if !slices.Contains(info.BatchSizes, uint32(b)) {
			r.err = fmt.Errorf("batch size %d not supported (have %v)", b, info.BatchSizes)
			continue
		}
		if bn.overBudget() {
			r.err = errors.New("skipped: out of time")
			continue
		}
		r.err = bn.measure(id, name, r, info.InputSize)
	}
	if ref, ok := bn.refs[name]; ok && len(mr.rows) > 0 && mr.rows[0].batch == 1 && mr.rows[0].first != nil {
		mr.cpuErr = reference.RelErr(mr.rows[0].first, ref)
	}
	// Evict, put the filler in the cache, reload: other pages.
	if err := bn.evict(id); err != nil {
		mr.load[1].err = fmt.Errorf("EvictWeights: %w", err)
		return mr
	}
	filler := bn.loadWeights(fillerID, bn.path(fillerModel))
	mr.load[1] = bn.loadWeights(id, mr.path)
	if filler.err == nil {
		bn.evict(fillerID)
	}
	if mr.load[1].err != nil {
		return mr
	}
	for _, r := range mr.rows {
		if r.first == nil || bn.overBudget() {
			continue
		}
		r.reloaded = true
		r.reloadSame, r.reloadErr = bn.again(id, r, info.InputSize)
	}
	bn.evict(id)
	return mr
}

// minWarmup is the least time spent warming up a batch size: the GPU's
// clock ramps up under load.
const minWarmup = 300 * time.Millisecond

// measure runs warm-ups (o.warmup inferences and minWarmup at least),
// then o.n timed inferences of batch size r.batch of model name.
//
// With -inflight k > 1, k inferences are kept in the worker at once, so
// that the GPU runs them back to back; their end-to-end times then
// include the wait behind the others.
func (bn *bench) measure(id int32, name string, r *row, itemSize uint64) error {
	in := inferInput(id, r.batch, itemSize, bn.o.lz4)
	r.clocks = [2]uint32{math.MaxUint32, 0}
	next := func() (timed, error) { return bn.infer(in) }
	if k := bn.o.inflight; k > 1 {
		p := &pipeline{c: bn.c, k: k,
			infer: func() *workerapi.Infer {
				a := in
				return &a
			}}
		defer p.drain()
		next = p.next
	}
	t0 := time.Now()
	steal0, ok := stealTime()
	defer func() {
		if steal1, ok1 := stealTime(); ok && ok1 {
			r.steal, r.stealOK = steal1-steal0, true
		}
	}()
	// The harness's own garbage collections, counted around each
	// inference (one at a time; with -inflight the anatomy is not made).
	gc := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	cycles := func() uint64 {
		metrics.Read(gc)
		return gc[0].Value.Uint64()
	}
	for i := 0; len(r.samples) < bn.o.n; i++ {
		before := cycles()
		t, err := next()
		harnessGC := cycles() != before
		if err != nil {
			return fmt.Errorf("inference %d: %w", i, err)
		}
		res := t.res
		if r.first == nil {
			r.first = bytes.Clone(res.Output)
		} else if !bytes.Equal(res.Output, r.first) {
			r.changed++
		}
		t.release()
		if i < bn.o.warmup || time.Since(t0) < minWarmup {
			r.warmups++
			continue
		}
		res.Output = nil // released
		r.samples = append(r.samples, sample{sent: t.sent, written: t.written, arrived: t.arrived, r: res, harnessGC: harnessGC})
		bn.log.add(name, r.batch, len(r.samples)-1, &r.samples[len(r.samples)-1])
		for _, c := range []uint32{res.GPUClockBefore, res.GPUClock} {
			r.clocks[0], r.clocks[1] = min(r.clocks[0], c), max(r.clocks[1], c)
		}
	}
	var exec, e2e, worker, copyIn []time.Duration
	for i := range r.samples {
		s := &r.samples[i]
		exec = append(exec, time.Duration(s.r.Exec.Duration))
		e2e = append(e2e, time.Duration(s.e2e()))
		worker = append(worker, time.Duration(s.r.CopyOutput.End-s.r.CopyInput.Begin))
		copyIn = append(copyIn, time.Duration(s.r.CopyInput.End-s.r.CopyInput.Begin))
	}
	r.exec, r.e2e, r.worker, r.copyIn = summarize(exec), summarize(e2e), summarize(worker), summarize(copyIn)
	return nil
}

// again runs o.nReload inferences and reports whether every output equals
// the first one before the reload.
func (bn *bench) again(id int32, r *row, itemSize uint64) (bool, error) {
	in := inferInput(id, r.batch, itemSize, bn.o.lz4)
	same := true
	for i := range bn.o.nReload {
		t, err := bn.infer(in)
		if err != nil {
			return false, fmt.Errorf("inference %d after the reload: %w", i, err)
		}
		same = same && bytes.Equal(t.res.Output, r.first)
		t.release()
	}
	return same, nil
}

func (bn *bench) overBudget() bool { return time.Since(bn.start) > bn.o.budget }

func msList(ns []uint64) string {
	var b bytes.Buffer
	for i, v := range ns {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.2f", float64(v)/1e6)
	}
	return "[" + b.String() + "] ms"
}

// pipeline keeps k Infers in the worker (-inflight, -mix): next tops them
// up, then returns the next result to arrive, as infer does, with the
// Infer it answers.
type pipeline struct {
	c     *client
	k     int
	infer func() *workerapi.Infer // a new Infer
	out   map[int32]outstanding   // by id
}

type outstanding struct {
	sent int64
	a    *workerapi.Infer
}

// send sends a new Infer.
func (p *pipeline) send() error {
	a := p.infer()
	id, sent, err := p.c.send(a)
	if err != nil {
		return err
	}
	if p.out == nil {
		p.out = map[int32]outstanding{}
	}
	p.out[id] = outstanding{sent, a}
	return nil
}

func (p *pipeline) next() (timed, error) {
	for len(p.out) < p.k {
		if err := p.send(); err != nil {
			return timed{}, err
		}
	}
	rep, err := p.c.await(actionTimeout, "Infer", func(id int32) bool { _, ok := p.out[id]; return ok })
	var o outstanding
	var written int64
	if rep.r != nil { // answered, if with an error
		id := rep.r.ActionID()
		o, written = p.out[id], p.c.takeWritten(id)
		delete(p.out, id)
	}
	if err != nil {
		return timed{}, err
	}
	r, ok := rep.r.(*workerapi.InferResult)
	if !ok {
		rep.release()
		return timed{}, fmt.Errorf("unexpected %T for action %d", rep.r, rep.r.ActionID())
	}
	return timed{r, o.a, o.sent, written, rep.at, rep.release}, nil
}

// drain reads the results still outstanding.
func (p *pipeline) drain() {
	for len(p.out) > 0 {
		rep, err := p.c.receive(actionTimeout, "Infer")
		if err != nil {
			return
		}
		delete(p.out, rep.r.ActionID())
		p.c.takeWritten(rep.r.ActionID())
		rep.release()
	}
}
