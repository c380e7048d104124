package azure

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
)

// Stats summarises one day file with the figures the dataset is known for.
type Stats struct {
	Functions   int
	Apps        int
	Invocations uint64

	// Share of invocations of the most invoked 1% and 18.6% of functions.
	Top1, Top186 float64
	// Daily invocations per function: smallest (of rows with any), median,
	// largest.
	MinDaily, MedianDaily, MaxDaily uint64
	// Share of apps invoked at most once an hour / once a minute on
	// average over the day.
	AppsHourly, AppsMinutely float64
	// Busiest minute's invocations over the mean minute's.
	PeakToMean float64

	// Per trigger: share of functions and share of invocations.
	TriggerFunctions, TriggerInvocations map[string]float64
	// Share of apps with at least one timer-triggered function.
	AppsWithTimer float64
}

// Summarize reads the day file at path.
func Summarize(path string) (Stats, error) {
	var (
		s       Stats
		totals  []uint64
		minutes = make([]uint64, Minutes)
		apps    = map[string]uint64{}
		timers  = map[string]bool{}
		byTrig  = map[string]uint64{}
		nTrig   = map[string]int{}
	)
	err := ScanFile(path, func(r Row) error {
		t := uint64(0)
		for m, c := range r.Counts {
			minutes[m] += uint64(c)
			t += uint64(c)
		}
		totals = append(totals, t)
		apps[r.App] += t
		timers[r.App] = timers[r.App] || r.Trigger == "timer"
		byTrig[r.Trigger] += t
		nTrig[r.Trigger]++
		return nil
	})
	if err != nil {
		return s, err
	}
	s.Functions, s.Apps = len(totals), len(apps)
	if s.Functions == 0 {
		return s, fmt.Errorf("%s: no functions", path)
	}
	sort.Slice(totals, func(i, j int) bool { return totals[i] > totals[j] })
	for _, t := range totals {
		s.Invocations += t
	}
	s.Top1 = topShare(totals, s.Invocations, 0.01)
	s.Top186 = topShare(totals, s.Invocations, 0.186)
	s.MaxDaily, s.MedianDaily = totals[0], totals[len(totals)/2]
	nonzero := slices.IndexFunc(totals, func(t uint64) bool { return t == 0 })
	if nonzero < 0 {
		nonzero = len(totals)
	}
	s.MinDaily = totals[max(nonzero-1, 0)]

	hourly, minutely, withTimer := 0, 0, 0
	for app, t := range apps {
		if t <= Minutes/60 {
			hourly++
		}
		if t <= Minutes {
			minutely++
		}
		if timers[app] {
			withTimer++
		}
	}
	s.AppsHourly = float64(hourly) / float64(s.Apps)
	s.AppsMinutely = float64(minutely) / float64(s.Apps)
	s.AppsWithTimer = float64(withTimer) / float64(s.Apps)
	if s.Invocations > 0 {
		s.PeakToMean = float64(slices.Max(minutes)) / (float64(s.Invocations) / Minutes)
	}
	s.TriggerFunctions = map[string]float64{}
	s.TriggerInvocations = map[string]float64{}
	for trig, n := range nTrig {
		s.TriggerFunctions[trig] = float64(n) / float64(s.Functions)
		if s.Invocations > 0 {
			s.TriggerInvocations[trig] = float64(byTrig[trig]) / float64(s.Invocations)
		}
	}
	return s, nil
}

// topShare is the share of total held by the first ⌈frac·n⌉ of totals
// (sorted descending).
func topShare(totals []uint64, total uint64, frac float64) float64 {
	if total == 0 {
		return 0
	}
	k := int(math.Ceil(frac * float64(len(totals))))
	sum := uint64(0)
	for _, t := range totals[:k] {
		sum += t
	}
	return float64(sum) / float64(total)
}

// Write prints s, one figure per line.
func (s Stats) Write(w io.Writer) {
	pct := func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }
	fmt.Fprintf(w, "functions: %d (apps: %d)\n", s.Functions, s.Apps)
	fmt.Fprintf(w, "invocations: %d (%.4g/s on average)\n", s.Invocations, float64(s.Invocations)/86400)
	fmt.Fprintf(w, "share of invocations of the top 1%% of functions: %s, of the top 18.6%%: %s\n", pct(s.Top1), pct(s.Top186))
	fmt.Fprintf(w, "daily invocations per function: min %d, median %d, max %d (%.1f orders of magnitude)\n",
		s.MinDaily, s.MedianDaily, s.MaxDaily, math.Log10(float64(max(s.MaxDaily, 1))/float64(max(s.MinDaily, 1))))
	fmt.Fprintf(w, "apps invoked at most once per hour on average: %s, at most once per minute: %s\n",
		pct(s.AppsHourly), pct(s.AppsMinutely))
	fmt.Fprintf(w, "peak-to-mean minute rate: %.2f\n", s.PeakToMean)
	names := make([]string, 0, len(s.TriggerFunctions))
	for t := range s.TriggerFunctions {
		names = append(names, t)
	}
	sort.Slice(names, func(i, j int) bool { return s.TriggerFunctions[names[i]] > s.TriggerFunctions[names[j]] })
	fmt.Fprintf(w, "triggers (share of functions / of invocations):")
	for _, t := range names {
		fmt.Fprintf(w, " %s %s/%s", t, pct(s.TriggerFunctions[t]), pct(s.TriggerInvocations[t]))
	}
	fmt.Fprintf(w, "\napps with a timer-triggered function: %s\n", pct(s.AppsWithTimer))
}
