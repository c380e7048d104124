// Package infer5 is Clockwork's scheduler (the original's INFER5) as a
// deterministic state machine.
//
// The original runs it on about fifteen threads — admission, results,
// five round-robin "infer" and five "load" threads over all GPUs, a load
// tracker — that poll every 10 µs and share state under locks. Here one
// goroutine feeds it events and collects decisions (see package scheduler);
// the threads become steps of Ready, run at the time of the latest event:
//
//   - answer requests whose exec deadline passed (status 4), and deliver
//     the synthetic errors of actions the network could not send in time;
//   - infer passes: GPUs that may have work (new requests for a model they
//     hold, a result that freed them, their backlog falling below
//     schedule_ahead) pick their most urgent batch, one Infer per GPU per
//     round, until no GPU takes anything;
//   - apply the load tracker's pending demand updates; then load passes
//     offer every GPU with PCIe slack the model with the most unmet demand.
//
// Work is kept proportional to what changes. A request activates only the
// GPUs holding its model, and only those not already active for it; a
// GPU's strategies live in a heap with lazy invalidation; each model's
// per-batch-size queues share one ring; the load tracker processes a model
// once per Ready and only touches the GPUs holding it. Nothing polls: Ready
// returns the next time something time-based is due.
//
// With the Infer4 option it is INFER4, the original's earlier scheduler
// (spec/controller.md §5), which differs in how a GPU picks its next batch
// and in how loads are paced (infer4.go); the rest is shared.
//
// The behaviour follows spec/controller.md §4; deliberate differences from
// the original — mostly bug fixes — are listed in DIFFERENCES.md.
package infer5
