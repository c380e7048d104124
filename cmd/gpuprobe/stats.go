//go:build linux && cgo

package main

import (
	"fmt"
	"math"
	"slices"
)

// dist summarises latencies in µs.
type dist struct {
	n                     int
	p50, p99, p999, worst float64
}

// summarize computes nearest-rank percentiles of v.
func summarize(v []float64) dist {
	s := slices.Clone(v)
	slices.Sort(s)
	rank := func(q float64) float64 { return s[max(0, int(math.Ceil(q*float64(len(s))))-1)] }
	return dist{n: len(s), p50: rank(0.5), p99: rank(0.99), p999: rank(0.999), worst: s[len(s)-1]}
}

// tail is p99.9/p50, the predictability figure of spec/runtime.md.
func (d dist) tail() float64 { return d.p999 / d.p50 }

func (d dist) String() string {
	return fmt.Sprintf("%d runs: p50 %.1f µs, p99 %.1f, p99.9 %.1f, max %.1f; p99.9/p50 %.3f",
		d.n, d.p50, d.p99, d.p999, d.worst, d.tail())
}
