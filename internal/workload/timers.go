package workload

import (
	"strconv"
	"time"
)

// Adjuster is a timer workload: every Period it computes the next value
// with Update; if Terminate (when set) holds for it, it prints
// "Terminating engine" and stops the engine, otherwise it applies the value
// and prints what it did. It sends no requests and never finishes by
// itself, so an engine with an Adjuster whose Terminate never holds runs
// until stopped from outside.
type Adjuster struct {
	Period    time.Duration
	Value     float64
	Update    func(float64) float64
	Terminate func(float64) bool

	line  string // printed before the new value
	apply func(float64)
	e     *Engine
}

// AdjustSLO returns a timer that sets the SLO factor of models. The initial
// factor is set at once, so that the first requests already carry it.
func AdjustSLO(period time.Duration, initial float64, models []Model, update func(float64) float64, terminate func(float64) bool) *Adjuster {
	apply := func(v float64) {
		for _, m := range models {
			m.SetSLOFactor(float32(v))
		}
	}
	apply(initial)
	return &Adjuster{Period: period, Value: initial, Update: update, Terminate: terminate,
		line: "Updating slo_factor to ", apply: apply}
}

// AdjustRate returns a timer that sets the rate of open loops (fixed-rate
// or Poisson). Each loop uses the new rate from its next arrival on.
func AdjustRate(period time.Duration, initial float64, loops []*OpenLoop, update func(float64) float64, terminate func(float64) bool) *Adjuster {
	return &Adjuster{Period: period, Value: initial, Update: update, Terminate: terminate,
		line: "Updating rate to ", apply: func(v float64) {
			for _, l := range loops {
				l.SetRate(v)
			}
		}}
}

// AdjustScale returns a timer that sets the scale factor of trace
// replays. Each replay uses the new scale from its next draw on.
func AdjustScale(period time.Duration, initial float64, replays []*TraceReplay, update func(float64) float64, terminate func(float64) bool) *Adjuster {
	return &Adjuster{Period: period, Value: initial, Update: update, Terminate: terminate,
		line: ">>>> Updating scale_factor to ", apply: func(v float64) {
			for _, r := range replays {
				r.SetScale(v)
			}
		}}
}

// Start implements Workload.
func (a *Adjuster) Start(e *Engine) {
	a.e = e
	e.SetTimeout(a.Period, a.tick)
}

func (a *Adjuster) tick() {
	a.Value = a.Update(a.Value)
	if a.Terminate != nil && a.Terminate(a.Value) {
		a.e.Printf("Terminating engine\n")
		a.e.Stop()
		return
	}
	a.e.Printf("%s%s\n", a.line, num(a.Value))
	a.apply(a.Value)
	a.e.SetTimeout(a.Period, a.tick)
}

// num formats a number as C++ streams do by default (%g, 6 significant
// digits), so printed values read as the original's.
func num(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
