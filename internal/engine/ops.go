package engine

import "fmt"

// OpKind names the concrete type of an Op.
type OpKind uint8

// Op kinds, one per concrete Op type.
const (
	KindConv          OpKind = iota + 1 // *Conv
	KindGemm                            // *Gemm
	KindPool                            // *Pool
	KindGlobalPool                      // *GlobalPool
	KindBinary                          // *Binary
	KindAffine                          // *Affine
	KindActivate                        // *Activate
	KindConcat                          // *Concat
	KindSoftmax                         // *Softmax
	KindCopy                            // *Copy
	KindPad                             // *Pad
	KindLayerNorm                       // *LayerNorm
	KindBatchMatMul                     // *BatchMatMul
	KindResize                          // *Resize
	KindLRN                             // *LRN
	KindConvTranspose                   // *ConvTranspose
)

var kindNames = [...]string{"", "Conv", "Gemm", "Pool", "GlobalPool", "Binary", "Affine", "Activate", "Concat", "Softmax", "Copy", "Pad", "LayerNorm", "BatchMatMul", "Resize", "LRN", "ConvTranspose"}

func (k OpKind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("OpKind(%d)", uint8(k))
}

// Op is one step of a Plan. Ops run in order; an op's output never overlaps
// its inputs. Use a type switch on the concrete types listed at OpKind.
type Op interface {
	Kind() OpKind
	// Source names the ONNX node or nodes the op computes, joined by "+"
	// when import fused several.
	Source() string
	// Reads lists the tensors the op reads, absent ones omitted.
	Reads() []TensorRef
	// Writes is the tensor the op writes.
	Writes() TensorRef
}

// Conv is a 2-D convolution with bias, residual and activation fused:
//
//	Y = Act(conv(X, W) + B + Z)
//
// as cudnnConvolutionBiasActivationForward computes it (with alpha1 = alpha2
// = 1). X is [N, C, H, W], W is [M, C/Groups, KernelH, KernelW], B (optional)
// is [M], Z (optional) and Y are [N, M, OH, OW]. BatchNormalization has been
// folded into W and B. Padding is explicit (auto_pad is resolved).
type Conv struct {
	Nodes                                string
	X, W, B, Z, Y                        TensorRef
	Groups                               int
	KernelH, KernelW                     int
	StrideH, StrideW                     int
	DilationH, DilationW                 int
	PadTop, PadLeft, PadBottom, PadRight int
	Act                                  Activation
}

// Gemm computes columns [N0, N0+N) of a row-major M×LDY matrix Y:
//
//	Y[i, N0+j] = Act(Alpha · Σk opA[i,k]·opB[k,j] + Beta · C[i, N0+j])
//
// opA is A (M×K, row stride LDA) or, with TransA, Aᵀ where A is K×M. opB is
// B (K×N, row stride LDB) or, with TransB, Bᵀ where B is N×K. A may have any
// rank (MatMul flattens its leading dimensions into M). C is optional and
// broadcast over Y: element C[i, n] is at CRowStride·i + CColStride·n (a
// stride of 0 repeats it), so a bias row has strides (0, 1). A weight too
// large for one page is split by columns into several Gemm ops that each
// hold one part in B and write their own columns of the same Y; N0 is 0 and
// N = LDY when it is not split.
type Gemm struct {
	Nodes                  string
	A, B, C, Y             TensorRef
	M, N, K                int
	N0                     int
	TransA, TransB         bool
	LDA, LDB, LDY          int
	Alpha, Beta            float32
	CRowStride, CColStride int
	Act                    Activation
}

// BatchMatMul multiplies Batch pairs of row-major matrices, an ONNX
// MatMul of two computed tensors (attention's Q·Kᵀ and P·V):
//
//	Y[i] = Alpha · A[i] · op(B[i]) for i < Batch
//
// A[i] is M×K at element i·StrideA of A; B[i] is K×N, or with TransB N×K
// (op transposes it), at i·StrideB of B (a stride of 0 repeats one
// matrix); Y[i] is M×N at i·M·N of Y. Import folds a Transpose of B's last
// two axes into TransB and scalar factors of A and B into Alpha.
type BatchMatMul struct {
	Nodes            string
	A, B, Y          TensorRef
	Batch, M, N, K   int
	StrideA, StrideB int
	TransB           bool
	Alpha            float32
}

// Resize scales each plane of X [N, C, H, W] to Y [N, C, OH, OW] by a
// table of OH rows then OW columns of three floats each, (i0, i1, w):
// output row oy reads input rows i0 and i1 of its entry with weights 1 − w
// and w, and columns likewise; the result is the weighted sum of the four
// elements, with w = 0 taking i0's alone (nearest).
type Resize struct {
	Nodes       string
	X, Table, Y TensorRef
}

// LRN is local response normalisation across the channels of X [N, C,
// spatial...], as ONNX's:
//
//	Y[n, c, s] = X[n, c, s] / (Bias + Alpha/Size · Σ X[n, i, s]²)^Beta
//
// over channels i from c − ⌊(Size−1)/2⌋ to c + ⌈(Size−1)/2⌉ within [0, C).
type LRN struct {
	Nodes             string
	X, Y              TensorRef
	Size              int
	Alpha, Beta, Bias float32
}

// ConvTranspose is a 2-D transposed convolution with bias and activation:
//
//	Y[n, m, oy, ox] = Act(B[m] + Σ X[n, c, iy, ix] · W[c, m − g·M/G, ky, kx])
//
// over the channels c of m's group g and the (iy, ix, ky, kx) with
// oy = iy·StrideH − PadTop + ky·DilationH (and ox likewise). X is [N, C,
// H, W], W [C, M/Groups, KernelH, KernelW], B (optional) [M], Y [N, M, OH,
// OW]; OH and OW (Y's) already account for the end pads and
// output_padding.
type ConvTranspose struct {
	Nodes                string
	X, W, B, Y           TensorRef
	Groups               int
	KernelH, KernelW     int
	StrideH, StrideW     int
	DilationH, DilationW int
	PadTop, PadLeft      int
	Act                  Activation
}

// PoolMode is max or average pooling.
type PoolMode uint8

// Pooling modes.
const (
	PoolMax PoolMode = iota
	PoolAvg
	PoolSum // GlobalPool only: ReduceSum
)

func (m PoolMode) String() string {
	switch m {
	case PoolMax:
		return "max"
	case PoolSum:
		return "sum"
	}
	return "avg"
}

// Pool is 2-D max or average pooling of X [N, C, H, W] into Y [N, C, OH,
// OW]. Window (oh, ow) covers input rows oh·StrideH − PadTop + kh·DilationH
// for kh < KernelH, and columns likewise. Max pooling ignores positions
// outside the input. Average pooling divides by the number of positions
// inside the input, or with CountIncludePad inside the padded input
// [−PadTop, H+PadBottom) × [−PadLeft, W+PadRight).
type Pool struct {
	Nodes                                string
	Mode                                 PoolMode
	X, Y                                 TensorRef
	KernelH, KernelW                     int
	StrideH, StrideW                     int
	DilationH, DilationW                 int
	PadTop, PadLeft, PadBottom, PadRight int
	CountIncludePad                      bool
}

// GlobalPool averages each channel of X [N, C, spatial...] into Y
// [N, C, 1, ...], or any Y of N·C elements, or takes its maximum (Mode
// PoolMax: GlobalMaxPool) or sum (PoolSum). A ReduceMean, ReduceMax or
// ReduceSum over the last axes from k is one with X viewed as [the
// elements before k, 1, the rest].
type GlobalPool struct {
	Nodes string
	Mode  PoolMode
	X, Y  TensorRef
}

// BinaryOp is an elementwise arithmetic operator.
type BinaryOp uint8

// Binary operators.
const (
	Add BinaryOp = iota
	Mul
	Sub
	Div
	Max // the larger, NaN where either is NaN
	Min // the smaller, NaN where either is NaN
)

func (o BinaryOp) String() string {
	switch o {
	case Add:
		return "add"
	case Mul:
		return "mul"
	case Sub:
		return "sub"
	case Max:
		return "max"
	case Min:
		return "min"
	}
	return "div"
}

// Apply computes a op b.
func (o BinaryOp) Apply(a, b float32) float32 {
	switch o {
	case Add:
		return a + b
	case Mul:
		return a * b
	case Sub:
		return a - b
	case Max:
		if a > b || a != a {
			return a
		}
		return b
	case Min:
		if a < b || a != a {
			return a
		}
		return b
	}
	return a / b
}

// Binary computes Y = Act(A op B) with numpy broadcasting. Dims is Y's shape
// with adjacent dimensions merged where both operands broadcast alike, and
// StrideA, StrideB are the operands' element strides over Dims (0 where an
// operand is broadcast): element (i0, i1, ...) of Y is
// A[Σ i·StrideA] op B[Σ i·StrideB]. A per-channel operand on [N, C, H, W]
// gives Dims [N, C, H·W] and strides [0, 1, 0].
type Binary struct {
	Nodes            string
	Op               BinaryOp
	A, B, Y          TensorRef
	Dims             []int
	StrideA, StrideB []int
	Act              Activation
}

// Affine is a BatchNormalization that could not be folded into a
// convolution: Y[n, c, ...] = Act(X[n, c, ...]·Scale[c] + Shift[c]) with X
// and Y [N, C, ...] and Scale, Shift [C].
type Affine struct {
	Nodes              string
	X, Scale, Shift, Y TensorRef
	Act                Activation
}

// Activate applies Act elementwise: Y = Act(X).
type Activate struct {
	Nodes string
	X, Y  TensorRef
	Act   Activation
}

// Concat joins Xs along Axis into Y. All shapes agree except on Axis.
type Concat struct {
	Nodes string
	Xs    []TensorRef
	Y     TensorRef
	Axis  int
}

// Softmax normalises X into Y over groups of Len elements Inner apart:
// viewing X as [Outer, Len, Inner], Y[o, :, i] = softmax(X[o, :, i]), or
// its log with Log (LogSoftmax: x − max − log Σ exp(x − max), which stays
// finite where the softmax underflows to 0).
type Softmax struct {
	Nodes             string
	X, Y              TensorRef
	Outer, Len, Inner int
	Log               bool
}

// LayerNorm normalises each of Outer rows of Len elements of X to mean 0
// and variance 1, then scales and shifts it elementwise:
//
//	Y[o, j] = (X[o, j] − mean_o) / √(var_o + Epsilon) · Scale[j] + Bias[j]
//
// with the variance biased (divided by Len), as ONNX's LayerNormalization.
// Scale and Bias have Len elements; either is optional (absent: 1, 0), as
// in the instance normalisation that InstanceNormalization starts with.
type LayerNorm struct {
	Nodes             string
	X, Scale, Bias, Y TensorRef
	Outer, Len        int
	Epsilon           float32
}

// Copy copies X into Y (same number of elements). Import adds one where a
// graph output is not computed in place: a view, an input, a constant, or a
// tensor that is also another output.
type Copy struct {
	Nodes string
	X, Y  TensorRef
}

// Pad copies X, [N, C, H, W], into Y, [N, C, Top+H+Bottom, Left+W+Right],
// with zeros around it: an ONNX Pad of zeros over the spatial axes that
// no convolution or average pool after it absorbed into its own padding.
type Pad struct {
	Nodes                    string
	X, Y                     TensorRef
	Top, Left, Bottom, Right int
}

func present(ts ...TensorRef) []TensorRef {
	out := make([]TensorRef, 0, len(ts))
	for _, t := range ts {
		if t.Present() {
			out = append(out, t)
		}
	}
	return out
}

func (o *Conv) Kind() OpKind          { return KindConv }
func (o *Gemm) Kind() OpKind          { return KindGemm }
func (o *Pool) Kind() OpKind          { return KindPool }
func (o *GlobalPool) Kind() OpKind    { return KindGlobalPool }
func (o *Binary) Kind() OpKind        { return KindBinary }
func (o *Affine) Kind() OpKind        { return KindAffine }
func (o *Activate) Kind() OpKind      { return KindActivate }
func (o *Concat) Kind() OpKind        { return KindConcat }
func (o *Softmax) Kind() OpKind       { return KindSoftmax }
func (o *Copy) Kind() OpKind          { return KindCopy }
func (o *Pad) Kind() OpKind           { return KindPad }
func (o *LayerNorm) Kind() OpKind     { return KindLayerNorm }
func (o *BatchMatMul) Kind() OpKind   { return KindBatchMatMul }
func (o *Resize) Kind() OpKind        { return KindResize }
func (o *LRN) Kind() OpKind           { return KindLRN }
func (o *ConvTranspose) Kind() OpKind { return KindConvTranspose }

func (o *Conv) Source() string          { return o.Nodes }
func (o *Gemm) Source() string          { return o.Nodes }
func (o *Pool) Source() string          { return o.Nodes }
func (o *GlobalPool) Source() string    { return o.Nodes }
func (o *Binary) Source() string        { return o.Nodes }
func (o *Affine) Source() string        { return o.Nodes }
func (o *Activate) Source() string      { return o.Nodes }
func (o *Concat) Source() string        { return o.Nodes }
func (o *Softmax) Source() string       { return o.Nodes }
func (o *Copy) Source() string          { return o.Nodes }
func (o *Pad) Source() string           { return o.Nodes }
func (o *LayerNorm) Source() string     { return o.Nodes }
func (o *BatchMatMul) Source() string   { return o.Nodes }
func (o *Resize) Source() string        { return o.Nodes }
func (o *LRN) Source() string           { return o.Nodes }
func (o *ConvTranspose) Source() string { return o.Nodes }

func (o *Conv) Reads() []TensorRef          { return present(o.X, o.W, o.B, o.Z) }
func (o *Gemm) Reads() []TensorRef          { return present(o.A, o.B, o.C) }
func (o *Pool) Reads() []TensorRef          { return present(o.X) }
func (o *GlobalPool) Reads() []TensorRef    { return present(o.X) }
func (o *Binary) Reads() []TensorRef        { return present(o.A, o.B) }
func (o *Affine) Reads() []TensorRef        { return present(o.X, o.Scale, o.Shift) }
func (o *Activate) Reads() []TensorRef      { return present(o.X) }
func (o *Concat) Reads() []TensorRef        { return present(o.Xs...) }
func (o *Softmax) Reads() []TensorRef       { return present(o.X) }
func (o *Copy) Reads() []TensorRef          { return present(o.X) }
func (o *Pad) Reads() []TensorRef           { return present(o.X) }
func (o *LayerNorm) Reads() []TensorRef     { return present(o.X, o.Scale, o.Bias) }
func (o *BatchMatMul) Reads() []TensorRef   { return present(o.A, o.B) }
func (o *Resize) Reads() []TensorRef        { return present(o.X, o.Table) }
func (o *LRN) Reads() []TensorRef           { return present(o.X) }
func (o *ConvTranspose) Reads() []TensorRef { return present(o.X, o.W, o.B) }

func (o *Conv) Writes() TensorRef          { return o.Y }
func (o *Gemm) Writes() TensorRef          { return o.Y }
func (o *Pool) Writes() TensorRef          { return o.Y }
func (o *GlobalPool) Writes() TensorRef    { return o.Y }
func (o *Binary) Writes() TensorRef        { return o.Y }
func (o *Affine) Writes() TensorRef        { return o.Y }
func (o *Activate) Writes() TensorRef      { return o.Y }
func (o *Concat) Writes() TensorRef        { return o.Y }
func (o *Softmax) Writes() TensorRef       { return o.Y }
func (o *Copy) Writes() TensorRef          { return o.Y }
func (o *Pad) Writes() TensorRef           { return o.Y }
func (o *LayerNorm) Writes() TensorRef     { return o.Y }
func (o *BatchMatMul) Writes() TensorRef   { return o.Y }
func (o *Resize) Writes() TensorRef        { return o.Y }
func (o *LRN) Writes() TensorRef           { return o.Y }
func (o *ConvTranspose) Writes() TensorRef { return o.Y }
