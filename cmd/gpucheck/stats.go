package main

import (
	"math"
	"slices"
	"time"
)

// dist summarises latencies in ms.
type dist struct {
	n                   int
	p50, p99, p999, max float64
}

// summarize computes nearest-rank percentiles of ds.
func summarize(ds []time.Duration) dist {
	if len(ds) == 0 {
		return dist{}
	}
	s := make([]float64, len(ds))
	for i, d := range ds {
		s[i] = float64(d) / 1e6
	}
	slices.Sort(s)
	rank := func(q float64) float64 { return s[max(0, int(math.Ceil(q*float64(len(s))))-1)] }
	return dist{n: len(s), p50: rank(0.5), p99: rank(0.99), p999: rank(0.999), max: s[len(s)-1]}
}

// summarizeSamples summarises f (ns) of each of ss, as (*sample).e2e.
func summarizeSamples(ss []sample, f func(*sample) int64) dist {
	ds := make([]time.Duration, len(ss))
	for i := range ss {
		ds[i] = time.Duration(f(&ss[i]))
	}
	return summarize(ds)
}

// tail is p99.9/p50, the predictability figure of spec/runtime.md.
func (d dist) tail() float64 {
	if d.p50 == 0 {
		return math.NaN()
	}
	return d.p999 / d.p50
}

// percentile is the nearest-rank q-quantile of v (v is sorted in place).
func percentile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	return v[max(0, int(math.Ceil(q*float64(len(v))))-1)]
}
