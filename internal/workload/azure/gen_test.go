package azure

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

func generate(t *testing.T, cfg GenConfig) string {
	t.Helper()
	dir := t.TempDir()
	if err := Generate(dir, cfg); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestGenerateIsReproducible(t *testing.T) {
	cfg := DefaultGenConfig()
	cfg.Functions, cfg.Days = 300, 2
	a, b := generate(t, cfg), generate(t, cfg)
	cfg.Seed++
	c := generate(t, cfg)
	for day := 1; day <= 2; day++ {
		fa, _ := os.ReadFile(filepath.Join(a, FileName(day)))
		fb, _ := os.ReadFile(filepath.Join(b, FileName(day)))
		fc, _ := os.ReadFile(filepath.Join(c, FileName(day)))
		if len(fa) == 0 || !bytes.Equal(fa, fb) {
			t.Errorf("day %d: equal seeds wrote different files", day)
		}
		if bytes.Equal(fa, fc) {
			t.Errorf("day %d: different seeds wrote the same file", day)
		}
	}
	d1, _ := os.ReadFile(filepath.Join(a, FileName(1)))
	d2, _ := os.ReadFile(filepath.Join(a, FileName(2)))
	if bytes.Equal(d1, d2) {
		t.Error("two days are identical")
	}
}

func TestGeneratedLayoutAndFunctionsAcrossDays(t *testing.T) {
	cfg := DefaultGenConfig()
	cfg.Functions, cfg.Days = 120, 2
	dir := generate(t, cfg)
	var ids [2][]string
	var owners []string
	for day := 1; day <= 2; day++ {
		err := ScanFile(filepath.Join(dir, FileName(day)), func(r Row) error {
			for _, h := range []string{r.Owner, r.App, r.Function} {
				if len(h) != 64 {
					t.Fatalf("id %q is not a 64-digit hash", h)
				}
			}
			if r.Total() == 0 {
				t.Errorf("function %s has no invocations on day %d", r.Function[:8], day)
			}
			ids[day-1] = append(ids[day-1], r.App+r.Function)
			if day == 1 {
				owners = append(owners, r.Owner)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(ids[0]) != 120 || !slices.Equal(ids[0], ids[1]) {
		t.Errorf("days have %d and %d functions, or differ", len(ids[0]), len(ids[1]))
	}
	if !slices.IsSorted(owners) {
		t.Error("rows are not sorted by owner")
	}
}

// TestGeneratedStatistics checks the generator against the published
// figures of the 2019 dataset, with margins for a few thousand functions.
func TestGeneratedStatistics(t *testing.T) {
	cfg := DefaultGenConfig()
	cfg.Functions = 4000
	s, err := Summarize(filepath.Join(generate(t, cfg), FileName(1)))
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, got, lo, hi float64) {
		if got < lo || got > hi {
			t.Errorf("%s = %.3f, want in [%g, %g]", what, got, lo, hi)
		}
	}
	check("share of the top 18.6% of functions", s.Top186, 0.98, 1)
	check("share of the top 1% of functions", s.Top1, 0.6, 1)
	check("apps at most once an hour", s.AppsHourly, 0.35, 0.55)
	check("apps at most once a minute", s.AppsMinutely, 0.72, 0.9)
	check("decades between least and most invoked", math.Log10(float64(s.MaxDaily)/float64(s.MinDaily)), 6, 8.5)
	check("http share of functions", s.TriggerFunctions["http"], 0.5, 0.6)
	check("timer share of functions", s.TriggerFunctions["timer"], 0.12, 0.2)
	check("apps with a timer", s.AppsWithTimer, 0.2, 0.4)
	check("peak-to-mean minute rate", s.PeakToMean, 1.1, 10)
}

func TestTimersFireAtFixedPeriods(t *testing.T) {
	cfg := DefaultGenConfig()
	cfg.Functions = 1000
	periods := map[int]bool{}
	for _, p := range timerPeriods {
		periods[p.minutes] = true
	}
	timers := 0
	err := ScanFile(filepath.Join(generate(t, cfg), FileName(1)), func(r Row) error {
		if r.Trigger != "timer" {
			return nil
		}
		timers++
		var fired []int
		for m, c := range r.Counts {
			if c > 1 {
				t.Errorf("timer fired %d times in minute %d", c, m)
			}
			if c == 1 {
				fired = append(fired, m)
			}
		}
		period := Minutes
		if len(fired) > 1 {
			period = fired[1] - fired[0]
		}
		for i := 1; i < len(fired); i++ {
			if fired[i]-fired[i-1] != period {
				t.Fatalf("timer %s fires at uneven gaps: %v", r.Function[:8], fired)
			}
		}
		if !periods[period] || fired[0] >= period || len(fired) != Minutes/period {
			t.Errorf("timer %s: period %d, first at %d, %d firings", r.Function[:8], period, fired[0], len(fired))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if timers < 100 {
		t.Errorf("only %d timer functions of 1000", timers)
	}
}

func TestSummarizeHandmade(t *testing.T) {
	dir := t.TempDir()
	lines := []string{Header}
	// 100 functions, one app each: function i has i+1 invocations at
	// minute i, except function 99 with 10000 spread over minutes 0-9.
	for i := range 99 {
		lines = append(lines, row(strconv.Itoa(i), map[int]string{i: strconv.Itoa(i + 1)}))
	}
	big := map[int]string{}
	for m := range 10 {
		big[m] = "1000"
	}
	lines = append(lines, row("99", big))
	path := writeTestDay(t, dir, "d.csv", lines...)
	s, err := Summarize(path)
	if err != nil {
		t.Fatal(err)
	}
	total := uint64(99*100/2 + 10000)
	if s.Functions != 100 || s.Apps != 100 || s.Invocations != total {
		t.Errorf("functions %d apps %d invocations %d", s.Functions, s.Apps, s.Invocations)
	}
	if want := 10000.0 / float64(total); s.Top1 != want {
		t.Errorf("top 1%% share %v, want %v", s.Top1, want)
	}
	// Top 19 functions (ceil of 18.6): 10000 + 99+…+82.
	if want := float64(10000+(99+82)*18/2) / float64(total); s.Top186 != want {
		t.Errorf("top 18.6%% share %v, want %v", s.Top186, want)
	}
	if s.MinDaily != 1 || s.MaxDaily != 10000 || s.AppsHourly != 0.24 || s.AppsMinutely != 0.99 {
		t.Errorf("min %d max %d hourly %v minutely %v", s.MinDaily, s.MaxDaily, s.AppsHourly, s.AppsMinutely)
	}
	if want := 1010 / (float64(total) / Minutes); s.PeakToMean != want {
		t.Errorf("peak-to-mean %v, want %v", s.PeakToMean, want)
	}
	var b bytes.Buffer
	s.Write(&b)
	if !bytes.Contains(b.Bytes(), []byte("functions: 100 (apps: 100)")) {
		t.Errorf("summary:\n%s", b.String())
	}
}
