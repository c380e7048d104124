// Package workload is the client's load generator: a single-goroutine
// discrete-event engine, the arrival processes the original Clockwork client
// offers (closed loop, fixed-rate and Poisson open loop, bursty variants,
// per-minute trace replay), timers that change SLO factors, rates and trace
// scale while a run is in progress, and every named workload of the
// original `client` program.
//
// # Why an engine
//
// Thousands of simulated users (one per Azure function, say) would be
// thousands of goroutines and timers if each ran on its own; instead the
// Engine keeps one min-heap of timers and runs every callback on its own
// goroutine. While a timer's callback runs, Now is that timer's due time,
// not the wall clock, so a chain of timers (an arrival process) keeps its
// exact spacing even when the engine falls behind. Completions arrive from
// the network on other goroutines; they are queued and run on the engine
// goroutine too, so workloads need no locks.
//
// # Why a Clock and a Model interface
//
// The engine reads time only through a Clock, and talks to the serving
// system only through the Model interface (which *client.Model satisfies).
// With a Virtual clock and a model that answers after a virtual delay, a run
// of hours takes milliseconds and is exactly reproducible, which is how the
// tests check arrival rates, closed-loop limits and timer schedules. Every
// random choice comes from math/rand/v2 generators with explicit seeds (the
// original's per-workload seeds, mixed with the engine's seed), so a run is
// deterministic given its seed.
//
// # Named workloads
//
// Defs lists the original client's workloads with their parameters and
// defaults; Def.Parse checks a command line and Def.Build loads the models
// through a Loader and adds the workloads to an Engine. DIFFERENCES.md lists
// where this package deliberately departs from the original.
package workload
