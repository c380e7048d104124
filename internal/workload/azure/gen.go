package azure

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// GenConfig parameterises the synthetic trace; DefaultGenConfig documents
// the value of each knob and where it comes from.
type GenConfig struct {
	Functions int    // rows per day file
	Days      int    // files d01 … dNN
	Seed      uint64 // equal seeds give byte-identical files

	// Popularity. An app's expected daily invocations are 10^x with
	// x ~ Normal(AppLog10Mu + its functions' mean trigger offset,
	// AppLog10Sigma), capped at 10^MaxLog10; its non-timer functions share
	// them in proportion to 10^(FuncLog10Sigma·z + trigger offset).
	AppLog10Mu     float64
	AppLog10Sigma  float64
	FuncLog10Sigma float64
	MaxLog10       float64

	// Time of day: a function's rate is multiplied by
	// 1 + a·cos(2π(minute − peak)/1440), a ~ Uniform(0, 2·DiurnalAmplitude),
	// peak ~ Normal(PeakMinute, PeakJitter) per app.
	DiurnalAmplitude float64
	PeakMinute       float64
	PeakJitter       float64

	// Burstiness: each minute's rate is multiplied by exp(σg − σ²/2), g an
	// AR(1) Gaussian series with lag-1 correlation BurstCorr, σ = BurstSigma.
	BurstSigma float64
	BurstCorr  float64

	// Day to day: a function's daily volume varies by a log-normal factor
	// (σ = DaySigma), and days 6 and 7 of every week by WeekendFactor.
	DaySigma      float64
	WeekendFactor float64

	// NewOwnerProb is the chance that an app belongs to a new owner rather
	// than the previous app's.
	NewOwnerProb float64
}

// DefaultGenConfig returns the model described in the package
// documentation, fitted to the published statistics of the 2019 dataset.
func DefaultGenConfig() GenConfig {
	return GenConfig{
		Functions: 10000,
		Days:      1,
		Seed:      1,

		// 45% of apps at most once an hour (≤ 24/day) and 81% at most
		// once a minute (≤ 1440/day) fit a log-normal with a median of
		// 10^1.6 a day and a spread of 1.77 decades. Timers (often once a
		// minute) and the floor of one invocation per row lift quiet apps,
		// so the drawn median is set lower to land on those shares.
		AppLog10Mu:     0.9,
		AppLog10Sigma:  1.77,
		FuncLog10Sigma: 0.5,
		MaxLog10:       8, // 8 orders of magnitude above one a day

		DiurnalAmplitude: 0.3,
		PeakMinute:       900, // 15:00
		PeakJitter:       120,

		BurstSigma: 0.5,
		BurstCorr:  0.8,

		DaySigma:      0.2,
		WeekendFactor: 0.85,

		NewOwnerProb: 0.7,
	}
}

// Trigger groups of the dataset, with the share of functions each has
// (Shahrad et al., Fig. 2) and how much more an app with such functions
// is invoked, in decades (fitted so that queue and event functions, few as
// they are, carry a large share of invocations, as in the paper).
var triggers = []struct {
	name   string
	share  float64
	offset float64
}{
	{"http", 0.550, 0},
	{"timer", 0.156, 0},
	{"queue", 0.152, 0.5},
	{"orchestration", 0.069, -0.3},
	{"storage", 0.028, -0.3},
	{"event", 0.022, 1.5},
	{"others", 0.022, -0.5},
}

// timerPeriods are the periods, in minutes, of timer-triggered functions,
// with their weights (common cron schedules; an assumption, the paper
// gives no breakdown).
var timerPeriods = []struct {
	minutes int
	weight  float64
}{
	{1, 0.25}, {5, 0.25}, {10, 0.10}, {15, 0.10}, {30, 0.10},
	{60, 0.12}, {120, 0.03}, {360, 0.02}, {720, 0.01}, {1440, 0.02},
}

// appSizes is the distribution of functions per app (Shahrad et al.,
// Fig. 1): sizes lo..hi with probability p.
var appSizes = []struct {
	lo, hi int
	p      float64
}{
	{1, 1, 0.54}, {2, 2, 0.16}, {3, 3, 0.10}, {4, 5, 0.08}, {6, 10, 0.07}, {11, 30, 0.05},
}

// function is one generated function, fixed across days.
type function struct {
	owner, app, name string
	trigger          string
	daily            float64 // expected invocations a day (not timers)
	period, phase    int     // timers: fires at minutes phase, phase+period, …
	amplitude, peak  float64
}

// Generate writes cfg.Days day files into dir (created if needed).
func Generate(dir string, cfg GenConfig) error {
	if cfg.Functions < 1 || cfg.Days < 1 || cfg.Days > 99 {
		return fmt.Errorf("azure: generating %d functions over %d days: need ≥ 1 function and 1 to 99 days",
			cfg.Functions, cfg.Days)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fs := population(cfg)
	for day := 1; day <= cfg.Days; day++ {
		if err := writeDay(filepath.Join(dir, FileName(day)), cfg, fs, day); err != nil {
			return err
		}
	}
	return nil
}

func writeDay(path string, cfg GenConfig, fs []function, day int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(Header)
	w.WriteByte('\n')
	counts := make([]uint32, Minutes)
	var line []byte
	for i := range fs {
		fs[i].day(cfg, uint64(i), day, counts)
		line = append(line[:0], fs[i].owner...)
		line = append(line, ',')
		line = append(line, fs[i].app...)
		line = append(line, ',')
		line = append(line, fs[i].name...)
		line = append(line, ',')
		line = append(line, fs[i].trigger...)
		for _, c := range counts {
			line = append(line, ',')
			line = strconv.AppendUint(line, uint64(c), 10)
		}
		line = append(line, '\n')
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// population draws the functions, sorted by owner, app and function id as
// in the dataset.
func population(cfg GenConfig) []function {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0))
	id := func(kind string, n int) string {
		h := sha256.Sum256(fmt.Appendf(nil, "%d/%s/%d", cfg.Seed, kind, n))
		return hex.EncodeToString(h[:])
	}
	var fs []function
	owner := -1
	for app := 0; len(fs) < cfg.Functions; app++ {
		if owner < 0 || rng.Float64() < cfg.NewOwnerProb {
			owner++
		}
		n := min(appSize(rng), cfg.Functions-len(fs))
		peak := cfg.PeakMinute + cfg.PeakJitter*rng.NormFloat64()
		first := len(fs)
		var weights []float64
		offset := 0.0
		for range n {
			t := pickTrigger(rng)
			f := function{owner: id("owner", owner), app: id("app", app), name: id("function", len(fs)),
				trigger: triggers[t].name, peak: peak,
				amplitude: 2 * cfg.DiurnalAmplitude * rng.Float64()}
			if f.trigger == "timer" {
				f.period = pickPeriod(rng)
				f.phase = rng.IntN(f.period)
			} else {
				offset += triggers[t].offset
				weights = append(weights, math.Pow(10, cfg.FuncLog10Sigma*rng.NormFloat64()+triggers[t].offset))
			}
			fs = append(fs, f)
		}
		if len(weights) == 0 {
			continue
		}
		x := cfg.AppLog10Mu + offset/float64(len(weights)) + cfg.AppLog10Sigma*rng.NormFloat64()
		total := math.Pow(10, min(x, cfg.MaxLog10))
		sum := 0.0
		for _, w := range weights {
			sum += w
		}
		k := 0
		for i := first; i < len(fs); i++ {
			if fs[i].trigger != "timer" {
				fs[i].daily = min(total*weights[k]/sum, math.Pow(10, cfg.MaxLog10))
				k++
			}
		}
	}
	sort.Slice(fs, func(i, j int) bool {
		a, b := &fs[i], &fs[j]
		if a.owner != b.owner {
			return a.owner < b.owner
		}
		if a.app != b.app {
			return a.app < b.app
		}
		return a.name < b.name
	})
	return fs
}

func appSize(rng *rand.Rand) int {
	u := rng.Float64()
	for _, s := range appSizes {
		if u < s.p {
			return s.lo + rng.IntN(s.hi-s.lo+1)
		}
		u -= s.p
	}
	return 1
}

func pickTrigger(rng *rand.Rand) int {
	u := rng.Float64() * 0.999 // the shares sum to 0.999
	for i, t := range triggers {
		if u < t.share {
			return i
		}
		u -= t.share
	}
	return 0
}

func pickPeriod(rng *rand.Rand) int {
	u := rng.Float64()
	for _, p := range timerPeriods {
		if u < p.weight {
			return p.minutes
		}
		u -= p.weight
	}
	return timerPeriods[0].minutes
}

// day fills counts with function i's invocations on day (1-based). Each
// (function, day) has its own random stream, so days and functions can be
// generated in any order.
func (f *function) day(cfg GenConfig, i uint64, day int, counts []uint32) {
	rng := rand.New(rand.NewPCG(cfg.Seed, i<<8|uint64(day)))
	clear(counts)
	if f.trigger == "timer" {
		for m := f.phase; m < Minutes; m += f.period {
			counts[m] = 1
		}
		return
	}
	volume := f.daily * math.Exp(cfg.DaySigma*rng.NormFloat64()-cfg.DaySigma*cfg.DaySigma/2)
	if (day-1)%7 >= 5 {
		volume *= cfg.WeekendFactor
	}
	perMinute := volume / Minutes
	s := cfg.BurstSigma
	innov := math.Sqrt(1 - cfg.BurstCorr*cfg.BurstCorr)
	g := rng.NormFloat64()
	total := uint64(0)
	for m := range counts {
		g = cfg.BurstCorr*g + innov*rng.NormFloat64()
		diurnal := 1 + f.amplitude*math.Cos(2*math.Pi*(float64(m)-f.peak)/Minutes)
		c := poisson(rng, perMinute*diurnal*math.Exp(s*g-s*s/2))
		counts[m] = uint32(min(c, math.MaxUint32))
		total += c
	}
	if total == 0 { // every row of the dataset has at least one invocation
		counts[rng.IntN(Minutes)] = 1
	}
}

// poisson draws a Poisson variate with mean lambda (a normal approximation
// above 30).
func poisson(rng *rand.Rand, lambda float64) uint64 {
	switch {
	case lambda <= 0:
		return 0
	case lambda < 30:
		limit, p := math.Exp(-lambda), rng.Float64()
		k := uint64(0)
		for p > limit {
			p *= rng.Float64()
			k++
		}
		return k
	default:
		return uint64(max(0, math.Round(lambda+math.Sqrt(lambda)*rng.NormFloat64())))
	}
}
