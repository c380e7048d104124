package main

import (
	"flag"
	"fmt"
	"strings"
	"time"
)

// sweep is the Figure 5 experiment (paper §6.1, clockwork-results
// sec61_fig5): one GPU serving `comparison_experiment2` (copies of
// resnet50_v2, each with a closed loop of concurrent requests) with the
// controller's default SLO swept, for each scheduler compared.
type sweep struct {
	slos        durations
	schedulers  names
	models      int
	concurrency int
	// maxBatch is the controller's max_batch. The original's INFER5
	// defaulted to 8, which caps resnet50_v2 at 8/12.4 ms = 643 r/s; 16
	// allows 16/21.7 ms = 736 r/s, so the sweep passes 16 unless told.
	maxBatch int
	warmup   time.Duration
	inputs   bool
}

const fig5MaxBatch = 16

func (s *sweep) register(fs *flag.FlagSet) {
	s.slos = durations{10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
		100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond}
	s.schedulers = names{"INFER5", "BASELINE"}
	fs.Var(&s.slos, "slos", "comma-separated default SLOs to sweep")
	fs.Var(&s.schedulers, "schedulers", "comma-separated controller types to compare (INFER5, INFER4, BASELINE)")
	fs.IntVar(&s.models, "models", 15, "copies of resnet50_v2 (comparison_experiment2's N)")
	fs.IntVar(&s.concurrency, "concurrency", 16, "closed-loop requests per copy")
	fs.IntVar(&s.maxBatch, "max-batch", fig5MaxBatch, "the controller's max_batch (the original INFER5's default is 8, which sim gives a named workload unless this is set)")
	fs.DurationVar(&s.warmup, "warmup", 5*time.Second, "measure from this long after the first response")
	fs.BoolVar(&s.inputs, "inputs", false, "clients send inputs (the paper did; default off: CLOCKWORK_DISABLE_INPUTS=1 keeps loopback traffic low)")
}

func (s *sweep) check() error {
	if len(s.slos) == 0 || len(s.schedulers) == 0 || s.models < 1 || s.concurrency < 1 || s.maxBatch < 1 || s.warmup < 0 {
		return fmt.Errorf("need SLOs, schedulers, -models, -concurrency and -max-batch ≥ 1, -warmup ≥ 0")
	}
	return nil
}

// workloadArgs are comparison_experiment2's arguments.
func (s *sweep) workloadArgs() []string {
	return []string{fmt.Sprint(s.models), fmt.Sprint(s.concurrency)}
}

// runs lists the (SLO, scheduler) pairs in table order.
func (s *sweep) runs() []point {
	var out []point
	for _, slo := range s.slos {
		for _, sc := range s.schedulers {
			out = append(out, point{slo, sc})
		}
	}
	return out
}

type point struct {
	slo       time.Duration
	scheduler string
}

func (p point) String() string { return fmt.Sprintf("%s slo=%v", p.scheduler, p.slo) }

// durations is a comma-separated list flag.
type durations []time.Duration

func (d *durations) String() string {
	parts := make([]string, len(*d))
	for i, v := range *d {
		parts[i] = v.String()
	}
	return strings.Join(parts, ",")
}

func (d *durations) Set(s string) error {
	*d = nil
	for _, f := range strings.Split(s, ",") {
		v, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return fmt.Errorf("%q is not a positive duration", f)
		}
		*d = append(*d, v)
	}
	return nil
}

// names is a comma-separated list of upper-cased names.
type names []string

func (n *names) String() string { return strings.Join(*n, ",") }

func (n *names) Set(s string) error {
	*n = nil
	for _, f := range strings.Split(s, ",") {
		f = strings.ToUpper(strings.TrimSpace(f))
		if f != "INFER5" && f != "INFER4" && f != "BASELINE" {
			return fmt.Errorf("%q is not INFER5, INFER4 or BASELINE", f)
		}
		*n = append(*n, f)
	}
	return nil
}
