//go:build linux && cgo

package cuda

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/engine"
)

// convMode is how a convolution and its epilogue (bias, residual,
// activation) are computed.
type convMode uint8

const (
	// convFused is one cudnnConvolutionBiasActivationForward with ReLU,
	// or with identity (which cuDNN allows only with
	// IMPLICIT_PRECOMP_GEMM).
	convFused convMode = iota
	// convFusedThenAct is the fused call with identity followed by the
	// activation kernel in place (Clip, HardSigmoid, HardSwish).
	convFusedThenAct
	// convPlain is cudnnConvolutionForward followed by the channel
	// kernel adding bias and residual and applying the activation: for
	// an algorithm faster than IMPLICIT_PRECOMP_GEMM where the fused
	// call cannot use it.
	convPlain
	// convDepthwise is the runtime's own depthwise kernel with bias,
	// residual and activation.
	convDepthwise
	// convGemm computes a pointwise convolution (1×1, stride 1, no
	// padding, one group) as one cuBLAS GEMM per image, then the channel
	// kernel for bias, residual and activation.
	convGemm
)

var convModeNames = [...]string{"fused", "fused+act", "conv+epilogue", "depthwise", "gemm+epilogue"}

func (m convMode) String() string {
	if int(m) < len(convModeNames) {
		return convModeNames[m]
	}
	return fmt.Sprintf("mode %d", m)
}

// convChoice is the algorithm and mode of a convolution on one GPU.
type convChoice struct {
	algo cu.ConvFwdAlgo
	mode convMode
	ws   uint64 // cuDNN workspace bytes
	ms   float32
	// The algorithms cuDNN could not try for want of workspace, the most
	// any of them needs, and the workspace there was (the verbose log:
	// whether a larger workspace pool would open faster algorithms).
	short     []cu.ConvFwdAlgo
	shortNeed uint64
	room      uint64
}

func (c convChoice) String() string {
	switch c.mode {
	case convDepthwise:
		return "depthwise_conv"
	case convGemm:
		return "cublas/gemm+epilogue"
	}
	return fmt.Sprintf("%v/%v", c.algo, c.mode)
}

// library is whether the choice runs a cuDNN algorithm.
func (c convChoice) library() bool { return c.mode != convDepthwise && c.mode != convGemm }

// convStep is a convolution with its descriptors.
type convStep struct {
	op          *engine.Conv
	x, y, bias  cu.TensorDesc
	w           cu.FilterDesc
	conv        cu.ConvDesc
	relu, ident cu.ActivationDesc
	key         string // what algorithm choices are cached by
	choice      convChoice
	pad         *padding // for cuDNN and asymmetric padding; nil where cuDNN pads
}

// padding is the explicit padding of an asymmetrically padded
// convolution's input, which cuDNN's descriptors cannot express: pad2d
// copies X into the start of the convolution workspace with the rows and
// columns of zeros that the symmetric part of the padding (which cuDNN
// applies) leaves out, and cuDNN's workspace follows it. The depthwise
// kernel pads by itself.
type padding struct {
	shape     []int  // X padded
	top, left int    // zero rows above X and columns before it
	bytes     uint64 // the padded X's size, rounded up to poolAlign
}

func newConvStep(o *engine.Conv, tf32 bool) (step, error) {
	x, w, y := o.X.Shape, o.W.Shape, o.Y.Shape
	if len(x) != 4 || len(w) != 4 || len(y) != 4 || o.Groups < 1 {
		return nil, fmt.Errorf("convolution of X%v with W%v into Y%v", x, w, y)
	}
	// cuDNN's padding: the symmetric part.
	padH, padW := min(o.PadTop, o.PadBottom), min(o.PadLeft, o.PadRight)
	var pad *padding
	if o.PadTop != o.PadBottom || o.PadLeft != o.PadRight {
		xp := []int{x[0], x[1], x[2] + o.PadTop + o.PadBottom - 2*padH, x[3] + o.PadLeft + o.PadRight - 2*padW}
		n := xp[0] * xp[1] * xp[2] * xp[3]
		if n > maxElems {
			return nil, fmt.Errorf("X%v padded to %v: %w (%d elements at most)", x, xp, errUnsupported, maxElems)
		}
		pad = &padding{shape: xp, top: o.PadTop - padH, left: o.PadLeft - padW, bytes: alignUp(uint64(n)*4, poolAlign)}
	}
	if y[1]*4 > zeroBytes {
		return nil, fmt.Errorf("%d output channels: %w (%d at most)", y[1], errUnsupported, zeroBytes/4)
	}
	if o.B.Present() && o.B.Elems() != y[1] || o.Z.Present() && o.Z.Elems() != o.Y.Elems() {
		return nil, fmt.Errorf("bias%v or residual%v for Y%v", o.B.Shape, o.Z.Shape, y)
	}
	math := cu.MathFMA
	if tf32 {
		math = cu.MathDefault
	}
	s := &convStep{op: o, pad: pad}
	err := func() error {
		var err error
		xd := x // what cuDNN convolves
		if pad != nil {
			xd = pad.shape
		}
		if s.x, err = tensor4d(xd); err != nil {
			return err
		}
		if s.y, err = tensor4d(y); err != nil {
			return err
		}
		if s.bias, err = tensor4d([]int{1, y[1], 1, 1}); err != nil {
			return err
		}
		if s.w, err = cu.NewFilterDesc(); err != nil {
			return err
		}
		if s.conv, err = cu.NewConvDesc(); err != nil {
			return err
		}
		if s.relu, err = cu.NewActivationDesc(); err != nil {
			return err
		}
		if s.ident, err = cu.NewActivationDesc(); err != nil {
			return err
		}
		if err := errors.Join(
			s.w.Set4d(cu.DataFloat, cu.FormatNCHW, w[0], w[1], w[2], w[3]),
			s.conv.Set2d(padH, padW, o.StrideH, o.StrideW, o.DilationH, o.DilationW, cu.CrossCorrelation, cu.DataFloat),
			s.conv.SetGroupCount(o.Groups),
			s.conv.SetMathType(math),
			s.relu.Set(cu.ActivationRelu, cu.NotPropagateNaN, 0),
			s.ident.Set(cu.ActivationIdentity, cu.NotPropagateNaN, 0),
		); err != nil {
			return err
		}
		n, c, h, wd, err := s.conv.OutputDim2d(s.x, s.w)
		if err != nil {
			return err
		}
		if n != y[0] || c != y[1] || h != y[2] || wd != y[3] {
			return fmt.Errorf("cuDNN computes Y [%d %d %d %d], the plan has Y%v", n, c, h, wd, y)
		}
		return nil
	}()
	if err != nil {
		s.destroy()
		return nil, err
	}
	// The activation's kind is in the key: it decides which fused modes
	// compute the op (fusedMode). Asymmetric padding has all four.
	pads := fmt.Sprintf("%d,%d", o.PadTop, o.PadLeft)
	if pad != nil {
		pads = fmt.Sprintf("%d,%d,%d,%d", o.PadTop, o.PadLeft, o.PadBottom, o.PadRight)
	}
	s.key = fmt.Sprintf("conv x%v w%v pad%s stride%d,%d dilation%d,%d groups%d act=%v tf32=%v",
		x, w, pads, o.StrideH, o.StrideW, o.DilationH, o.DilationW, o.Groups, o.Act.Kind, tf32)
	return s, nil
}

func (s *convStep) destroy() {
	s.x.Destroy()
	s.y.Destroy()
	s.bias.Destroy()
	s.w.Destroy()
	s.conv.Destroy()
	s.relu.Destroy()
	s.ident.Destroy()
}

// operands is where the convolution library reads X from, and where its
// workspace is and how large: past the padded X (padding) where the
// padding is the step's, else the whole convolution workspace.
func (s *convStep) operands(m *binding) (x, ws cu.DevicePtr, room uint64, err error) {
	if s.pad == nil {
		return m.addr(s.op.X), m.conv, m.convSize, nil
	}
	if s.pad.bytes > m.convSize {
		return 0, 0, 0, fmt.Errorf("X padded to %v takes %d bytes of the convolution workspace, %d reserved",
			s.pad.shape, s.pad.bytes, m.convSize)
	}
	return m.conv, m.conv.Add(s.pad.bytes), m.convSize - s.pad.bytes, nil
}

// workspace is how much of the convolution workspace the step's choice
// takes: the padded X, if any, and cuDNN's.
func (s *convStep) workspace() uint64 {
	if s.pad == nil || s.choice.mode == convDepthwise {
		return s.choice.ws
	}
	return s.pad.bytes + s.choice.ws
}

func (s *convStep) enqueue(b *builder, k *kernels, m *binding) error {
	o, c := s.op, s.choice
	w, y := m.addr(o.W), m.addr(o.Y)
	if c.mode == convDepthwise {
		return k.launchDepthwise(b.s, &b.args, o, m.addr(o.X), w, m.opt(o.B), m.opt(o.Z), y)
	}
	x, ws, room, err := s.operands(m)
	if err != nil {
		return err
	}
	if c.ws > room {
		return fmt.Errorf("convolution needs %d bytes of workspace, %d reserved", c.ws, room)
	}
	if s.pad != nil {
		if err := k.launchPad2d(b.s, &b.args, m.addr(o.X), x, o.X.Shape, s.pad.shape, s.pad.top, s.pad.left); err != nil {
			return err
		}
	}
	if c.mode == convPlain || c.mode == convGemm {
		if c.mode == convGemm {
			// Per image, row-major Y[Cout×HW] = W[Cout×Cin]·X[Cin×HW]:
			// column-major Yᵀ = Xᵀ·Wᵀ.
			xs, ys := o.X.Shape, o.Y.Shape
			hw, cin, cout := xs[2]*xs[3], xs[1], ys[1]
			err = b.blas.SgemmStridedBatched(cu.OpN, cu.OpN, hw, cout, cin, 1, x, hw, int64(cin*hw), w, cin, 0,
				0, y, hw, int64(cout*hw), xs[0])
		} else {
			err = b.dnn.ConvolutionForward(1, s.x, x, s.w, w, s.conv, c.algo, ws, c.ws, 0, s.y, y)
		}
		if err != nil {
			return err
		}
		if !o.B.Present() && !o.Z.Present() && o.Act.Kind == engine.ActNone {
			return nil
		}
		sh := o.Y.Shape
		return k.launchChannelAct(b.s, &b.args, channelActArgs{x: y, y: y, shift: m.opt(o.B), z: m.opt(o.Z),
			n: o.Y.Elems(), inner: sh[2] * sh[3], channels: sh[1], act: o.Act})
	}
	bias := m.zeros
	if o.B.Present() {
		bias = m.addr(o.B)
	}
	z, alpha2 := y, float32(0)
	if o.Z.Present() {
		z, alpha2 = m.addr(o.Z), 1
	}
	act := s.ident
	if c.mode == convFused && o.Act.Kind == engine.ActRelu {
		act = s.relu
	}
	if err := b.dnn.ConvolutionBiasActivationForward(1, s.x, x, s.w, w, s.conv, c.algo, ws, c.ws,
		alpha2, s.y, z, s.bias, bias, act, s.y, y); err != nil {
		return err
	}
	if c.mode == convFusedThenAct {
		return k.launchChannelAct(b.s, &b.args, channelActArgs{x: y, y: y, n: o.Y.Elems(), inner: 1, channels: 1, act: o.Act})
	}
	return nil
}

// Choosing a convolution's algorithm: cuDNN's own timing
// (cudnnFindConvolutionForwardAlgorithmEx) times cudnnConvolutionForward
// alone, not the calls the step makes (the fused call, or the convolution
// and the epilogue kernel), and tiny convolutions are timed with the host
// gaps between eager launches. So cuDNN's fastest few algorithms in each
// way of calling them and the runtime's own kernels are timed as they run
// (choose.go).
const convTopAlgos = 3 // cuDNN algorithms tried per mode, fastest first by cuDNN's timing

// choose picks the convolution's algorithm and mode on d by timing the
// candidates on m's buffers with at most m.convSize bytes of workspace
// (see above), the padded X included. Choices are cached per GPU by
// geometry (d.choices, which may come from a file); it runs under
// d.loadMu.
func (s *convStep) choose(d *device, b *builder, m *binding, tf32 bool) error {
	o := s.op
	x, ws, room, err := s.operands(m)
	if err != nil {
		if !depthwise(o) {
			return err
		}
		// The depthwise kernel needs no room: it pads by itself.
		s.choice = convChoice{mode: convDepthwise}
		return nil
	}
	if c, ok := d.choices.conv[s.key]; ok && s.reuse(b, c, room) {
		d.choices.reused++
		return nil
	}
	d.choices.timed++
	perfs, err := b.dnn.FindConvolutionForwardAlgorithmEx(s.x, x, s.w, m.addr(o.W), s.conv, s.y, m.addr(o.Y), ws, room)
	if err != nil {
		return err
	}
	var usable []cu.ConvFwdAlgoPerf
	for _, p := range perfs {
		if p.Status == 0 && p.Memory <= room && (tf32 || p.MathType == cu.MathFMA || p.MathType == cu.MathDefault) {
			usable = append(usable, p)
		}
	}
	if len(usable) == 0 {
		return fmt.Errorf("no usable convolution algorithm within %d bytes of workspace (found: %s)", room, algoList(perfs))
	}
	short, shortNeed := s.shortOfWorkspace(b, perfs, room)
	ways := convCandidates(o, usable)
	// Outputs are compared over their first checkBytes: a batch of 16 of
	// VGG's first layers is 205 MB, and a wrong way of calling shows
	// everywhere.
	yBytes := min(int(o.Y.Bytes()), checkBytes)
	c := candidates{
		n: len(ways),
		set: func(i int) error {
			w := ways[i]
			if w.library() {
				need, err := b.dnn.ConvolutionForwardWorkspaceSize(s.x, s.w, s.conv, s.y, w.algo)
				if err != nil {
					return err
				}
				if need > room {
					return fmt.Errorf("needs %d bytes of workspace", need)
				}
				w.ws = need
			}
			s.choice = w
			return nil
		},
		name: func(i int) string { return ways[i].String() },
		out:  func() ([]byte, error) { return b.readBack(d, m.addr(o.Y), yBytes) },
		tol:  tolerance(tf32),
	}
	best, t, tried, ok := b.fastest(c, func() error { return s.enqueue(b, d.k, m) })
	if !ok {
		return fmt.Errorf("no convolution algorithm runs: %s (found: %s)", strings.Join(tried, "; "), algoList(perfs))
	}
	if err := c.set(best); err != nil {
		return err
	}
	s.choice.ms = float32(t.Seconds() * 1e3)
	s.choice.short, s.choice.shortNeed, s.choice.room = short, shortNeed, room
	d.choices.setConv(s.key, s.choice)
	return nil
}

// reuse makes c the step's choice if it computes the op (a file's choice
// is checked as much as cuDNN's own) with at most room bytes of
// workspace, which it asks cuDNN for again.
func (s *convStep) reuse(b *builder, c convChoice, room uint64) bool {
	if !convApplies(s.op, c) {
		return false
	}
	c.ws = 0
	if c.library() {
		ws, err := b.dnn.ConvolutionForwardWorkspaceSize(s.x, s.w, s.conv, s.y, c.algo)
		if err != nil || ws > room {
			return false
		}
		c.ws = ws
	}
	s.choice = c
	return true
}

// shortOfWorkspace lists the algorithms of perfs that did not run and
// need more than room bytes of workspace, and the most one needs.
func (s *convStep) shortOfWorkspace(b *builder, perfs []cu.ConvFwdAlgoPerf, room uint64) ([]cu.ConvFwdAlgo, uint64) {
	var short []cu.ConvFwdAlgo
	var most uint64
	for _, p := range perfs {
		if (p.Status == 0 && p.Memory <= room) || slices.Contains(short, p.Algo) {
			continue
		}
		need, err := b.dnn.ConvolutionForwardWorkspaceSize(s.x, s.w, s.conv, s.y, p.Algo)
		if err == nil && need > room {
			short = append(short, p.Algo)
			most = max(most, need)
		}
	}
	return short, most
}

// convCandidates lists the ways to compute o that choose times: the fused
// call and the plain call with the epilogue kernel for cuDNN's fastest
// algorithms (the fused call takes any algorithm with ReLU, only
// IMPLICIT_PRECOMP_GEMM with identity), the runtime's depthwise kernel
// for a depthwise convolution and cuBLAS for a pointwise one.
func convCandidates(o *engine.Conv, usable []cu.ConvFwdAlgoPerf) []convChoice {
	var out []convChoice
	top := usable[:min(len(usable), convTopAlgos)]
	fusable := top
	if o.Act.Kind != engine.ActRelu {
		fusable = usable // only IMPLICIT_PRECOMP_GEMM, wherever cuDNN ranks it
	}
	for _, p := range fusable {
		if mode, ok := fusedMode(o, p.Algo); ok {
			out = append(out, convChoice{algo: p.Algo, mode: mode})
		}
	}
	for _, p := range top {
		out = append(out, convChoice{algo: p.Algo, mode: convPlain})
	}
	if depthwise(o) {
		out = append(out, convChoice{mode: convDepthwise})
	}
	if pointwise(o) {
		out = append(out, convChoice{mode: convGemm})
	}
	return out
}

// fusedMode is the mode of the fused call computing o with algo, if it
// can: cudnnConvolutionBiasActivationForward takes any algorithm with
// ReLU, only IMPLICIT_PRECOMP_GEMM with identity (then followed by the
// activation kernel for another activation).
func fusedMode(o *engine.Conv, algo cu.ConvFwdAlgo) (convMode, bool) {
	switch {
	case o.Act.Kind == engine.ActRelu:
		return convFused, true
	case algo != cu.AlgoImplicitPrecompGemm:
		return 0, false
	case o.Act.Kind == engine.ActNone:
		return convFused, true
	}
	return convFusedThenAct, true
}

// depthwise is whether the runtime's depthwise kernel computes o: one
// group per input channel.
func depthwise(o *engine.Conv) bool { return o.Groups > 1 && o.Groups == o.X.Shape[1] }

// pointwise is whether o is a GEMM per image: 1×1, stride 1, no padding,
// one group.
func pointwise(o *engine.Conv) bool {
	return o.KernelH == 1 && o.KernelW == 1 && o.StrideH == 1 && o.StrideW == 1 && o.Groups == 1 &&
		o.PadTop == 0 && o.PadLeft == 0 && o.PadBottom == 0 && o.PadRight == 0
}

// convApplies is whether c is one of the ways convCandidates could list
// for o (given cuDNN's timings).
func convApplies(o *engine.Conv, c convChoice) bool {
	switch c.mode {
	case convFused, convFusedThenAct:
		mode, ok := fusedMode(o, c.algo)
		return ok && mode == c.mode && c.algo.Valid()
	case convPlain:
		return c.algo.Valid()
	case convDepthwise:
		return depthwise(o)
	case convGemm:
		return pointwise(o)
	}
	return false
}

func algoList(perfs []cu.ConvFwdAlgoPerf) string {
	var parts []string
	for _, p := range perfs {
		if p.Status == 0 {
			parts = append(parts, fmt.Sprintf("%v/%v %.3f ms %d B", p.Algo, p.MathType, p.Time, p.Memory))
		} else {
			parts = append(parts, fmt.Sprintf("%v status %d", p.Algo, p.Status))
		}
	}
	return strings.Join(parts, ", ")
}
