//go:build linux && cgo

package cuda

import (
	"errors"
	"fmt"
	"math"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/engine"
)

// step is an engine op prepared for one GPU: its cuDNN descriptors and
// chosen algorithm, or the geometry of its kernel. enqueue queues it on
// the builder's stream with the tensors where m puts them; it runs at
// Load (eagerly, then captured) and at LoadWeights (captured).
type step interface {
	enqueue(b *builder, k *kernels, m *binding) error
	destroy()
}

// binding says where a variant's tensors live: weights page i of the
// model at pages[i], the IO region at slot, the activations at ws, the
// cuDNN workspace at conv and cuBLAS's at blas (set on the handle).
type binding struct {
	pages    []cu.DevicePtr
	slot, ws cu.DevicePtr
	conv     cu.DevicePtr
	convSize uint64
	blas     cu.DevicePtr
	blasSize uint64
	zeros    cu.DevicePtr
}

func (m *binding) addr(t engine.TensorRef) cu.DevicePtr {
	switch t.Region {
	case engine.Weights:
		return m.pages[t.Page].Add(uint64(t.Offset))
	case engine.IO:
		return m.slot.Add(uint64(t.Offset))
	case engine.Workspace:
		return m.ws.Add(uint64(t.Offset))
	}
	return 0
}

// opt is addr for an optional operand: 0 where it is absent.
func (m *binding) opt(t engine.TensorRef) cu.DevicePtr {
	if !t.Present() {
		return 0
	}
	return m.addr(t)
}

// errUnsupported marks an op the GPU engine cannot run; Load answers 41.
var errUnsupported = errors.New("not supported on the GPU")

// compile prepares the ops of p. pages is the number of weights pages.
func compile(p *engine.Plan, pages int, tf32 bool) ([]step, error) {
	var steps []step
	fail := func(op engine.Op, err error) ([]step, error) {
		for _, s := range steps {
			s.destroy()
		}
		return nil, fmt.Errorf("%s op %q: %w", op.Kind(), op.Source(), err)
	}
	for _, op := range p.Ops {
		for _, t := range append(op.Reads(), op.Writes()) {
			if err := checkRef(p, t, pages); err != nil {
				return fail(op, err)
			}
		}
		s, err := newStep(op, tf32)
		if err != nil {
			return fail(op, err)
		}
		steps = append(steps, s)
	}
	return steps, nil
}

// The kernels index in 32 bits: a tensor's elements, plus the stride of a
// grid (at most 2^24 threads: kernels.grid's maxBlocks of 16 blocks an SM
// for up to 4,096 SMs), stay below 2^31, and the global average pool's
// thread index (32 a plane) below 2^32.
const (
	maxElems     = math.MaxInt32 - 1<<24
	maxGAPPlanes = 1 << 26
)

// checkRef checks that t lies inside its region and that the kernels'
// 32-bit indices reach all of it.
func checkRef(p *engine.Plan, t engine.TensorRef, pages int) error {
	end := t.Offset + t.Bytes()
	var size int64
	switch t.Region {
	case engine.IO:
		size = p.IOBytes
	case engine.Workspace:
		size = p.WorkspaceBytes
	case engine.Weights:
		if t.Page < 0 || t.Page >= pages {
			return fmt.Errorf("tensor %v: no weights page %d", t, t.Page)
		}
		size = math.MaxInt64
	default:
		return fmt.Errorf("tensor %v: invalid region", t)
	}
	if t.Offset < 0 || t.Offset%4 != 0 || end > size {
		return fmt.Errorf("tensor %v outside its region", t)
	}
	if t.Elems() > maxElems {
		return fmt.Errorf("tensor %v has %d elements: %w (%d at most)", t, t.Elems(), errUnsupported, maxElems)
	}
	return nil
}

func newStep(op engine.Op, tf32 bool) (step, error) {
	switch o := op.(type) {
	case *engine.Conv:
		return newConvStep(o, tf32)
	case *engine.Gemm:
		return &gemmStep{op: o}, nil
	case *engine.Pool:
		return newPoolStep(o)
	case *engine.GlobalPool:
		return newGAPStep(o)
	case *engine.Binary:
		return newBinaryStep(o)
	case *engine.Affine:
		return newAffineStep(o)
	case *engine.Activate:
		return &actStep{x: o.X, y: o.Y, act: o.Act}, nil
	case *engine.Concat:
		return newConcatStep(o)
	case *engine.Softmax:
		return newSoftmaxStep(o)
	case *engine.Pad:
		return newPadStep(o)
	case *engine.LayerNorm:
		return newLayerNormStep(o)
	case *engine.BatchMatMul:
		return newBatchMatMulStep(o)
	case *engine.Resize:
		return newResizeStep(o)
	case *engine.LRN:
		return newLRNStep(o)
	case *engine.ConvTranspose:
		return newConvTransposeStep(o)
	case *engine.Copy:
		if o.X.Bytes() != o.Y.Bytes() {
			return nil, fmt.Errorf("copy of %v into %v", o.X, o.Y)
		}
		return &copyStep{op: o}, nil
	}
	return nil, fmt.Errorf("op %T: %w", op, errUnsupported)
}

// poolStep is cudnnPoolingForward: symmetric padding narrower than the
// window, no dilation and the output size cuDNN computes (ONNX's floor).
// Other pools are poolKernelSteps.
type poolStep struct {
	op   *engine.Pool
	x, y cu.TensorDesc
	pool cu.PoolingDesc
}

func newPoolStep(o *engine.Pool) (step, error) {
	x, y := o.X.Shape, o.Y.Shape
	if len(x) != 4 || len(y) != 4 || x[0] != y[0] || x[1] != y[1] || o.KernelH < 1 || o.KernelW < 1 ||
		o.StrideH < 1 || o.StrideW < 1 || o.DilationH < 1 || o.DilationW < 1 {
		return nil, fmt.Errorf("pooling X%v into Y%v with kernel %dx%d, strides %d,%d, dilations %d,%d",
			x, y, o.KernelH, o.KernelW, o.StrideH, o.StrideW, o.DilationH, o.DilationW)
	}
	if o.DilationH != 1 || o.DilationW != 1 || o.PadTop != o.PadBottom || o.PadLeft != o.PadRight ||
		o.PadTop >= o.KernelH || o.PadLeft >= o.KernelW ||
		y[2] != (x[2]+2*o.PadTop-o.KernelH)/o.StrideH+1 || y[3] != (x[3]+2*o.PadLeft-o.KernelW)/o.StrideW+1 {
		return &poolKernelStep{op: o}, nil
	}
	mode := cu.PoolMax
	if o.Mode == engine.PoolAvg {
		mode = cu.PoolAvgExcludePadding
		if o.CountIncludePad {
			mode = cu.PoolAvgIncludePadding
		}
	}
	s := &poolStep{op: o}
	var err error
	if s.x, err = tensor4d(x); err != nil {
		return nil, err
	}
	if s.y, err = tensor4d(y); err != nil {
		return nil, err
	}
	if s.pool, err = cu.NewPoolingDesc(); err != nil {
		return nil, err
	}
	if err := s.pool.Set2d(mode, cu.NotPropagateNaN, o.KernelH, o.KernelW, o.PadTop, o.PadLeft, o.StrideH, o.StrideW); err != nil {
		s.destroy()
		return nil, err
	}
	return s, nil
}

func (s *poolStep) enqueue(b *builder, k *kernels, m *binding) error {
	return b.dnn.PoolingForward(s.pool, 1, s.x, m.addr(s.op.X), 0, s.y, m.addr(s.op.Y))
}

func (s *poolStep) destroy() {
	s.x.Destroy()
	s.y.Destroy()
	s.pool.Destroy()
}

// poolKernelStep is the pool2d kernel, for the pools cuDNN does not
// compute: ceil_mode, asymmetric or wide padding, dilation.
type poolKernelStep struct{ op *engine.Pool }

func (s *poolKernelStep) enqueue(b *builder, k *kernels, m *binding) error {
	return k.launchPool2d(b.s, &b.args, s.op, m.addr(s.op.X), m.addr(s.op.Y))
}

func (s *poolKernelStep) destroy() {}

// tensor4d describes a packed NCHW tensor.
func tensor4d(shape []int) (cu.TensorDesc, error) {
	d, err := cu.NewTensorDesc()
	if err != nil {
		return d, err
	}
	if err := d.Set4d(cu.FormatNCHW, cu.DataFloat, shape[0], shape[1], shape[2], shape[3]); err != nil {
		d.Destroy()
		return d, err
	}
	return d, nil
}

// gapStep is the global average pool kernel, a warp per plane.
type gapStep struct {
	op         *engine.GlobalPool
	planes, hw int
}

func newGAPStep(o *engine.GlobalPool) (step, error) {
	x := o.X.Shape
	if len(x) < 3 || x[0]*x[1] == 0 || o.Y.Elems() != x[0]*x[1] {
		return nil, fmt.Errorf("global average pool of X%v into Y%v", x, o.Y.Shape)
	}
	if x[0]*x[1] > maxGAPPlanes { // a warp a plane: 32 threads each in 32-bit indices
		return nil, fmt.Errorf("global average pool of %d planes: %w (%d at most)", x[0]*x[1], errUnsupported, maxGAPPlanes)
	}
	return &gapStep{op: o, planes: x[0] * x[1], hw: o.X.Elems() / (x[0] * x[1])}, nil
}

func (s *gapStep) enqueue(b *builder, k *kernels, m *binding) error {
	return k.launchGAP(b.s, &b.args, m.addr(s.op.X), m.addr(s.op.Y), s.planes, s.hw, s.op.Mode)
}

func (s *gapStep) destroy() {}

// binaryStep is the broadcasting elementwise kernel over up to
// binaryRank merged dimensions.
type binaryStep struct {
	op   *engine.Binary
	args binaryArgs
}

func newBinaryStep(o *engine.Binary) (step, error) {
	r := len(o.Dims)
	if r == 0 || r > binaryRank || len(o.StrideA) != r || len(o.StrideB) != r {
		return nil, fmt.Errorf("%s over %d dimensions, merged as far as they go: %w (%d at most)", o.Op, r, errUnsupported, binaryRank)
	}
	s := &binaryStep{op: o, args: binaryArgs{n: o.Y.Elems(), rank: r, op: o.Op, act: o.Act}}
	n, lastA, lastB := 1, 0, 0
	for i := range r {
		s.args.dims[i], s.args.sa[i], s.args.sb[i] = o.Dims[i], o.StrideA[i], o.StrideB[i]
		n *= o.Dims[i]
		lastA += (o.Dims[i] - 1) * o.StrideA[i]
		lastB += (o.Dims[i] - 1) * o.StrideB[i]
	}
	if n != s.args.n || lastA >= o.A.Elems() || lastB >= o.B.Elems() {
		return nil, fmt.Errorf("dims %v, strides %v, %v for A%v B%v Y%v", o.Dims, o.StrideA, o.StrideB, o.A.Shape, o.B.Shape, o.Y.Shape)
	}
	return s, nil
}

func (s *binaryStep) enqueue(b *builder, k *kernels, m *binding) error {
	a := s.args
	a.a, a.b, a.y = m.addr(s.op.A), m.addr(s.op.B), m.addr(s.op.Y)
	return k.launchBinary(b.s, &b.args, a)
}

func (s *binaryStep) destroy() {}

// affineStep is a batch normalization that was not folded: the channel
// kernel with scale and shift.
type affineStep struct {
	op                 *engine.Affine
	n, inner, channels int
}

func newAffineStep(o *engine.Affine) (step, error) {
	x := o.X.Shape
	if len(x) < 2 || x[0]*x[1] == 0 || o.Y.Elems() != o.X.Elems() || o.Scale.Elems() != x[1] || o.Shift.Elems() != x[1] {
		return nil, fmt.Errorf("affine of X%v into Y%v with scale%v shift%v", x, o.Y.Shape, o.Scale.Shape, o.Shift.Shape)
	}
	return &affineStep{op: o, n: o.X.Elems(), inner: o.X.Elems() / (x[0] * x[1]), channels: x[1]}, nil
}

func (s *affineStep) enqueue(b *builder, k *kernels, m *binding) error {
	o := s.op
	return k.launchChannelAct(b.s, &b.args, channelActArgs{x: m.addr(o.X), y: m.addr(o.Y), scale: m.addr(o.Scale),
		shift: m.addr(o.Shift), n: s.n, inner: max(1, s.inner), channels: s.channels, act: o.Act})
}

func (s *affineStep) destroy() {}

// actStep applies an activation elementwise.
type actStep struct {
	x, y engine.TensorRef
	act  engine.Activation
}

func (s *actStep) enqueue(b *builder, k *kernels, m *binding) error {
	return k.launchChannelAct(b.s, &b.args, channelActArgs{x: m.addr(s.x), y: m.addr(s.y), n: s.y.Elems(),
		inner: 1, channels: 1, act: s.act})
}

func (s *actStep) destroy() {}

// padStep is a Pad no convolution absorbed: pad2d, which writes the zeros
// too.
type padStep struct{ op *engine.Pad }

func newPadStep(o *engine.Pad) (step, error) {
	x, y := o.X.Shape, o.Y.Shape
	if len(x) != 4 || len(y) != 4 || x[0] != y[0] || x[1] != y[1] || min(o.Top, o.Left, o.Bottom, o.Right) < 0 ||
		y[2] != o.Top+x[2]+o.Bottom || y[3] != o.Left+x[3]+o.Right {
		return nil, fmt.Errorf("pad of X%v into Y%v by %d, %d, %d, %d", x, y, o.Top, o.Left, o.Bottom, o.Right)
	}
	return &padStep{op: o}, nil
}

func (s *padStep) enqueue(b *builder, k *kernels, m *binding) error {
	o := s.op
	return k.launchPad2d(b.s, &b.args, m.addr(o.X), m.addr(o.Y), o.X.Shape, o.Y.Shape, o.Top, o.Left)
}

func (s *padStep) destroy() {}

// convTransposeStep is conv_transpose, a thread per output. (cuDNN's
// backward-data convolution computes the same and would be faster for
// large layers; it needs bindings and a fakecuda twin of its own.)
type convTransposeStep struct{ op *engine.ConvTranspose }

func newConvTransposeStep(o *engine.ConvTranspose) (step, error) {
	x, w, y := o.X.Shape, o.W.Shape, o.Y.Shape
	if len(x) != 4 || len(w) != 4 || len(y) != 4 || o.Groups < 1 || x[1]%o.Groups != 0 || w[0] != x[1] ||
		y[0] != x[0] || y[1] != w[1]*o.Groups || o.StrideH < 1 || o.StrideW < 1 || o.DilationH < 1 || o.DilationW < 1 ||
		o.B.Present() && o.B.Elems() != y[1] {
		return nil, fmt.Errorf("transposed convolution of X%v by W%v into Y%v, %d groups", x, w, y, o.Groups)
	}
	return &convTransposeStep{op: o}, nil
}

func (s *convTransposeStep) enqueue(b *builder, k *kernels, m *binding) error {
	o := s.op
	return k.launchConvTranspose(b.s, &b.args, m.addr(o.X), m.addr(o.W), m.addr(o.B), m.addr(o.Y), o)
}

func (s *convTransposeStep) destroy() {}

// lrnStep is lrn, a thread per element.
type lrnStep struct{ op *engine.LRN }

func newLRNStep(o *engine.LRN) (step, error) {
	if len(o.X.Shape) < 3 || o.X.Elems() != o.Y.Elems() || o.Size < 1 {
		return nil, fmt.Errorf("LRN of size %d over X%v into Y%v", o.Size, o.X.Shape, o.Y.Shape)
	}
	return &lrnStep{op: o}, nil
}

func (s *lrnStep) enqueue(b *builder, k *kernels, m *binding) error {
	return k.launchLRN(b.s, &b.args, m.addr(s.op.X), m.addr(s.op.Y), s.op)
}

func (s *lrnStep) destroy() {}

// resizeStep is resize2d, a thread per output.
type resizeStep struct{ op *engine.Resize }

func newResizeStep(o *engine.Resize) (step, error) {
	x, y := o.X.Shape, o.Y.Shape
	if len(x) != 4 || len(y) != 4 || x[0] != y[0] || x[1] != y[1] || o.Table.Elems() != 3*(y[2]+y[3]) {
		return nil, fmt.Errorf("resize of X%v into Y%v with a table of %d", x, y, o.Table.Elems())
	}
	return &resizeStep{op: o}, nil
}

func (s *resizeStep) enqueue(b *builder, k *kernels, m *binding) error {
	o := s.op
	return k.launchResize2d(b.s, &b.args, m.addr(o.X), m.addr(o.Y), m.addr(o.Table), o.X.Shape, o.Y.Shape)
}

func (s *resizeStep) destroy() {}

// layerNormStep is layer_norm, a warp per row.
type layerNormStep struct{ op *engine.LayerNorm }

func newLayerNormStep(o *engine.LayerNorm) (step, error) {
	if o.Outer < 1 || o.Len < 1 || o.Outer*o.Len != o.X.Elems() || o.X.Elems() != o.Y.Elems() ||
		o.Scale.Present() && o.Scale.Elems() != o.Len || o.Bias.Present() && o.Bias.Elems() != o.Len {
		return nil, fmt.Errorf("layer norm of %d×%d over X%v, scale%v, bias%v", o.Outer, o.Len, o.X.Shape, o.Scale.Shape, o.Bias.Shape)
	}
	return &layerNormStep{op: o}, nil
}

func (s *layerNormStep) enqueue(b *builder, k *kernels, m *binding) error {
	o := s.op
	return k.launchLayerNorm(b.s, &b.args, m.addr(o.X), m.addr(o.Y), m.addr(o.Scale), m.addr(o.Bias), o.Outer, o.Len, o.Epsilon)
}

func (s *layerNormStep) destroy() {}

// concatStep copies its inputs into Y, up to 32 per kernel launch.
type concatStep struct {
	op          *engine.Concat
	outer, yRow int
	parts       []concatPart // x filled in at enqueue
	xs          []engine.TensorRef
}

func newConcatStep(o *engine.Concat) (step, error) {
	y := o.Y.Shape
	if o.Axis < 0 || o.Axis >= len(y) || len(o.Xs) == 0 {
		return nil, fmt.Errorf("concat on axis %d of Y%v", o.Axis, y)
	}
	inner := 1
	for _, d := range y[o.Axis+1:] {
		inner *= d
	}
	s := &concatStep{op: o, outer: 1, yRow: y[o.Axis] * inner}
	for _, d := range y[:o.Axis] {
		s.outer *= d
	}
	start := 0
	for _, x := range o.Xs {
		if len(x.Shape) != len(y) || x.Elems() != s.outer*x.Shape[o.Axis]*inner {
			return nil, fmt.Errorf("concat of X%v into Y%v", x.Shape, y)
		}
		s.parts = append(s.parts, concatPart{block: x.Shape[o.Axis] * inner, start: start})
		s.xs = append(s.xs, x)
		start += x.Shape[o.Axis] * inner
	}
	if start != s.yRow || s.outer*s.yRow != o.Y.Elems() {
		return nil, fmt.Errorf("concat inputs do not fill Y%v", y)
	}
	return s, nil
}

func (s *concatStep) enqueue(b *builder, k *kernels, m *binding) error {
	for i, x := range s.xs {
		s.parts[i].x = m.addr(x)
	}
	y := m.addr(s.op.Y)
	for i := 0; i < len(s.parts); i += concatParts {
		parts := s.parts[i:min(len(s.parts), i+concatParts)]
		if err := k.launchConcat(b.s, &b.args, b.buf, y, s.outer, s.yRow, parts); err != nil {
			return err
		}
	}
	return nil
}

func (s *concatStep) destroy() {}

// softmaxStep is cudnnSoftmaxForward over the channels of an
// [Outer, Len, Inner, 1] tensor (CUDNN_SOFTMAX_LOG for LogSoftmax).
type softmaxStep struct {
	op   *engine.Softmax
	desc cu.TensorDesc
}

func newSoftmaxStep(o *engine.Softmax) (step, error) {
	if o.Outer < 1 || o.Len < 1 || o.Inner < 1 || o.Outer*o.Len*o.Inner != o.X.Elems() || o.X.Elems() != o.Y.Elems() {
		return nil, fmt.Errorf("softmax of %d×%d×%d over X%v", o.Outer, o.Len, o.Inner, o.X.Shape)
	}
	d, err := tensor4d([]int{o.Outer, o.Len, o.Inner, 1})
	if err != nil {
		return nil, err
	}
	return &softmaxStep{op: o, desc: d}, nil
}

func (s *softmaxStep) enqueue(b *builder, k *kernels, m *binding) error {
	algo := cu.SoftmaxAccurate
	if s.op.Log {
		algo = cu.SoftmaxLog
	}
	return b.dnn.SoftmaxForward(algo, cu.SoftmaxChannel, 1, s.desc, m.addr(s.op.X), 0, s.desc, m.addr(s.op.Y))
}

func (s *softmaxStep) destroy() { s.desc.Destroy() }

// copyStep copies a tensor (captured as a memcpy node).
type copyStep struct{ op *engine.Copy }

func (s *copyStep) enqueue(b *builder, k *kernels, m *binding) error {
	return cu.MemcpyDtoDAsync(m.addr(s.op.Y), m.addr(s.op.X), uint64(s.op.Y.Bytes()), b.s)
}

func (s *copyStep) destroy() {}
