// Package cpuexec runs an engine.Plan on the CPU. It is the numerical
// reference for the GPU engine and what serves models where there is no
// GPU (tests, CI, laptops).
//
// Convolutions are lowered to matrix products (im2col, skipped for 1×1
// stride-1 convolutions whose input already is the column matrix; direct
// loops for depthwise convolutions); a 3 × 3 one of unit stride with
// enough channels and outputs takes Winograd's F(2×2, 3×3) instead
// (winograd.go): 16 products of the filters' and the patches' transforms,
// 2.25 times fewer multiply-adds. The hot loops are C, compiled for
// AVX-512, AVX2 + FMA and the compiler's baseline vectors (SSE2 on x86-64,
// NEON on arm64), the widest the CPU has chosen at start-up (isa.go), by
// GCC or clang (make cross tests both, and arm64 under qemu-user): sgemm.c,
// a GEMM in the manner of BLIS that writes a convolution's bias, residual
// and ReLU or Clip with the last block of each sum, and its other
// activations (SiLU, GELU, …) over each block of rows it has written (each
// tile of patches packed once for all the output channels); im2col.c, the
// patches; depthwise.c, the depthwise convolutions, a vector's channels at
// a time (each lane a channel, the input transposed into position vectors,
// so that each tap is one multiply-add whatever the stride or plane size),
// and max and average pools, each plane padded and split by stride into
// phases so that it is one run of vectors (phases.go); elementwise.c, the
// binary operators; activate.c, ReLU, Clip, sigmoid, SiLU, the hard ones,
// exp, erf and GELU over a slice, a scale and shift, and the softmax of a
// row; layernorm.c, LayerNorm's rows; globalpool.c, the mean, sum or
// maximum of a plane; winograd.c, Winograd's transforms.
// Built without cgo, gonum's SGEMM and Go loops do the same, several times
// slower (BenchmarkGemm, BenchmarkActivate, BenchmarkDepthwiseISAs,
// BenchmarkPool and BenchmarkBinary run both side by side).
//
// Each op's work is cut into independent tiles shared out among a fixed set
// of worker goroutines (Workers), so one inference uses every core at any
// batch size: each worker owns a run of parts of each op and takes the
// others' last parts when its own are done, so that a core that is slow
// for a while delays the op by a part, not by its share. Nothing is
// allocated per run: tensors are bound to the caller's IO, workspace and
// weights page buffers; im2col tiles, packed panels and Winograd's
// transformed patches use per-worker scratch owned by the Workers. That
// scratch is all the CPU needs beyond the plan's workspace; it is kept
// separate because it is a property of this executor, not of the model.
// What New keeps of the weights is the filters of Winograd's convolutions
// transformed (16 floats for every 9), made once rather than at each run
// and shared by every executor of the same filters (filters.go): a
// worker's copies of a model, and its batch sizes, hold one transform of
// each convolution.
//
// Executor.Profile runs a plan as Run does, timing each op apart
// (clockwork-bench ops prints it): where a model's time goes, and how near
// its convolutions run to the CPU's peak.
package cpuexec
