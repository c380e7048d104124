package workload

import (
	"math/rand/v2"
	"time"
)

// BurstyOpenLoop alternates bursts and idle periods of exponentially
// distributed lengths (means Burst and Idle); during a burst it sends
// Poisson arrivals at Rate per second. It starts at a uniformly random
// phase of a first burst+idle cycle.
type BurstyOpenLoop struct {
	ID    int32
	Model Model
	Seed  uint64
	Rate  float64 // requests per second during bursts
	Burst time.Duration
	Idle  time.Duration

	e     *Engine
	rng   *rand.Rand // inter-arrival times
	brng  *rand.Rand // burst and idle lengths
	burst int        // number of the current burst; stale arrival chains stop
}

// Start implements Workload.
func (b *BurstyOpenLoop) Start(e *Engine) {
	b.e = e
	b.rng = e.Rand(b.Seed + 1)
	b.brng = e.Rand(b.Seed)
	phase := b.brng.Float64()
	burst, idle := exponential(b.brng, b.Burst), exponential(b.brng, b.Idle)
	at := time.Duration(float64(burst+idle) * phase)
	if at > burst {
		e.SetTimeout(burst+idle-at, b.startBurst)
		return
	}
	b.submit(b.burst)
	e.SetTimeout(burst-at, b.stopBurst)
}

func (b *BurstyOpenLoop) startBurst() {
	b.submit(b.burst)
	b.e.SetTimeout(exponential(b.brng, b.Burst), b.stopBurst)
}

func (b *BurstyOpenLoop) stopBurst() {
	b.burst++
	b.e.SetTimeout(exponential(b.brng, b.Idle), b.startBurst)
}

func (b *BurstyOpenLoop) submit(burst int) {
	if burst != b.burst || b.Rate <= 0 {
		return
	}
	b.e.Infer(b.ID, b.Model, nil)
	b.e.SetTimeout(seconds(b.rng.ExpFloat64()/b.Rate), func() { b.submit(burst) })
}

// BurstyClosedLoop alternates bursts and idle periods of exponentially
// distributed lengths (means Burst and Idle). During a burst it keeps
// Concurrency requests outstanding; after a burst ends and its requests
// have drained, it idles. It starts at a uniformly random phase of a first
// burst+idle cycle.
type BurstyClosedLoop struct {
	ID          int32
	Model       Model
	Concurrency int
	Seed        uint64
	Burst       time.Duration
	Idle        time.Duration

	e           *Engine
	rng         *rand.Rand
	bursting    bool
	outstanding int
}

// Start implements Workload.
func (b *BurstyClosedLoop) Start(e *Engine) {
	b.e = e
	b.rng = e.Rand(b.Seed)
	phase := b.rng.Float64()
	burst, idle := exponential(b.rng, b.Burst), exponential(b.rng, b.Idle)
	at := time.Duration(float64(burst+idle) * phase)
	if at > burst {
		e.SetTimeout(burst+idle-at, b.startBurst)
		return
	}
	b.burstFor(burst - at)
}

func (b *BurstyClosedLoop) startBurst() { b.burstFor(exponential(b.rng, b.Burst)) }

func (b *BurstyClosedLoop) burstFor(d time.Duration) {
	b.bursting = true
	for range b.Concurrency {
		b.send()
	}
	b.e.SetTimeout(d, func() { b.bursting = false })
}

func (b *BurstyClosedLoop) send() {
	b.outstanding++
	b.e.Infer(b.ID, b.Model, b.complete)
}

func (b *BurstyClosedLoop) complete(error) {
	b.outstanding--
	switch {
	case b.bursting:
		b.send()
	case b.outstanding == 0:
		b.e.SetTimeout(exponential(b.rng, b.Idle), b.startBurst)
	}
}
