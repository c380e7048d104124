// Package cuda is the runtime that runs models on NVIDIA GPUs: the
// engine's op list (package engine) as cuDNN, cuBLAS and NVRTC-compiled
// kernel calls, captured into one CUDA graph per (model, batch size, GPU)
// and replayed with a single launch per inference. It uses the dlopen
// bindings of internal/cuda, so it builds without CUDA and fails cleanly
// (device.Open then falls back to the CPU) where there is no GPU.
//
// Clockwork rests on inference taking the same time every run, so the
// serving path only replays graphs: an Infer is a handful of
// asynchronous calls (copy in, launch, copy out), with no library call,
// no allocation and no blocking synchronisation. Completion is seen by a
// goroutine per GPU that spins on cuEventQuery on its own OS thread, as
// the original's AsyncTaskChecker did.
//
// Memory is the original's: at start-up each GPU gets one allocation for
// the weights cache, cut into pages that the worker hands out, an IO pool
// for the inputs and outputs of Infers in flight, a workspace for the
// graphs' activations and the libraries' workspaces, and a profiling
// area in which models are built and timed while others are served. A
// loaded model keeps its weights in pinned host memory, laid out in pages
// by the engine; LoadWeights copies them into the pages the worker chose
// and points the model's graphs at them. See DESIGN.md for the details
// and the figures measured on an H200.
package cuda
