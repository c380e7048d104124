// Command check_model loads a model on GPU 0 and prints its sizes and
// measured latencies, as the original's check_model does (the usual way to
// produce a model.measurements file):
//
//	check_model <model_path> [-p|--page_size N] [-i|--iterations N] [--input FILE]
//
// The weights are copied into the cache 10 times to warm up and then
// timed over the iterations (default 100); each batch size is likewise run
// 10 times and then timed. Fewer than 10 iterations also cut the warm-ups
// to that number: on the CPU runtime a large model at the defaults takes
// minutes, and -i 3 gives a usable figure in seconds. With --input, FILE
// holds one input item (exactly the model's input size), copied into every
// batch slot, and the five largest outputs of batch size 1 are printed.
package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"

	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/runtime"
)

const (
	defaultIterations = 100
	defaultWarmups    = 10
)

const usage = "Usage: check_model <model_path> [-p|--page_size N] [-i|--iterations N] [--input FILE]\n"

// errHelp is parseArgs' answer to -h: the usage, and exit status 0.
var errHelp = errors.New("help")

type options struct {
	path       string
	pageSize   uint64
	iterations int
	input      string
}

func main() {
	opts, err := parseArgs(os.Args[1:])
	if errors.Is(err, errHelp) {
		fmt.Print(usage)
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v\n%s", err, usage)
		os.Exit(1)
	}
	if err := check(os.Stdout, opts); err != nil {
		fmt.Fprintln(os.Stderr, "check_model:", err)
		os.Exit(1)
	}
}

func parseArgs(args []string) (options, error) {
	o := options{pageSize: engine.DefaultPageSize, iterations: defaultIterations}
	var paths []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		value := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", a)
			}
			i++
			return args[i], nil
		}
		switch a {
		case "-p", "--page_size", "-i", "--iterations":
			v, err := value()
			if err != nil {
				return o, err
			}
			n, err := strconv.ParseUint(v, 10, 63)
			if err != nil || n == 0 {
				return o, fmt.Errorf("%s: invalid value %q", a, v)
			}
			if a == "-p" || a == "--page_size" {
				o.pageSize = n
			} else {
				o.iterations = int(min(n, math.MaxInt32))
			}
		case "--input":
			v, err := value()
			if err != nil {
				return o, err
			}
			o.input = v
		case "-h", "-help", "--help":
			return o, errHelp
		default:
			if len(a) > 1 && a[0] == '-' {
				return o, fmt.Errorf("Unknown option %s", a)
			}
			paths = append(paths, a)
		}
	}
	if len(paths) != 1 {
		return o, fmt.Errorf("Expecting a model as input")
	}
	o.path = paths[0]
	return o, nil
}

func check(w io.Writer, o options) error {
	rt, err := openRuntime(o.pageSize)
	if err != nil {
		return err
	}
	defer rt.Close()
	m, err := rt.Load(o.path, runtime.LoadOptions{MaxBatch: math.MaxInt32, MaxExec: math.MaxUint64, PageSize: o.pageSize})
	if err != nil {
		return err
	}
	defer m.Close()
	info := m.Info()

	item := make([]byte, info.InputSize)
	if o.input != "" {
		if item, err = os.ReadFile(o.input); err != nil {
			return err
		}
		if uint64(len(item)) != info.InputSize {
			return fmt.Errorf("input file %s has %d bytes, expected %d", o.input, len(item), info.InputSize)
		}
		fmt.Fprintf(w, "Checking %s using provided input %s\n", o.path, o.input)
	} else {
		randomInput(item)
		fmt.Fprintf(w, "Checking %s using random input\n", o.path)
	}
	var workspace uint64
	if r, ok := m.(workspaceReporter); ok {
		workspace = r.WorkspaceSize(1)
	}
	fmt.Fprintf(w, "  input_size:  %d\n", info.InputSize)
	fmt.Fprintf(w, "  output_size: %d\n", info.OutputSize)
	fmt.Fprintf(w, "  workspace:   %d\n", workspace)
	fmt.Fprintf(w, "  weights size paged (non-paged) [num_pages]: %d (%d) [%d]\n",
		uint64(info.NumPages)*o.pageSize, info.WeightsSize, info.NumPages)

	pages := make([]int, info.NumPages)
	for i := range pages {
		pages[i] = i
	}
	warmups := min(defaultWarmups, o.iterations)
	ns, err := mean(warmups, o.iterations, func() (uint64, error) {
		t, err := m.LoadWeights(0, pages, clock.Now())
		return t.Duration, err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  weights transfer latency: %.2f ms\n", ms(ns))
	fmt.Fprintln(w, "  execution latency:")
	for _, b := range info.BatchSizes {
		input := make([]byte, 0, b*len(item))
		for range b {
			input = append(input, item...)
		}
		buf, _, err := m.CopyInput(0, b, b, input, clock.Now())
		if err != nil {
			return err
		}
		ns, err := mean(warmups, o.iterations, func() (uint64, error) {
			t, err := m.Exec(0, buf, pages, clock.Now())
			return t.Duration, err
		})
		if err != nil {
			m.Release(0, buf)
			return err
		}
		fmt.Fprintf(w, "    b%d: %.2f ms\n", b, ms(ns))
		if b == 1 && o.input != "" {
			out := make([]byte, info.OutputSize)
			if _, err := m.CopyOutput(0, buf, out, clock.Now()); err != nil {
				m.Release(0, buf)
				return err
			}
			printTop(w, out, 5)
		}
		m.Release(0, buf)
	}
	return nil
}

// mean runs f warmups times, then returns the mean of the durations it
// reports over n runs.
func mean(warmups, n int, f func() (uint64, error)) (uint64, error) {
	for range warmups {
		if _, err := f(); err != nil {
			return 0, err
		}
	}
	var total uint64
	for range n {
		d, err := f()
		if err != nil {
			return 0, err
		}
		total += d
	}
	return total / uint64(n), nil
}

func ms(ns uint64) float64 { return float64(ns) / 1e6 }

// randomInput fills an input item with float32 values in [-1, 1).
func randomInput(b []byte) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i+4 <= len(b); i += 4 {
		v := math.Float32bits(float32(r.Float64()*2 - 1))
		b[i], b[i+1], b[i+2], b[i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
}

// printTop prints the n largest float32 outputs, largest first.
func printTop(w io.Writer, out []byte, n int) {
	vals := make([]float32, len(out)/4)
	idx := make([]int, len(vals))
	for i := range vals {
		vals[i] = math.Float32frombits(uint32(out[4*i]) | uint32(out[4*i+1])<<8 | uint32(out[4*i+2])<<16 | uint32(out[4*i+3])<<24)
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(vals[b], vals[a]) })
	fmt.Fprintln(w, "Output data topn:")
	for _, i := range idx[:min(n, len(idx))] {
		fmt.Fprintf(w, "output[%d] = %s\n", i, strconv.FormatFloat(float64(vals[i]), 'g', 6, 32))
	}
}
