package workload

import (
	"math/rand/v2"
	"time"
)

// OpenLoop sends requests for one model at Rate per second, whatever
// happens to earlier requests: at fixed intervals of 1/Rate seconds, or
// with exponential inter-arrival times (a Poisson process). The first
// request comes one inter-arrival time after the start.
type OpenLoop struct {
	ID      int32 // user id of its requests
	Model   Model
	Seed    uint64
	Rate    float64 // requests per second; 0 pauses the loop
	Poisson bool

	e      *Engine
	rng    *rand.Rand
	paused bool
}

// NewFixedRate returns an open loop with constant inter-arrival times.
func NewFixedRate(id int32, m Model, seed uint64, rate float64) *OpenLoop {
	return &OpenLoop{ID: id, Model: m, Seed: seed, Rate: rate}
}

// NewPoisson returns an open loop with Poisson arrivals.
func NewPoisson(id int32, m Model, seed uint64, rate float64) *OpenLoop {
	return &OpenLoop{ID: id, Model: m, Seed: seed, Rate: rate, Poisson: true}
}

// Start implements Workload.
func (o *OpenLoop) Start(e *Engine) {
	o.e = e
	o.rng = e.Rand(o.Seed)
	o.wait()
}

// SetRate changes the rate from the next inter-arrival time on; a paused
// loop (rate 0) restarts at once.
func (o *OpenLoop) SetRate(rate float64) {
	o.Rate = rate
	if o.paused && rate > 0 {
		o.paused = false
		o.wait()
	}
}

func (o *OpenLoop) wait() {
	if o.Rate <= 0 {
		o.paused = true
		return
	}
	gap := 1 / o.Rate
	if o.Poisson {
		gap *= o.rng.ExpFloat64()
	}
	o.e.SetTimeout(seconds(gap), o.submit)
}

func (o *OpenLoop) submit() {
	o.e.Infer(o.ID, o.Model, nil)
	o.wait()
}

// maxDelay bounds every computed delay, so that absurdly low rates cannot
// overflow the engine's clock.
const maxDelay = 100 * 365 * 24 * time.Hour

// seconds converts s seconds to a Duration, capped at maxDelay.
func seconds(s float64) time.Duration {
	if !(s < maxDelay.Seconds()) { // also catches +Inf and NaN
		return maxDelay
	}
	return time.Duration(s * 1e9)
}

// exponential draws an exponentially distributed duration with the given mean.
func exponential(rng *rand.Rand, mean time.Duration) time.Duration {
	return seconds(rng.ExpFloat64() * mean.Seconds())
}
