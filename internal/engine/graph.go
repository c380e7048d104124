package engine

// The import builds a small graph of its own from the ONNX one: values
// (graph inputs, constants known at import, node outputs) and nodes in
// execution order. Fusion rewrites it in place; Plan turns it into Ops for
// one batch size.

type valueKind uint8

const (
	valInput valueKind = iota // a graph input; shape from the file, batch first
	valConst                  // a constant: initializer, Constant node or folded
	valNode                   // the output of a node
)

type value struct {
	name  string
	kind  valueKind
	input int     // index in Model.Inputs (valInput)
	c     *tensor // valConst
	prod  int     // producing node (valNode)
	err   error   // why a constant could not be decoded; reported when used
}

// tensor is a constant. Float constants may become weights; integer ones
// only parameterise nodes at import (Reshape shapes, Clip bounds).
//
// An integer constant computed from a tensor's shape (Shape and the shape
// arithmetic after it, folded at import) may depend on the batch size:
// its element k is i64[k] + perBatch[k] × batch. perBatch is nil when no
// element depends on it.
type tensor struct {
	dims     []int
	dtype    int32     // onnx.TensorProto_DataType
	f32      []float32 // FLOAT
	i64      []int64   // INT64, INT32 (widened), BOOL
	perBatch []int64   // with i64, see above
}

type nodeKind uint8

const (
	nConv nodeKind = iota
	nGemm
	nPool
	nGlobalPool
	nBinary
	nAffine
	nActivate
	nConcat
	nSoftmax
	nTranspose // runs as a Binary: Y = X·1, X read with its strides permuted
	nPad
	nLayerNorm
	nBatchMatMul // MatMul whose B is computed
	nExpand      // runs as a Binary: Y = X·1, X read with strides 0 where it repeats
	nResize
	nLRN
	nConvTranspose
	nSlice // Slice, Split, Gather (a run of its indices): a Binary too, X·1 read from its first element with strides
	nView  // Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout, Cast to float: the output aliases the input
)

// node is one operation. Inputs are value indices, -1 for an absent
// optional input. Conv: X, W, B, Z. Gemm: A, B, C. Affine: X, scale,
// shift. LayerNorm: X, scale, bias (or -1). Resize: X, its table. Binary: A, B. Transpose, Slice: X, the constant 1. Others:
// their data inputs.
type node struct {
	kind          nodeKind
	op            string // ONNX op_type, for errors
	name          string // ONNX node name(s), "+"-joined once fused
	in            []int
	out           int
	dead          bool
	conv          convParams // Conv's, and ConvTranspose's
	deconv        deconvParams
	pool          poolParams
	gemm          gemmParams
	act           Activation
	binop         BinaryOp
	axis          int     // Concat, Softmax, Flatten, LayerNormalization
	epsilon       float32 // LayerNormalization
	legacySoftmax bool    // Softmax before opset 13: normalise over all dims from axis
	logSoftmax    bool    // LogSoftmax: the log of the Softmax
	shape         []int   // Reshape target (0 and -1 resolved per plan), nil for Flatten; Expand's
	shapeBatch    []int   // with shape: target[i] = shape[i] + shapeBatch[i] × batch; nil if none depends on it
	view          viewKind
	zero          bool  // Reshape allowzero
	axes          []int // a reduction's (the last ones, reduceLast), Squeeze's and Unsqueeze's, as given
	perm          []int // Transpose's, nil to reverse the axes
	pads          []int // Pad's, as given: begins then ends, of every axis or of axes
	slice         sliceArgs
	gather        *gatherArgs // a Gather's (nSlice), nil for a Slice or Split
	batchAxes     []bool      // nSlice: the axes of its input whose size depends on the batch size, which it may not cut
	resize        resizeArgs
	lrn           LRN  // its parameters (Size, Alpha, Beta, Bias)
	squeeze       bool // a reduction with keepdims 0: the output drops its axes
	// lifted marks a 1-D Conv, ConvTranspose or pool, read and computed
	// as the 2-D one of height 1 (spatial.go).
	lifted bool
}

// become makes n nd, keeping n's ONNX op and name: a node that reads as
// others added before it and one of its own.
func (n *node) become(nd node) {
	nd.op, nd.name = n.op, n.name
	*n = nd
}

type viewKind uint8

const (
	viewIdentity viewKind = iota
	viewFlatten
	viewReshape
	viewSqueeze
	viewUnsqueeze
)

type convParams struct {
	group     int
	kernel    []int // from the attribute; checked against W
	strides   [2]int
	dilations [2]int
	pads      [4]int // top, left, bottom, right
	autoPad   string
}

type poolParams struct {
	mode            PoolMode
	kernel          [2]int
	strides         [2]int
	dilations       [2]int
	pads            [4]int
	autoPad         string
	ceil            bool
	countIncludePad bool
}

type gemmParams struct {
	transA, transB bool
	alpha, beta    float32
	matmul         bool // MatMul: A of any rank ≥ 2, output A.shape[:-1] + [N]
}

// gatherArgs are a Gather of one constant index: the element index along
// axis, that axis dropped if the index is a scalar.
type gatherArgs struct {
	index  int64
	axis   int
	scalar bool
}
