package main

import (
	"bufio"
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/stalls"
)

// machine is what the stall probe (internal/stalls) saw while gpucheck
// ran: threads pinned to a few CPUs that only sleep, and their late
// wakes. A slow inference that met a stall of the machine was delayed by
// what delays every thread, not by the worker or the harness.
type machine struct {
	cpus              []int
	period, threshold time.Duration
	idleFor           time.Duration
	idle              []stalls.Stall // before the worker started
	stalls            *stalls.Set    // after
	// steal is the steal time the kernel counted over all CPUs (a
	// virtual CPU ready to run while the hypervisor ran something
	// else) from the end of the idle watch to the stop, which took
	// watched; stealOK is false where /proc/stat has no such count.
	steal, watched time.Duration
	stealOK        bool
}

// machineWatch is a running stall probe.
type machineWatch struct {
	p       *stalls.Probe
	idle    time.Duration
	idleEnd int64
	steal   time.Duration // at idleEnd
	stealOK bool
}

// watchMachine starts the stall probe and watches the machine alone for
// idle: the stalls it has of itself, before the worker starts.
func watchMachine(idle time.Duration) (*machineWatch, error) {
	p, err := stalls.Start(stalls.Config{})
	if err != nil {
		return nil, err
	}
	time.Sleep(idle)
	w := &machineWatch{p: p, idle: idle, idleEnd: clock.Now()}
	w.steal, w.stealOK = stealTime()
	fmt.Printf("stall probe: threads on CPUs %v sleeping %v at a time", p.CPUs(), p.Period())
	if idle > 0 {
		fmt.Printf("; the machine alone for %v: %d wakes later than %v", idle, len(p.Stalls()), p.Threshold())
	}
	fmt.Println()
	return w, nil
}

// startProbe starts the stall probe if o asks for it (-stalls) and
// watches the machine alone for o.stallsIdle; nil if it does not ask, or
// if the probe could not start (said on stdout: the check goes on without).
func startProbe(o *options) *machineWatch {
	if !o.stalls {
		return nil
	}
	mw, err := watchMachine(o.stallsIdle)
	if err != nil {
		fmt.Printf("no stall probe: %v\n", err)
		return nil
	}
	return mw
}

// stop stops the probe and returns what it saw.
func (w *machineWatch) stop() *machine {
	w.p.Stop()
	all := w.p.Stalls()
	i, _ := slices.BinarySearchFunc(all, w.idleEnd, func(s stalls.Stall, t int64) int { return cmp.Compare(s.At, t) })
	m := &machine{cpus: w.p.CPUs(), period: w.p.Period(), threshold: w.p.Threshold(), idleFor: w.idle,
		idle: all[:i], stalls: stalls.NewSet(all[i:]), watched: time.Duration(clock.Now() - w.idleEnd)}
	if steal, ok := stealTime(); ok && w.stealOK {
		m.steal, m.stealOK = steal-w.steal, true
	}
	return m
}

// stealTime is the steal time /proc/stat counts over all CPUs (its
// first line's eighth field, in USER_HZ ticks taken as 10 ms: Linux's
// on every architecture we run on); ok is false where it cannot be read.
func stealTime() (d time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	return parseSteal(string(b))
}

func parseSteal(stat string) (time.Duration, bool) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, false
	}
	ticks, err := strconv.ParseInt(f[8], 10, 64)
	if err != nil || ticks < 0 {
		return 0, false
	}
	return time.Duration(ticks) * 10 * time.Millisecond, true
}

// worst is the longest of ss (ok false if there is none).
func worst(ss []stalls.Stall) (s stalls.Stall, ok bool) {
	for _, x := range ss {
		if !ok || x.Late > s.Late {
			s, ok = x, true
		}
	}
	return s, ok
}

// kinds counts ss by kind: busy (the probe waited in the run queue), not
// busy, and seen on several CPUs at once (among all).
func kinds(ss []stalls.Stall, all *stalls.Set) (busy, other, together int) {
	for _, s := range ss {
		if s.Busy() {
			busy++
		} else {
			other++
		}
		if all.Together(s) {
			together++
		}
	}
	return
}

// report says what the machine did while the inferences in spans were
// timed, and which of them met a stall: slow (the tails), of all.
func (m *machine) report(b *strings.Builder, spans [][2]int64, slow, all []*sample) {
	cpus := make([]string, len(m.cpus))
	for i, c := range m.cpus {
		cpus[i] = fmt.Sprint(c)
	}
	var during []stalls.Stall
	var timed int64
	for _, sp := range spans {
		during = append(during, m.stalls.Within(sp[0], sp[1])...)
		timed += sp[1] - sp[0]
	}
	during = slices.Compact(stalls.NewSet(during).All()) // spans may share a stall
	fmt.Fprintf(b, "  machine stalls (a probe thread on CPU %s woke more than %.2f ms late from a %g ms sleep): %s; %d while inferences were timed (%.1f a second)",
		strings.Join(cpus, " or "), float64(m.threshold)/1e6, float64(m.period)/1e6, m.alone(), len(during), float64(len(during))/max(float64(timed)/1e9, 1e-9))
	if w, ok := worst(during); ok {
		busy, other, together := kinds(during, m.stalls)
		fmt.Fprintf(b, ", largest %.2f ms; %d busy (the thread waited in the run queue: its CPU ran another), %d not (no thread could run: a virtual CPU stopped, or interrupts); %d on more than one CPU at once",
			float64(w.Late)/1e6, busy, other, together)
	}
	b.WriteString("\n")
	if m.stealOK {
		fmt.Fprintf(b, "  steal time (/proc/stat, all CPUs: a virtual CPU ready to run, the hypervisor running another): %d ms over the %.1f s watched\n",
			m.steal.Milliseconds(), m.watched.Seconds())
	}
	met := func(ss []*sample) (n int, busy, other, together int) {
		for _, s := range ss {
			if in := m.stalls.Within(s.sent, s.arrived); len(in) > 0 {
				n++
				w, _ := worst(in)
				bu, ot, to := kinds([]stalls.Stall{w}, m.stalls)
				busy, other, together = busy+bu, other+ot, together+to
			}
		}
		return
	}
	n, busy, other, together := met(slow)
	fmt.Fprintf(b, "  slow inferences that met a stall: %d of %d (the largest they met: %d busy, %d not, %d on more than one CPU at once); of all timed inferences: ",
		n, len(slow), busy, other, together)
	n, _, _, _ = met(all)
	fmt.Fprintf(b, "%d of %d\n", n, len(all))
}

// alone says what the probe saw before the worker started.
func (m *machine) alone() string {
	if m.idleFor <= 0 {
		return "the machine alone not watched"
	}
	return fmt.Sprintf("%d in %.1f s before the worker started", len(m.idle), m.idleFor.Seconds())
}

// metStall describes the largest stall s met, or "" if none.
func (m *machine) metStall(s *sample) string {
	w, ok := worst(m.stalls.Within(s.sent, s.arrived))
	if !ok {
		return ""
	}
	kind := "busy"
	if !w.Busy() {
		kind = "not busy"
	}
	return fmt.Sprintf("; met a stall of %.3f ms on CPU %d (%s)", float64(w.Late)/1e6, w.CPU, kind)
}

// writeCSV writes every stall to path, in µs from base (samples.csv's).
func (m *machine) writeCSV(path string, base int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "at_us,late_us,queued_us,cpu,idle")
	for i, ss := range [][]stalls.Stall{m.idle, m.stalls.All()} {
		for _, s := range ss {
			q := ""
			if s.Queued >= 0 {
				q = fmt.Sprintf("%.1f", float64(s.Queued)/1e3)
			}
			fmt.Fprintf(w, "%.1f,%.1f,%s,%d,%d\n", float64(s.At-base)/1e3, float64(s.Late)/1e3, q, s.CPU, 1-i)
		}
	}
	err = w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// stallReport sets the stall probe's stalls beside the slow ones of
// groups (those over maxE2ETail × their group's p50): what (as "timed
// inferences") of how many were slow, against what (as "on their
// worker"), and which of them met a stall. Empty if no group has one.
func stallReport(m *machine, groups [][]sample, what, against string) string {
	var spans [][2]int64
	var slow, all []*sample
	for _, ss := range groups {
		if len(ss) == 0 {
			continue
		}
		spans = append(spans, [2]int64{ss[0].sent, ss[len(ss)-1].arrived})
		p50 := median(ss, (*sample).e2e)
		for i := range ss {
			all = append(all, &ss[i])
			if float64(ss[i].e2e()) > maxE2ETail*float64(p50) {
				slow = append(slow, &ss[i])
			}
		}
	}
	if len(all) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nEnd-to-end tails: %d of %d %s took more than %.2f × their row's p50 %s.\n", len(slow), len(all), what, maxE2ETail, against)
	m.report(&b, spans, slow, all)
	return b.String()
}
