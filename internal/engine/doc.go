// Package engine imports ONNX models into Clockwork's own execution format:
// a compact list of operators with static shapes for each batch size, the
// weights laid out in fixed-size pages, and a memory plan for activations.
//
// Clockwork serves models whose latency must be the same on every run, and
// loads and evicts their weights on demand. General-purpose runtimes do
// neither well (see the project's runtime notes), so the worker runs models
// with executors of its own that all consume the representation defined
// here: the CPU executor (package engine/cpuexec), which is the numerical
// reference, and the CUDA engine, which turns each Op into one cuDNN,
// cuBLAS or NVRTC kernel call captured into a CUDA graph.
//
// The flow is:
//
//	m, err := engine.Import(onnxBytes, engine.Options{PageSize: 16 << 20})
//	// m.Weights.Pages are copied into cache pages chosen by the worker
//	p, err := m.Plan(batch)
//	// p.Ops run in order; each TensorRef says where its tensor lives
//
// Every tensor an Op reads or writes lives in one of three places (Region):
// the weights (a page of the model's weights and a byte offset in it), the
// IO region of the batch (inputs from offset 0, outputs right after them, as
// in the original Clockwork), or the workspace of the batch (a byte offset;
// intermediate tensors whose lifetimes do not overlap share bytes). Weights
// never cross a page boundary, so the worker can put the model's pages
// anywhere in its page cache. A Plan is a pure description: it holds no
// memory and executors bind it to buffers at run time.
//
// Import folds BatchNormalization into the preceding convolution, a Pad of
// zeros into the convolution (or counting average pool) after it, and
// fuses Conv + bias + residual Add + Relu/Clip into one Conv op (what
// cuDNN's cudnnConvolutionBiasActivationForward computes), and activations
// into the Gemm, Add/Mul or BatchNormalization before them. Flatten,
// Reshape, Squeeze, Unsqueeze, Identity, Dropout and Cast to float are
// views and cost nothing. Shape arithmetic (Shape, then Gather, Slice,
// Concat, Squeeze, Unsqueeze, Cast, Add, Sub, Mul and Div on integers, as
// exporters write x.view(x.size(0), -1)) is folded at import into
// constants that may grow with the batch size (shapefold.go). Transpose,
// Slice, Split and Gather (a slice for each run of its indices) run as
// Binary ops (Y = X·1, X read from an offset with its strides permuted or
// stepped), which both executors already have. Operators beyond the op
// list are planned as its ops: 3-D convolutions and pools (volume.go),
// Einsum (einsum.go), LSTM, GRU and RNN unrolled over their sequence
// (recurrent.go), a convolution whose weights exceed a page split by
// output channels (splitconv.go). Only float32 tensors are computed. Any malformed
// or unsupported input yields an *Error; Import never panics, whatever the
// bytes.
package engine
