package main

import (
	"fmt"

	"github.com/clockwork-go/clockwork/internal/affinity"
	"github.com/clockwork-go/clockwork/internal/awake"
)

// -awake keeps every CPU of the machine from idling while gpucheck runs:
// a SCHED_IDLE thread spins on each (internal/awake). Where the tails
// come from virtual CPUs that halt when idle and wake late, they shrink
// with it. The worker's own --cpus and --awake (-worker-flags) keep only
// its CPUs awake.

// startAwake starts the spinning threads and returns a function that
// ends them.
func startAwake() (stop func(), err error) {
	cpus, err := affinity.Allowed()
	if err != nil {
		return nil, fmt.Errorf("-awake: %w", err)
	}
	s, err := awake.Start(cpus)
	if err != nil {
		return nil, fmt.Errorf("-awake: %w", err)
	}
	fmt.Printf("awake: a SCHED_IDLE thread spins on each of CPUs %s (-awake): none idles\n", affinity.FormatList(cpus))
	return s.Stop, nil
}
