// Package promtext writes Prometheus's text exposition format (version
// 0.0.4) and serves it at /metrics over HTTP: the metrics of the
// controller and of the workers (the original had none). It is small
// enough that the project needs no Prometheus library: the metrics are
// counters, gauges and fixed-bucket histograms that their owners keep
// themselves and hand to a Writer in a fixed order.
package promtext

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Writer writes metric families to an io.Writer, buffered; Flush writes
// what is left and returns the bytes written and the first error.
type Writer struct {
	w   *bufio.Writer
	n   int64
	err error
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w)} }

func (e *Writer) str(s string) {
	if e.err == nil {
		var n int
		n, e.err = e.w.WriteString(s)
		e.n += int64(n)
	}
}

// helpEscaper escapes what HELP text may not hold as it is.
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

// labelEscaper escapes what a label value may not hold as it is.
var labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

// Family starts the family name of type typ ("counter", "gauge" or
// "histogram"); its samples follow.
func (e *Writer) Family(name, typ, help string) {
	e.str("# HELP " + name + " " + helpEscaper.Replace(help) + "\n# TYPE " + name + " " + typ + "\n")
}

// Sample writes one sample of the family last started; labels are name,
// value pairs.
func (e *Writer) Sample(name string, labels []string, v float64) {
	e.sample(name, labels, "", v)
}

// sample writes name{labels, extra} v; extra is one more label pair
// already formatted (a histogram's le), or "".
func (e *Writer) sample(name string, labels []string, extra string, v float64) {
	e.str(name)
	if len(labels) > 0 || extra != "" {
		e.str("{")
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				e.str(",")
			}
			e.str(labels[i] + `="` + labelEscaper.Replace(labels[i+1]) + `"`)
		}
		if extra != "" {
			if len(labels) > 0 {
				e.str(",")
			}
			e.str(extra)
		}
		e.str("}")
	}
	e.str(" " + strconv.FormatFloat(v, 'f', -1, 64) + "\n")
}

// Histogram writes h's buckets (cumulative, with +Inf), sum and count
// with labels; bounds are the ones h was observed with.
func (e *Writer) Histogram(name string, labels []string, bounds []float64, h *Histogram) {
	var cum uint64
	for i, b := range bounds {
		if h.counts != nil {
			cum += h.counts[i]
		}
		e.sample(name+"_bucket", labels, `le="`+strconv.FormatFloat(b, 'g', -1, 64)+`"`, float64(cum))
	}
	if h.counts != nil {
		cum += h.counts[len(bounds)]
	}
	e.sample(name+"_bucket", labels, `le="+Inf"`, float64(cum))
	e.sample(name+"_sum", labels, "", h.Sum)
	e.sample(name+"_count", labels, "", float64(cum))
}

// Flush writes what is buffered; it returns the bytes written in all and
// the first error.
func (e *Writer) Flush() (int64, error) {
	if e.err == nil {
		e.err = e.w.Flush()
	}
	return e.n, e.err
}

// Histogram counts observations into fixed buckets. Sum is theirs; an
// owner that keeps an exact sum of its own may set it before writing.
type Histogram struct {
	counts []uint64 // per bound, then above the last (not cumulative)
	Sum    float64
}

// Observe counts v into the first bucket whose bound is at least v.
func (h *Histogram) Observe(bounds []float64, v float64) {
	if h.counts == nil {
		h.counts = make([]uint64, len(bounds)+1)
	}
	i, _ := slices.BinarySearch(bounds, v)
	h.counts[i]++
	h.Sum += v
}

// Clone returns a copy of h that shares nothing with it.
func (h *Histogram) Clone() Histogram { return Histogram{counts: slices.Clone(h.counts), Sum: h.Sum} }
