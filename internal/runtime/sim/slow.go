package sim

import (
	"fmt"
	"strconv"
	"strings"
)

// SlowExecs describes execs that run longer than profiled. The simulated
// GPUs are otherwise exact, where a real GPU is not: on the H200, about
// 1 % of the execs under INFER5 ran 4–10 % longer than the rest
// (docs/results). The controller's estimates react to such execs, which
// is what this lets the simulator study.
type SlowExecs struct {
	Share    float64 // of the execs, in [0, 1]
	Min, Max float64 // each slow one runs longer by a uniform fraction of its profiled time in [Min, Max]
}

// ParseSlowExecs reads "SHARE:MIN-MAX", each a fraction or a percentage:
// "1%:4%-10%" and "0.01:0.04-0.1" are the same. "0" is none.
func ParseSlowExecs(s string) (SlowExecs, error) {
	if s == "0" || s == "" {
		return SlowExecs{}, nil
	}
	bad := func(why string) error {
		return fmt.Errorf("slow execs %q: %s (want SHARE:MIN-MAX, as 1%%:4%%-10%%)", s, why)
	}
	share, span, ok := strings.Cut(s, ":")
	if !ok {
		return SlowExecs{}, bad("no colon")
	}
	lo, hi, ok := strings.Cut(span, "-")
	if !ok {
		return SlowExecs{}, bad("no range")
	}
	var v [3]float64
	for i, f := range []string{share, lo, hi} {
		scale := 1.0
		if t, pct := strings.CutSuffix(f, "%"); pct {
			f, scale = t, 0.01
		}
		x, err := strconv.ParseFloat(f, 64)
		if err != nil || x != x || x < 0 {
			return SlowExecs{}, bad(fmt.Sprintf("%q is not a non-negative number", f))
		}
		v[i] = x * scale
	}
	out := SlowExecs{Share: v[0], Min: v[1], Max: v[2]}
	switch {
	case out.Share > 1:
		return SlowExecs{}, bad("share above 100%")
	case out.Min > out.Max:
		return SlowExecs{}, bad("MIN above MAX")
	case out.Max > 100:
		return SlowExecs{}, bad("MAX above 100 times the profile")
	}
	return out, nil
}

// String is the form ParseSlowExecs reads.
func (s SlowExecs) String() string {
	if s.Share == 0 {
		return "0"
	}
	return fmt.Sprintf("%g%%:%g%%-%g%%", 100*s.Share, 100*s.Min, 100*s.Max)
}
