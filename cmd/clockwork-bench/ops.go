package main

import (
	"cmp"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/engine/cpuexec"
	"github.com/clockwork-go/clockwork/internal/modelgen"
)

// opsMain prints the CPU engine's time for each op of a model: where a
// model's time goes, and how near its convolutions and products run to
// the CPU's peak.
func opsMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ops", flag.ContinueOnError)
	fs.SetOutput(stderr)
	batch := fs.Int("batch", 1, "batch size")
	rounds := fs.Int("rounds", 20, "runs of the model: each op's best and median time over them")
	threads := fs.Int("threads", 0, "worker threads (0: GOMAXPROCS)")
	top := fs.Int("top", 25, "the slowest ops listed (0: every op, in plan order)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: clockwork-bench ops [flags] MODEL

Runs MODEL on the CPU engine (the CPU worker's) and prints its slowest
ops, each with its place in the plan (#), the ONNX nodes it computes, its
output's shape (after a convolution's kernel/stride, a product's M×N×K),
its best and median time over the rounds, its share of the medians' sum
and, for convolutions and matrix products, its rate in GFLOP/s at the
median (a convolution's multiply-adds counted as the direct sum's, also
where it takes Winograd's fewer); then the time of each kind of op.
MODEL is a zoo model's name (genmodels -list) or the path of an ONNX
file, with or without its .onnx.
The inputs are random. A shared machine's noise shows in the medians more
than in the bests.

`)
		fs.PrintDefaults()
	}
	if code, done := parseOperands(fs, args); done {
		return code
	}
	switch {
	case fs.NArg() != 1:
		fmt.Fprintf(stderr, "ops: one model, not %d\n", fs.NArg())
		return 2
	case *batch < 1 || *rounds < 1 || *threads < 0 || *top < 0:
		fmt.Fprintln(stderr, "ops: -batch and -rounds must be positive, -threads and -top not negative")
		return 2
	}
	m, err := loadModel(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "ops: %v\n", err)
		return 1
	}
	p, err := m.Plan(*batch)
	if err != nil {
		fmt.Fprintf(stderr, "ops: %v\n", err)
		return 1
	}
	e, err := cpuexec.New(p, m.Weights.Pages)
	if err != nil {
		fmt.Fprintf(stderr, "ops: %v\n", err)
		return 1
	}
	w := cpuexec.NewWorkers(*threads)
	defer w.Close()
	mem := cpuexec.Memory{IO: make([]byte, p.IOBytes), Workspace: make([]byte, p.WorkspaceBytes), Pages: m.Weights.Pages}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := int64(0); i+4 <= p.InputBytes; i += 4 {
		binary.LittleEndian.PutUint32(mem.IO[i:], math.Float32bits(2*rng.Float32()-1))
	}
	times, err := e.Profile(w, mem, 1, clock.Now) // a warm-up
	if err == nil {
		times, err = e.Profile(w, mem, *rounds, clock.Now)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ops: %v\n", err)
		return 1
	}
	writeOps(stdout, fs.Arg(0), *batch, w.Size(), *rounds, *top, times)
	return 0
}

// loadModel generates a zoo model by name or reads an ONNX file.
func loadModel(name string) (*engine.Model, error) {
	if slices.Contains(modelgen.Names(), name) {
		mp, err := modelgen.Generate(name)
		if err != nil {
			return nil, err
		}
		return engine.ImportProto(mp, engine.Options{})
	}
	return engine.ReadFile(strings.TrimSuffix(name, ".onnx"), engine.DefaultPageSize)
}

// writeOps prints the profile as markdown tables: the top slowest ops (or
// every op in plan order), then the time of each kind.
func writeOps(w io.Writer, model string, batch, threads, rounds, top int, times []cpuexec.OpTime) {
	var medians, bests float64
	for _, t := range times {
		medians += t.Median.Seconds()
		bests += t.Best.Seconds()
	}
	ms := func(s float64) string { return fmt.Sprintf("%.3f", s*1e3) }
	share := func(s float64) string { return fmt.Sprintf("%.1f %%", 100*s/max(medians, 1e-12)) }
	plural := func(n int, what string) string {
		if n == 1 {
			return "1 " + what
		}
		return fmt.Sprintf("%d %ss", n, what)
	}
	fmt.Fprintf(w, "%s at batch size %d on %s (%s kernels), %s: %s, %s ms the medians' sum, %s ms the bests'\n\n",
		model, batch, plural(threads, "thread"), cpuexec.Kernels(), plural(rounds, "round"), plural(len(times), "op"), ms(medians), ms(bests))

	order := make([]int, len(times))
	for i := range order {
		order[i] = i
	}
	if top > 0 {
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(times[b].Median, times[a].Median) })
		order = order[:min(top, len(order))]
	}
	fmt.Fprintln(w, "| # | kind | nodes | shape | median ms | best ms | share | GFLOP/s |")
	fmt.Fprintln(w, "|--:|---|---|---|--:|--:|--:|--:|")
	var listed float64
	for _, i := range order {
		t := times[i]
		listed += t.Median.Seconds()
		rate := ""
		if f := engine.Flops(t.Op); f > 0 && t.Median > 0 {
			rate = fmt.Sprintf("%.1f", f/t.Median.Seconds()/1e9)
		}
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s | %s | %s | %s |\n", i+1, t.Op.Kind(), cell(t.Op.Source()), shape(t.Op),
			ms(t.Median.Seconds()), ms(t.Best.Seconds()), share(t.Median.Seconds()), rate)
	}
	if rest := len(times) - len(order); rest > 0 {
		fmt.Fprintf(w, "\n%d more ops: %s ms, %s\n", rest, ms(medians-listed), share(medians-listed))
	}

	type kindTime struct {
		kind    engine.OpKind
		ops     int
		seconds float64
		flops   float64
	}
	var kinds []kindTime
	for _, t := range times {
		i := slices.IndexFunc(kinds, func(k kindTime) bool { return k.kind == t.Op.Kind() })
		if i < 0 {
			i = len(kinds)
			kinds = append(kinds, kindTime{kind: t.Op.Kind()})
		}
		kinds[i].ops++
		kinds[i].seconds += t.Median.Seconds()
		kinds[i].flops += engine.Flops(t.Op)
	}
	slices.SortStableFunc(kinds, func(a, b kindTime) int { return cmp.Compare(b.seconds, a.seconds) })
	fmt.Fprintln(w, "\n| kind | ops | median ms | share | GFLOP/s |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|")
	for _, k := range kinds {
		rate := ""
		if k.flops > 0 && k.seconds > 0 {
			rate = fmt.Sprintf("%.1f", k.flops/k.seconds/1e9)
		}
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s |\n", k.kind, k.ops, ms(k.seconds), share(k.seconds), rate)
	}
}

// shape is what an op computes: its output's shape, and a convolution's
// kernel and stride (3×3/2) or a product's M×N×K before it.
func shape(op engine.Op) string {
	y := strings.Trim(fmt.Sprint(op.Writes().Shape), "[]")
	switch o := op.(type) {
	case *engine.Conv:
		return fmt.Sprintf("%d×%d/%d → %s", o.KernelH, o.KernelW, o.StrideH, y)
	case *engine.Gemm:
		return fmt.Sprintf("%d×%d×%d → %s", o.M, o.N, o.K, y)
	case *engine.BatchMatMul:
		return fmt.Sprintf("%d of %d×%d×%d → %s", o.Batch, o.M, o.N, o.K, y)
	}
	return y
}

// cell makes s safe in a markdown table's cell.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(s, "|", `\|`)
}
