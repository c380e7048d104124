// Package schedtest tests schedulers: it builds clusters, drives a
// scheduler.Scheduler with scripted events in virtual time, and records
// what it decides, so that tests read as stories ("at 5 ms a request
// arrives; the GPU runs it as a batch of one").
//
// Three layers, each usable alone:
//
//   - Cluster builds the scheduler.State a controller would find at
//     start-up: workers, GPUs, weights-cache pages, models with profiles.
//   - Driver is the smallest closed loop around a scheduler: it calls
//     Ready after every event, acknowledges transmissions, ticks at the
//     wake times the scheduler asks for, and optionally hands actions to a
//     Sim. Benchmarks use it directly.
//   - Harness adds a testing.TB, records every action sent, response and
//     telemetry record, and offers the scripted vocabulary (At, Infer,
//     Succeed, Fail, ...) and checks.
//
// Sim plays the workers: it executes actions in virtual time with profiled
// durations, one Infer at a time per GPU and one weights transfer at a time
// per PCIe link, rejecting work it cannot start within its window as a
// worker does, and can inject faults.
package schedtest
