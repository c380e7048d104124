package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/clockwork-go/clockwork/internal/cuda/fakecuda"
	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// The -overhead mode measures what the worker's host side adds to each
// Infer, without any of the checks: for each model and batch size, closed
// loop, the distributions of the end-to-end time, of the time inside the
// worker (CopyInput.Begin to CopyOutput.End), of the exec's GPU time, of
// their differences and of each stage. With -fakecuda it runs on a machine
// without a GPU (internal/cuda/fakecuda stands in for the NVIDIA
// libraries), so that host-side changes can be measured anywhere; the GPU
// times are then the fake's model, not real.

// ioModel is a model with ImageNet's input and output sizes (602112 and
// 4000 bytes an item) and next to no compute, written by gpucheck itself:
// a 1×1 convolution of stride 32 to 8 channels, global pooling and a Gemm
// to 1000 classes. It isolates the cost of moving large inputs (and keeps
// fakecuda's CPU compute out of the way).
const ioModel = "imagenet_io"

func writeIOModel(dir string) error {
	b := modelgen.NewBuilder(ioModel, modelgen.Seed(ioModel))
	x := b.Input("input", 3, 224, 224)
	w := b.Normal("conv.weight", 0, 0.5, 8, 3, 1, 1)
	c := b.Node("Conv", []string{x, w}, modelgen.Ints("kernel_shape", 1, 1), modelgen.Ints("strides", 32, 32),
		modelgen.Ints("pads", 0, 0, 0, 0), modelgen.Ints("dilations", 1, 1), modelgen.Int("group", 1))
	g := b.Node("GlobalAveragePool", []string{b.Node("Relu", []string{c})})
	f := b.Node("Flatten", []string{g}, modelgen.Int("axis", 1))
	fw := b.Normal("fc.weight", 0, 0.3, 1000, 8)
	fb := b.Normal("fc.bias", 0, 0.01, 1000)
	b.NodeOut("Gemm", "output", []string{f, fw, fb}, modelgen.Int("transB", 1))
	b.Output("output", 1000)
	data, err := proto.Marshal(b.Model())
	if err != nil {
		return err
	}
	sub := filepath.Join(dir, ioModel)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(sub, "model.onnx"), data, 0o644)
}

// subject is one worker under measurement: the one of -bin ("new") and,
// with -baseline, the one of that directory ("base").
type subject struct {
	name string
	bn   *bench
}

// runOverhead runs the -overhead mode and prints its table.
func runOverhead(o *options) error {
	tmp, err := os.MkdirTemp("", "gpucheck-overhead-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	logDir := tmp // the workers' logs outlive the run only in $OUT
	if out := os.Getenv("OUT"); out != "" {
		logDir = out
	}
	if o.fakeCUDA {
		if err := useFakeCUDA(tmp); err != nil {
			return err
		}
	}
	models := filepath.Join(tmp, "models")
	if err := writeModels(o, models); err != nil {
		return err
	}
	mw := startProbe(o)
	if mw != nil {
		defer mw.stop() // if a worker fails to start
	}
	bins := [][2]string{{"new", o.bin}}
	if o.baseline != "" {
		bins = append([][2]string{{"base", o.baseline}}, bins...)
	}
	var subs []subject
	for _, b := range bins {
		log := filepath.Join(logDir, "worker-"+b[0]+".log")
		bn, stop, err := startBench(o, b[1], log, models)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Printf("overhead: %s worker %s/worker on %s (%s); log %s\n", b[0], b[1], bn.w.addr, bn.w.runtimeName(), log)
		subs = append(subs, subject{b[0], bn})
	}
	form := "raw"
	if o.lz4 {
		form = "LZ4-compressed"
	}
	fmt.Printf("overhead: %d inferences per row and worker, after %d warm-ups and %v, in turns of %d; %s inputs\n",
		o.n, o.warmup, minWarmup, overheadTurn, form)
	var rows []*overheadRow
	for i, name := range o.models {
		rows = append(rows, overheadModel(subs, int32(i), name)...)
	}
	fmt.Print(overheadTable(subs, rows))
	if mw != nil {
		m := mw.stop()
		fmt.Print(overheadStalls(m, rows))
		first := int64(0)
		for _, r := range rows {
			for _, ss := range r.samples {
				if len(ss) > 0 && (first == 0 || ss[0].sent < first) {
					first = ss[0].sent
				}
			}
		}
		if err := m.writeCSV(filepath.Join(logDir, "stalls.csv"), first); err != nil {
			fmt.Printf("stalls.csv: %v\n", err)
		}
	}
	return nil
}

// useFakeCUDA builds fakecuda in tmp and points the workers gpucheck
// starts (they inherit the environment) at it.
func useFakeCUDA(tmp string) error {
	dir := filepath.Join(tmp, "fakecuda")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	if err := fakecuda.Build(dir); err != nil {
		return err
	}
	return os.Setenv(fakecuda.EnvLibDir, dir)
}

// writeModels writes the models of the -overhead mode into dir.
func writeModels(o *options, dir string) error {
	var zoo []string
	for _, m := range o.models {
		if m != ioModel {
			zoo = append(zoo, m)
		}
	}
	if len(zoo) > 0 {
		if err := generate(o, dir, zoo...); err != nil {
			return err
		}
	}
	if slices.Contains(o.models, ioModel) {
		return writeIOModel(dir)
	}
	return nil
}

// overheadTurn is how many inferences a worker runs before the next one
// takes its turn: the workers share the machine's noise.
const overheadTurn = 50

// overheadModel measures one model on every subject, each batch size in
// turns.
func overheadModel(subs []subject, id int32, name string) []*overheadRow {
	o := subs[0].bn.o
	fail := func(err error) []*overheadRow { return []*overheadRow{{model: name, err: err}} }
	var info *workerapi.LoadModelFromDiskResult
	for _, s := range subs {
		var err error
		if info, err = s.bn.loadModel(id, s.bn.path(name), slices.Max(o.batches)); err != nil {
			return fail(fmt.Errorf("%s: LoadModelFromDisk: %w", s.name, err))
		}
		if _, _, err := s.bn.c.do(&workerapi.LoadWeights{ModelID: id, Latest: latest}); err != nil {
			return fail(fmt.Errorf("%s: LoadWeights: %w", s.name, err))
		}
		defer s.bn.evict(id)
	}
	var rows []*overheadRow
	for _, b := range o.batches {
		r := &overheadRow{model: name, batch: b}
		rows = append(rows, r)
		if !slices.Contains(info.BatchSizes, uint32(b)) {
			r.err = fmt.Errorf("batch size %d not supported (have %v)", b, info.BatchSizes)
			continue
		}
		in := inferInput(id, b, info.InputSize, o.lz4)
		samples := make([][]sample, len(subs))
		for i, s := range subs {
			if r.err = s.bn.warm(in); r.err != nil {
				break
			}
			samples[i] = make([]sample, 0, o.n)
		}
		for r.err == nil && len(samples[len(subs)-1]) < o.n {
			for i, s := range subs {
				if samples[i], r.err = s.bn.samples(samples[i], in, min(overheadTurn, o.n-len(samples[i]))); r.err != nil {
					r.err = fmt.Errorf("%s: %w", s.name, r.err)
					break
				}
			}
		}
		r.samples = samples
		for _, m := range overheadMetrics {
			ms := make([]dist, len(subs))
			for i := range subs {
				ds := make([]time.Duration, len(samples[i]))
				for j := range samples[i] {
					ds[j] = time.Duration(m.f(&samples[i][j]))
				}
				ms[i] = summarize(ds)
			}
			r.metrics = append(r.metrics, metric{m.name, ms})
		}
	}
	return rows
}

// warm runs o.warmup inferences, for minWarmup at least.
func (bn *bench) warm(a workerapi.Infer) error {
	t0 := time.Now()
	for i := 0; i < bn.o.warmup || time.Since(t0) < minWarmup; i++ {
		if _, _, err := bn.c.do(&a); err != nil {
			return fmt.Errorf("warm-up inference %d: %w", i, err)
		}
	}
	return nil
}

// samples appends n timed inferences of a to out.
func (bn *bench) samples(out []sample, a workerapi.Infer, n int) ([]sample, error) {
	for i := range n {
		rep, sent, err := bn.c.doStamped(&a)
		if err != nil {
			return out, fmt.Errorf("inference %d: %w", len(out)+i, err)
		}
		r := rep.r.(*workerapi.InferResult)
		rep.release()
		r.Output = nil // released: only the timestamps are kept
		out = append(out, sample{sent: sent, written: rep.written, arrived: rep.at, r: r})
	}
	return out, nil
}
