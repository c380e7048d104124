// Command gpucheck checks the CUDA runtime end to end on a GPU host, the
// way a controller uses it: it generates the model zoo, starts the real
// worker on the GPU and drives it over the worker protocol (load, load
// weights, inferences at every batch size, eviction, a reload into other
// pages, inferences again), compares outputs with the CPU runtime and
// across the reload, and times everything. Then it serves a client
// workload through `controller INFER5` and measures how well the
// controller predicts exec times.
//
// It prints one row per model and batch size (exec GPU time and
// end-to-end time percentiles, PyTorch's CUDA-graph figures for the same
// GPU (-profile: the repository's H200 profile, or one measured on the GPU
// by scripts/torch-profile.py), LoadWeights and rebind times) and a PASS or
// FAIL line per target; with $OUT set the report also goes to
// $OUT/gpu-check.txt, next to the processes' logs and samples.csv (every
// timed inference: when it was sent, its stages in the worker, when its
// result arrived). The report ends with an anatomy of the end-to-end
// tails (anatomy.go): which leg of each slow inference grew, and whether
// it met one of the worker's garbage collections (the worker runs with
// GODEBUG=gctrace=1) or a stall of the machine: a stall probe
// (internal/stalls, machine.go) watches the machine alone for 2 s before
// the worker starts and then throughout, and its stalls go to stalls.csv
// beside samples.csv. A failing model or batch size is reported and the
// check goes on. It exits 1 if a target failed.
//
// The binaries it runs (worker, genmodels, controller, client) are taken
// from -bin, by default its own directory. The rebind times come from the
// CUDA runtime's verbose lines (CLOCKWORK_CUDA_VERBOSE, set for the
// worker it starts).
//
// With -overhead it measures only what the worker's host side adds to each
// Infer (overhead.go). With -mix it runs only fixed patterns of Infers of
// two copies of a model (mix.go), to tell what INFER5's slow execs depend
// on. With -netbase it runs no worker: a bare round trip of an Infer's
// bytes over loopback TCP between two processes (netbase.go), the tail
// that loopback itself adds. Every mode runs on a GPU or, with
// -fakecuda, on any machine, where only the outputs and the harness itself
// are checked (the timings are the fake's); -netbase needs neither.
//
// Usage:
//
//	gpucheck [-quick] [-fakecuda] [-bin DIR] [-models resnet18,...] [-batches 1,2,4,8,16]
//	         [-n 1000] [-reload 100] [-infer5 30s] [-infer5-model resnet50]
//	         [-infer5-estimate N:P] [-profile FILE] [-gpu NAME] [-budget 5m30s]
//	         [-netbase-beside] [-lz4]
//	gpucheck -overhead [-fakecuda] [-lz4] [-bin DIR] [-baseline DIR]
//	         [-models mlp,imagenet_io] [-batches 1,16] [-n 2000]
//	gpucheck -mix [-fakecuda] [-bin DIR] [-infer5-model resnet50] [-n 1000]
//	gpucheck -netbase [-batches 1,16] [-n 1000]
//
// -awake, in any mode, keeps every CPU from idling while gpucheck runs
// (awake.go): the experiment that tells whether the tails come from
// virtual CPUs waking late. -worker-flags passes flags to every worker it
// starts, as "--cpus 8-15 --awake". -lz4, in the main mode and with
// -overhead, sends each input as a client sends it and the controller
// forwards it to a worker: image-like values, LZ4-compressed item by item
// (about 95 KB of a ResNet's 602 KB), which the worker decompresses; by
// default inputs are random floats, sent raw.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// fillerModel is loaded into the cache between a model's eviction and its
// reload.
const fillerModel = "tinycnn"

var fullModels = []string{"resnet18", "resnet50", "resnet152", "mobilenet_v2", "vgg16", "densenet121"}

type options struct {
	bin, profile, logDir string
	gpu                  string // the GPU's name, to tell whether the profile is this GPU's
	infer5Model          string
	infer5Estimate       []string // the controller's estimate flags, if any
	infer5Window         int      // the controller's estimate window
	models, cpuModels    []string
	batches              []int
	n, warmup, nReload   int
	infer5, budget       time.Duration
	overhead, mix        bool
	netbase              bool
	netbaseBeside        bool // bare round trips in the background of the timed inferences
	fakeCUDA             bool
	stalls               bool          // run the stall probe (machine.go)
	stallsIdle           time.Duration // how long it watches the machine alone
	lz4                  bool
	baseline             string
	spinReads            time.Duration // dial's
	inflight             int           // Infers kept in the worker at once
	awake                bool          // keep the CPUs from idling (awake.go)
	workerFlags          []string      // more flags for the worker
}

func main() {
	if os.Getenv(netbasePeerEnv) != "" {
		os.Exit(netbasePeer())
	}
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "gpucheck:", err)
		os.Exit(2)
	}
	os.Exit(runMode(o))
}

// runMode runs the mode o asks for; the exit status.
func runMode(o *options) int {
	if o.awake {
		stop, err := startAwake()
		if err != nil {
			fmt.Fprintln(os.Stderr, "gpucheck:", err)
			return 1
		}
		defer stop()
	}
	if o.overhead || o.mix || o.netbase {
		run := runOverhead
		switch {
		case o.mix:
			run = runMix
		case o.netbase:
			run = runNetbase
		}
		if err := run(o); err != nil {
			fmt.Fprintln(os.Stderr, "gpucheck:", err)
			return 1
		}
		return 0
	}
	ok, err := run(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gpucheck:", err)
		return 1
	}
	if !ok {
		return 1
	}
	return 0
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("gpucheck", flag.ContinueOnError)
	exe, _ := os.Executable()
	var (
		quick                             = fs.Bool("quick", false, "a short check: resnet18 and mobilenet_v2, batch sizes 1 and 16, 200 inferences, INFER5 for 10 s")
		bin                               = fs.String("bin", filepath.Dir(exe), "directory of the worker, genmodels, controller and client binaries")
		models                            = fs.String("models", "", "models to check (default "+strings.Join(fullModels, ",")+")")
		cpuModels                         = fs.String("cpu", "", "models whose batch size 1 is compared with the CPU runtime (default: all checked)")
		batches                           = fs.String("batches", "", "batch sizes (default 1,2,4,8,16)")
		n                                 = fs.Int("n", 0, "timed inferences per model and batch size (default 1000)")
		reload                            = fs.Int("reload", 0, "inferences per batch size after the reload (default 100)")
		infer5                            = fs.Duration("infer5", -1, "how long to run INFER5 with the client (0 skips; -quick: 10s)")
		infer5Model                       = fs.String("infer5-model", "resnet50", "the model INFER5 serves (as resnet50_v2, the client's model)")
		infer5Estimate                    = fs.String("infer5-estimate", "", "`N:P`: INFER5 estimates exec times as the percentile P of the last N (controller -estimate-window, -estimate-percentile; default the controller's, 20:0.9; the original's was 10:0.99)")
		profile                           = fs.String("profile", "internal/model/profiles/zoo_profile_h200.json", "the PyTorch profile to compare with (scripts/torch-profile.py measures one on this GPU)")
		gpu                               = fs.String("gpu", "", "the GPU's name, as nvidia-smi gives it: where the profile is another GPU's, exec p50 is not judged against it (default: the worker's first GPU)")
		budget                            = fs.Duration("budget", 0, "stop starting new measurements after this long (default 5m30s)")
		overhead                          = fs.Bool("overhead", false, "measure only the worker's host overhead per Infer (default models mlp,imagenet_io, batch sizes 1,16, 2000 inferences)")
		mix                               = fs.Bool("mix", false, "run only fixed patterns of Infers of two copies of -infer5-model at batch sizes 1 and 2, one at a time and two in flight, to tell what INFER5's slow execs depend on (default 1000 a row)")
		netbase                           = fs.Bool("netbase", false, "run no worker: time a bare round trip of a batch's input and output over loopback TCP between two processes, the tail loopback itself adds (default batch sizes 1,16, 1000 a row)")
		netbaseBeside                     = fs.Bool("netbase-beside", false, "while the timed inferences run, time -netbase's round trips of a batch-size-1 input in the background, one every 2 ms, and report their tail after the targets")
		fakeCUDA                          = fs.Bool("fakecuda", false, "run the worker on fakecuda, the CPU stand-in for the NVIDIA libraries (tests the harness; its timings are the fake's)")
		lz4                               = fs.Bool("lz4", false, "send inputs as clients do and the controller forwards them: image-like values LZ4-compressed item by item (default raw random floats)")
		baseline                          = fs.String("baseline", "", "with -overhead: directory of a second worker binary measured in turns with the first (side by side)")
		inflight                          = fs.Int("inflight", 1, "Infers kept in the worker at once (more than 1: back to back on the GPU; end-to-end times include queueing)")
		spinReads                         = fs.Duration("spin-reads", 0, "poll the worker's socket this long for a result before parking, with 8 or more processors (0: park at once)")
		stallProbe                        = fs.Bool("stalls", true, "watch the machine for stalls (threads pinned to its first and last CPU waking late from 1 ms sleeps) and set them beside the slow inferences")
		stallsIdle                        = fs.Duration("stalls-idle", 2*time.Second, "how long the stall probe watches the machine alone, before the worker starts")
		keepAwake                         = fs.Bool("awake", false, "keep every CPU from idling meanwhile: a SCHED_IDLE thread spins on each (a virtual CPU that halts wakes late)")
		workerFlags                       = fs.String("worker-flags", "", "more flags for the worker, separated by spaces (as \"--cpus 8-15 --awake\")")
		defModels, defBatches, defN, defR = fullModels, []int{1, 2, 4, 8, 16}, 1000, 100
		defInfer5, defBudget              = 30 * time.Second, 330 * time.Second
	)
	fs.Lookup("infer5").DefValue = defInfer5.String() // not the sentinel -1
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if btoi(*overhead)+btoi(*mix)+btoi(*netbase) > 1 {
		return nil, errors.New("-overhead, -mix and -netbase are separate modes: give one")
	}
	if *quick {
		defModels, defBatches, defN, defR = []string{"resnet18", "mobilenet_v2"}, []int{1, 16}, 200, 20
		defInfer5, defBudget = 10*time.Second, 90*time.Second
	}
	if *overhead {
		defModels, defBatches, defN = []string{"mlp", ioModel}, []int{1, 16}, 2000
	}
	if *netbase {
		defBatches = []int{1, 16}
	}
	o := &options{bin: *bin, profile: *profile, gpu: *gpu, n: *n, nReload: *reload, infer5: *infer5, budget: *budget, warmup: 10,
		infer5Model: *infer5Model, overhead: *overhead, mix: *mix, netbase: *netbase, netbaseBeside: *netbaseBeside, fakeCUDA: *fakeCUDA, lz4: *lz4, baseline: *baseline, spinReads: *spinReads,
		inflight: max(1, *inflight), stalls: *stallProbe, stallsIdle: max(0, *stallsIdle), infer5Window: defaultEstimateWindow, awake: *keepAwake, workerFlags: strings.Fields(*workerFlags)}
	if *infer5Estimate != "" {
		n, p, ok := strings.Cut(*infer5Estimate, ":")
		w, err := strconv.Atoi(n)
		if !ok || err != nil || p == "" {
			return nil, fmt.Errorf("-infer5-estimate %q: want N:P, as 100:0.95", *infer5Estimate)
		}
		o.infer5Window = w
		o.infer5Estimate = []string{"-estimate-window", n, "-estimate-percentile", p} // the controller checks them
	}
	o.models = split(*models, defModels)
	o.cpuModels = split(*cpuModels, o.models)
	for _, b := range split(*batches, nil) {
		v, err := strconv.Atoi(b)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("bad batch size %q", b)
		}
		o.batches = append(o.batches, v)
	}
	if len(o.batches) == 0 {
		o.batches = defBatches
	}
	slices.Sort(o.batches)
	if o.n <= 0 {
		o.n = defN
	}
	if o.nReload <= 0 {
		o.nReload = defR
	}
	if o.infer5 < 0 {
		o.infer5 = defInfer5
	}
	if o.budget <= 0 {
		o.budget = defBudget
	}
	return o, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func split(s string, def []string) []string {
	if s == "" {
		return def
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// run does the check and reports whether every target passed.
func run(o *options) (bool, error) {
	start := time.Now()
	tmp, err := os.MkdirTemp("", "gpucheck-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(tmp)
	if o.fakeCUDA {
		if err := useFakeCUDA(tmp); err != nil {
			return false, err
		}
	}
	o.logDir = tmp
	if out := os.Getenv("OUT"); out != "" {
		o.logDir = out
	}
	form := "raw random inputs"
	if o.lz4 {
		form = "image-like inputs, LZ4-compressed"
	}
	fmt.Printf("gpucheck: models %v, batch sizes %v, %d inferences each (+%d warm-up), %d after the reload, %s; logs in %s\n",
		o.models, o.batches, o.n, o.warmup, o.nReload, form, o.logDir)

	models := filepath.Join(tmp, "models")
	if err := generate(o, models, append(slices.Clone(o.models), fillerModel)...); err != nil {
		return false, err
	}
	fmt.Printf("generated the models in %.1f s\n", time.Since(start).Seconds())

	bn := &bench{o: o, models: models, refs: map[string][]byte{}}
	for _, name := range o.cpuModels {
		t0 := time.Now()
		out, err := cpuOutput(bn.path(name), o.lz4)
		if err != nil {
			fmt.Printf("CPU reference of %s: %v\n", name, err)
			continue
		}
		bn.refs[name] = out
		fmt.Printf("CPU reference of %s b1 in %.1f s\n", name, time.Since(t0).Seconds())
	}

	var runs []*modelRun
	var gcs []gcEvent
	var mach *machine
	var firstSent int64 // samples.csv's base
	var beside string   // -netbase-beside's line
	if o.netbaseBeside {
		beside = "netbase beside the worker: not run (the worker did not serve)\n"
	}
	gpuErr := func() error {
		if mw := startProbe(o); mw != nil {
			defer func() { mach = mw.stop() }()
		}
		w, err := startWorker(o.bin, filepath.Join(o.logDir, "worker.log"), o.workerFlags)
		if err != nil {
			return err
		}
		defer w.stop()
		defer func() { gcs = w.gcEvents() }()
		if rt := w.runtimeName(); !strings.HasPrefix(rt, "cuda") {
			return fmt.Errorf("the worker runs on %q, not on a GPU (see worker.log)", rt)
		}
		fmt.Printf("worker on %s: %s\n", w.addr, w.runtimeName())
		if o.gpu == "" {
			o.gpu = gpuName(w.runtimeName())
		}
		c, err := dial(w.addr, o.spinReads)
		if err != nil {
			return err
		}
		defer c.close()
		bn.w, bn.c, bn.start = w, c, time.Now()
		if o.netbaseBeside {
			nb, err := startNetbaseBeside()
			if err != nil {
				beside = fmt.Sprintf("netbase beside the worker: not run (%v)\n", err)
			} else {
				defer func() { beside = nb.finish() }()
			}
		}
		if bn.log, err = openSampleLog(o.logDir); err != nil {
			return err
		}
		defer func() {
			firstSent = bn.log.base
			if err := bn.log.close(); err != nil {
				fmt.Printf("samples.csv: %v\n", err)
			}
		}()
		if err := bn.loadFiller(); err != nil {
			return fmt.Errorf("loading the filler model %s: %w", fillerModel, err)
		}
		for i, name := range o.models {
			fmt.Printf("checking %s\n", name)
			runs = append(runs, bn.runModel(int32(10*i), name))
		}
		return nil
	}()

	if mach != nil {
		if err := mach.writeCSV(filepath.Join(o.logDir, "stalls.csv"), firstSent); err != nil {
			fmt.Printf("stalls.csv: %v\n", err)
		}
	}

	var i5 infer5Result
	if o.infer5 > 0 {
		i5 = runInfer5(o, tmp, models)
	} else {
		i5.skipped = "-infer5 0"
	}

	prof, perr := readProfile(o.profile)
	if perr != nil {
		fmt.Printf("no PyTorch profile: %v\n", perr)
	}
	rep := report(runs, gcs, mach, gpuErr, i5, prof, o)
	rep.text += beside
	fmt.Print(rep.text)
	fmt.Printf("gpucheck took %.1f s\n", time.Since(start).Seconds())
	if out := os.Getenv("OUT"); out != "" {
		if err := os.WriteFile(filepath.Join(out, "gpu-check.txt"), []byte(rep.text), 0o644); err != nil {
			return false, err
		}
	}
	return rep.ok, nil
}

// generate writes the named models into dir with the genmodels binary.
func generate(o *options, dir string, names ...string) error {
	cmd := exec.Command(filepath.Join(o.bin, "genmodels"), "-out", dir, "-only", strings.Join(names, ","))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return errors.Join(fmt.Errorf("genmodels: %w", err), errors.New(strings.TrimSpace(string(out))))
	}
	return nil
}
