package main

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// legs names the intervals between consecutive stamps of a sample
// (sample.stamps).
var legs = [...]string{"send → worker", "→ copy-input", "copy-input", "→ exec", "exec", "→ copy-output",
	"copy-output", "→ result sent", "→ caller"}

// gcEvent is one garbage collection of the worker on the same clock: its
// start and its wall-clock length (GODEBUG=gctrace=1).
type gcEvent struct{ at, dur int64 }

// gcRE matches a gctrace line: "gc 7 @9.123s 1%: 0.020+1.2+0.015 ms clock, …".
var gcRE = regexp.MustCompile(`^gc \d+ @([\d.]+)s \d+%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock`)

// parseGC reads a gctrace line of a process whose runtime started at
// start (ns).
func parseGC(line string, start int64) (gcEvent, bool) {
	m := gcRE.FindStringSubmatch(line)
	if m == nil {
		return gcEvent{}, false
	}
	at, _ := strconv.ParseFloat(m[1], 64)
	var ms float64
	for _, f := range m[2:] {
		v, _ := strconv.ParseFloat(f, 64)
		ms += v
	}
	return gcEvent{at: start + int64(at*1e9), dur: int64(ms * 1e6)}, true
}

// gcMargin widens a collection when it is matched against inferences:
// the worker's start, which its gctrace times count from, is known to
// about a millisecond.
const gcMargin int64 = 2e6

// anatomy tells where the slow inferences' time went: every timed
// inference slower than maxE2ETail × its row's end-to-end p50 is charged
// to the leg that grew most against that leg's median in the row. It also
// says whether the slow ones met the worker's garbage collections, and
// whether they came alone or in bursts, and shows the slowest. With m (nil:
// no stall probe ran) it also says which met a stall of the machine.
func anatomy(runs []*modelRun, gcs []gcEvent, m *machine) string {
	type slow struct {
		row      string
		i        int
		s        *sample
		med      [len(legs)]int64
		medWrite int64 // the row's median write (sent to written), -1 if none is known
		ratio    float64
	}
	var slows []slow
	var total, harness int
	var spans [][2]int64 // each row's timed span
	var all []*sample
	for _, mr := range runs {
		for _, r := range mr.rows {
			if len(r.samples) == 0 {
				continue
			}
			total += len(r.samples)
			harness += countFunc(r.samples, func(s sample) bool { return s.harnessGC })
			spans = append(spans, [2]int64{r.samples[0].sent, r.samples[len(r.samples)-1].arrived})
			var med [len(legs)]int64
			for l := range legs {
				med[l] = median(r.samples, func(s *sample) int64 { return s.leg(l) })
			}
			medWrite := int64(-1)
			if w := slices.DeleteFunc(slices.Clone(r.samples), func(s sample) bool { return s.written == 0 }); len(w) > 0 {
				medWrite = median(w, (*sample).write)
			}
			p50 := median(r.samples, (*sample).e2e)
			for i := range r.samples {
				s := &r.samples[i]
				all = append(all, s)
				if float64(s.e2e()) > maxE2ETail*float64(p50) {
					slows = append(slows, slow{fmt.Sprintf("%s b%d", mr.name, r.batch), i, s, med, medWrite, float64(s.e2e()) / float64(p50)})
				}
			}
		}
	}
	if total == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nEnd-to-end tails: %d of %d timed inferences took more than %.2f × their row's p50.\n", len(slows), total, maxE2ETail)
	if len(slows) > 0 {
		var count [len(legs)]int
		var excess, worst [len(legs)]int64
		inWrite, unwritten := 0, 0 // of those charged to the first leg
		for _, x := range slows {
			main, grew := 0, int64(0)
			for l := range legs {
				if d := x.s.leg(l) - x.med[l]; d > grew {
					main, grew = l, d
				}
			}
			count[main]++
			excess[main] += grew
			worst[main] = max(worst[main], grew)
			switch {
			case main != 0:
			case x.s.written == 0 || x.medWrite < 0:
				unwritten++
			case 2*(x.s.write()-x.medWrite) > grew:
				inWrite++
			}
		}
		b.WriteString("  the leg that grew most, against its row's median: slow inferences, total and largest growth\n")
		for l, name := range legs {
			if count[l] > 0 {
				fmt.Fprintf(&b, "    %-18s %5d  %8.2f ms  %7.3f ms\n", name, count[l], float64(excess[l])/1e6, float64(worst[l])/1e6)
			}
		}
		if count[0] > 0 {
			fmt.Fprintf(&b, "  of the %d charged to %s, gpucheck's write (until the socket took the whole action) grew by more than half as much in %d",
				count[0], legs[0], inWrite)
			if unwritten > 0 {
				fmt.Fprintf(&b, "; %d have no write stamp", unwritten)
			}
			b.WriteString("\n")
		}
		slices.SortFunc(slows, func(a, b slow) int { return cmp.Compare(a.s.sent, b.s.sent) })
		bursts := 1
		for i := 1; i < len(slows); i++ {
			if slows[i].s.sent-slows[i-1].s.arrived > burstGap {
				bursts++
			}
		}
		plural := "s"
		if bursts == 1 {
			plural = ""
		}
		fmt.Fprintf(&b, "  they came in %d burst%s (apart by more than %d ms)\n", bursts, plural, burstGap/1e6)
	}
	during, met := 0, 0
	for _, g := range gcs {
		lo, hi := g.at-gcMargin, g.at+g.dur+gcMargin
		if slices.ContainsFunc(spans, func(sp [2]int64) bool { return lo < sp[1] && sp[0] < hi }) {
			during++
		}
		met += countFunc(slows, func(x slow) bool { return lo < x.s.arrived && x.s.sent < hi })
	}
	fmt.Fprintf(&b, "  worker garbage collections: %d, %d of them while inferences were timed; slow inferences that met one: %d\n",
		len(gcs), during, met)
	fmt.Fprintf(&b, "  gpucheck's own garbage collections during an inference: %d, of them during a slow one: %d\n",
		harness, countFunc(slows, func(x slow) bool { return x.s.harnessGC }))
	if m != nil {
		slow := make([]*sample, len(slows))
		for i, x := range slows {
			slow[i] = x.s
		}
		m.report(&b, spans, slow, all)
	}
	slices.SortFunc(slows, func(a, b slow) int { return cmp.Compare(b.ratio, a.ratio) })
	if len(slows) > 0 {
		fmt.Fprintf(&b, "  the slowest against their p50, legs in ms (%s), row medians in brackets:\n", strings.Join(legs[:], ", "))
	}
	for _, x := range slows[:min(len(slows), 5)] {
		parts := make([]string, len(legs))
		for l := range legs {
			parts[l] = fmt.Sprintf("%.3f [%.3f]", float64(x.s.leg(l))/1e6, float64(x.med[l])/1e6)
		}
		met := ""
		if m != nil {
			met = m.metStall(x.s)
		}
		fmt.Fprintf(&b, "    %s #%d: %.2f ms, %.2f × p50: %s%s\n", x.row, x.i, float64(x.s.e2e())/1e6, x.ratio, strings.Join(parts, ", "), met)
	}
	return b.String()
}

// burstGap separates bursts of slow inferences.
const burstGap int64 = 50e6

// median is the nearest-rank median of f over ss.
func median(ss []sample, f func(*sample) int64) int64 {
	v := make([]float64, len(ss))
	for i := range ss {
		v[i] = float64(f(&ss[i]))
	}
	return int64(percentile(v, 0.5))
}

func countFunc[T any](s []T, f func(T) bool) int {
	n := 0
	for _, x := range s {
		if f(x) {
			n++
		}
	}
	return n
}
