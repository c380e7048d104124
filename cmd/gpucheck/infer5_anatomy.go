package main

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// infer5Exec is one successful Infer of INFER5's action log.
type infer5Exec struct {
	gpu                [2]int // worker, GPU
	model, batch       int
	expected, actual   float64 // ns
	err                float64 // |expected − actual| / actual (bench.ActionRow.PredictionError)
	end                float64 // when the exec ended, controller clock (ns)
	clockBefore, clock int     // MHz
}

func (e *infer5Exec) start() float64 { return e.end - e.actual }

// execKey is a model at a batch size: what the controller estimates.
type execKey struct{ model, batch int }

// infer5Anatomy says what INFER5's slow execs (over slowFactor × the p50
// of their model and batch size) have in common, and where its largest
// prediction errors come from: report lines, each starting "INFER5 ".
// The execs are sorted by their end. window is how many of a model's last
// execs at a batch size the controller's estimate is taken from.
func infer5Anatomy(execs []infer5Exec, window int) []string {
	if len(execs) == 0 {
		return nil
	}
	slices.SortStableFunc(execs, func(a, b infer5Exec) int { return cmp.Compare(a.end, b.end) })
	base := map[execKey]float64{}
	{
		actual := map[execKey][]float64{}
		for _, e := range execs {
			k := execKey{e.model, e.batch}
			actual[k] = append(actual[k], e.actual)
		}
		for k, v := range actual {
			base[k] = percentile(v, 0.5)
		}
	}
	slow := make([]bool, len(execs))
	for i, e := range execs {
		slow[i] = e.actual > slowFactor*base[execKey{e.model, e.batch}]
	}
	byBatch, byBefore, byGap, byClock := shares{}, shares{}, shares{}, shares{}
	topClock := 0
	for _, e := range execs {
		topClock = max(topClock, e.clockBefore, e.clock)
	}
	last := map[[2]int]int{} // the last exec on each GPU, by index
	for i, e := range execs {
		byBatch.add(fmt.Sprintf("b%d", e.batch), slow[i])
		before, gap := "nothing", "first on its GPU"
		if j, ok := last[e.gpu]; ok {
			p := execs[j]
			same := "other"
			if p.model == e.model {
				same = "same"
			}
			before = fmt.Sprintf("b%d after %s model b%d", e.batch, same, p.batch)
			switch d := e.start() - p.end; {
			case d < 50e3:
				gap = "under 0.05 ms"
			case d < 1e6:
				gap = "0.05-1 ms"
			default:
				gap = "over 1 ms"
			}
		}
		last[e.gpu] = i
		byBefore.add(before, slow[i])
		byGap.add(gap, slow[i])
		clock := fmt.Sprintf("at %d MHz throughout", topClock)
		if e.clockBefore != topClock || e.clock != topClock {
			clock = "below it or changing"
		}
		byClock.add(clock, slow[i])
	}
	lines := []string{
		fmt.Sprintf("INFER5 slow execs (over %.2f × the p50 of their model and batch size): %s", slowFactor, byBatch),
		"INFER5 slow by what ran before on the GPU: " + byBefore.String(),
		"INFER5 slow by the GPU's idle time before: " + byGap.String(),
		fmt.Sprintf("INFER5 slow by SM clock (highest seen %d MHz): %s", topClock, byClock),
	}
	return append(lines, largestErrors(execs, slow, topClock, window))
}

// largestErrors says of the 1 % largest prediction errors how many
// over-predicted with a slow exec of the same model and batch size among
// the last window (which the estimate is taken from), how many
// under-predicted a slow exec itself, and how many of either kind had a
// clock other than topClock read around them or around one of the last
// window (the estimate is measured in ns × MHz and divided by the GPU's
// last clock).
func largestErrors(execs []infer5Exec, slow []bool, topClock, window int) string {
	errs := make([]float64, len(execs))
	for i, e := range execs {
		errs[i] = e.err
	}
	cut := percentile(slices.Clone(errs), 0.99)
	if cut == 0 {
		return "INFER5 the 1 % largest errors: 0 (every prediction exact)"
	}
	type flags struct{ slow, clock bool }
	recent := map[execKey][]flags{} // the last execs of each key
	var n, over, overSlow, under, underSlow, clocked int
	for i, e := range execs {
		k := execKey{e.model, e.batch}
		w := recent[k]
		f := flags{slow[i], e.clockBefore != topClock || e.clock != topClock}
		if errs[i] > cut || errs[i] == cut {
			n++
			if e.expected > e.actual {
				over++
				if slices.ContainsFunc(w, func(f flags) bool { return f.slow }) {
					overSlow++
				}
			} else {
				under++
				if f.slow {
					underSlow++
				}
			}
			if f.clock || slices.ContainsFunc(w, func(f flags) bool { return f.clock }) {
				clocked++
			}
		}
		if w = append(w, f); len(w) > window {
			w = w[1:]
		}
		recent[k] = w
	}
	return fmt.Sprintf("INFER5 the %d largest errors (%.2f %% and over): %d over-predicted, %d of them with a slow exec among the last %d of the same model and batch size; %d under-predicted, %d of them slow execs; %d with a clock below %d MHz read around them or one of the last %d",
		n, 100*cut, over, overSlow, window, under, underSlow, clocked, topClock, window)
}

// shares counts slow execs per class.
type shares map[string]*[2]int // class → slow, all

func (s shares) add(class string, slow bool) {
	c := s[class]
	if c == nil {
		c = new([2]int)
		s[class] = c
	}
	c[1]++
	if slow {
		c[0]++
	}
}

// String lists the classes by name: "class: slow of all (share)".
func (s shares) String() string {
	var parts []string
	for _, class := range slices.Sorted(maps.Keys(s)) {
		c := s[class]
		parts = append(parts, fmt.Sprintf("%s %d of %d (%.1f %%)", class, c[0], c[1], 100*float64(c[0])/float64(c[1])))
	}
	return strings.Join(parts, "; ")
}
