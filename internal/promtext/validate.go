package promtext

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// sampleLine is name{labels} value, as a Writer writes it.
var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? (\S+)$`)

// Validate checks text as a scraper would read it: every sample is
// name{labels} value of the family declared last (HELP, then TYPE), no
// family or series appears twice, a histogram has only _bucket, _sum and
// _count samples, and its buckets never fall and end with +Inf, equal to
// its count. Tests of the metrics' owners use it.
func Validate(text string) error {
	if text == "" || !strings.HasSuffix(text, "\n") {
		return fmt.Errorf("empty, or no newline at the end")
	}
	seen := map[string]bool{}
	series := map[string]bool{}
	family, typ := "", ""
	lastBucket, inf := -1.0, -1.0
	for n, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		fail := func(format string, args ...any) error {
			return fmt.Errorf("line %d %q: %s", n+1, l, fmt.Sprintf(format, args...))
		}
		switch {
		case strings.HasPrefix(l, "# HELP "):
			f := strings.Fields(l)
			if len(f) < 3 || seen[f[2]] {
				return fail("a family declared twice, or no name")
			}
			family, typ = f[2], ""
			seen[family] = true
			lastBucket, inf = -1, -1
		case strings.HasPrefix(l, "# TYPE "):
			f := strings.Fields(l)
			if len(f) != 4 || f[2] != family || typ != "" {
				return fail("not the TYPE of %s", family)
			}
			switch typ = f[3]; typ {
			case "counter", "gauge", "histogram":
			default:
				return fail("unknown type")
			}
		default:
			m := sampleLine.FindStringSubmatch(l)
			if m == nil {
				return fail("not a sample")
			}
			v, err := strconv.ParseFloat(m[3], 64)
			if err != nil {
				return fail("value: %v", err)
			}
			if series[m[1]+m[2]] {
				return fail("a series written twice")
			}
			series[m[1]+m[2]] = true
			base, suffix := m[1], ""
			if typ == "histogram" {
				for _, s := range []string{"_bucket", "_sum", "_count"} {
					if strings.HasSuffix(base, s) {
						base, suffix = strings.TrimSuffix(base, s), s
						break
					}
				}
				if suffix == "" {
					return fail("a histogram's sample is _bucket, _sum or _count")
				}
			}
			if base != family || typ == "" {
				return fail("outside its family %s", family)
			}
			if typ == "counter" && v < 0 {
				return fail("a negative counter")
			}
			switch suffix {
			case "_bucket":
				if v < lastBucket {
					return fail("a bucket below the one before (%g)", lastBucket)
				}
				lastBucket = v
				if strings.Contains(m[2], `le="+Inf"`) {
					inf, lastBucket = v, -1
				}
			case "_count":
				if inf < 0 || v != inf {
					return fail("count %g, +Inf bucket %g (-1: none)", v, inf)
				}
				inf = -1
			}
		}
	}
	return nil
}
