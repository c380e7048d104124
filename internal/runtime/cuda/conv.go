package cuda

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

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
	// residual and activation, where it beats cuDNN.
	convDepthwise
)

var convModeNames = [...]string{"fused", "fused+act", "conv+epilogue", "depthwise"}

func (m convMode) String() string { return convModeNames[m] }

// convChoice is the algorithm and mode of a convolution on one GPU.
type convChoice struct {
	algo cu.ConvFwdAlgo
	mode convMode
	ws   uint64 // cuDNN workspace bytes
	ms   float32
}

func (c convChoice) String() string {
	if c.mode == convDepthwise {
		return "depthwise_conv"
	}
	return fmt.Sprintf("%v/%v", c.algo, c.mode)
}

// convStep is a convolution with its descriptors.
type convStep struct {
	op          *engine.Conv
	x, y, bias  cu.TensorDesc
	w           cu.FilterDesc
	conv        cu.ConvDesc
	relu, ident cu.ActivationDesc
	key         string // what algorithm choices are cached by
	choice      convChoice
}

func newConvStep(o *engine.Conv, tf32 bool) (step, error) {
	x, w, y := o.X.Shape, o.W.Shape, o.Y.Shape
	if len(x) != 4 || len(w) != 4 || len(y) != 4 || o.Groups < 1 {
		return nil, fmt.Errorf("convolution of X%v with W%v into Y%v", x, w, y)
	}
	if o.PadTop != o.PadBottom || o.PadLeft != o.PadRight {
		return nil, fmt.Errorf("asymmetric padding %d,%d,%d,%d: %w", o.PadTop, o.PadLeft, o.PadBottom, o.PadRight, errUnsupported)
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
	s := &convStep{op: o}
	err := func() error {
		var err error
		if s.x, err = tensor4d(x); err != nil {
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
			s.conv.Set2d(o.PadTop, o.PadLeft, o.StrideH, o.StrideW, o.DilationH, o.DilationW, cu.CrossCorrelation, cu.DataFloat),
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
	relu := o.Act.Kind == engine.ActRelu
	s.key = fmt.Sprint(x, w, o.PadTop, o.PadLeft, o.StrideH, o.StrideW, o.DilationH, o.DilationW, o.Groups, relu, tf32)
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

func (s *convStep) enqueue(b *builder, k *kernels, m *binding) error {
	o, c := s.op, s.choice
	if c.ws > m.convSize {
		return fmt.Errorf("convolution needs %d bytes of workspace, %d reserved", c.ws, m.convSize)
	}
	x, w, y := m.addr(o.X), m.addr(o.W), m.addr(o.Y)
	if c.mode == convDepthwise {
		return k.launchDepthwise(b.s, &b.args, o, x, w, m.opt(o.B), m.opt(o.Z), y)
	}
	if c.mode == convPlain {
		if err := b.dnn.ConvolutionForward(1, s.x, x, s.w, w, s.conv, c.algo, m.conv, c.ws, 0, s.y, y); err != nil {
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
	if err := b.dnn.ConvolutionBiasActivationForward(1, s.x, x, s.w, w, s.conv, c.algo, m.conv, c.ws,
		alpha2, s.y, z, s.bias, bias, act, s.y, y); err != nil {
		return err
	}
	if c.mode == convFusedThenAct {
		return k.launchChannelAct(b.s, &b.args, channelActArgs{x: y, y: y, n: o.Y.Elems(), inner: 1, channels: 1, act: o.Act})
	}
	return nil
}

// choose picks the convolution's algorithm and mode on d by timing every
// algorithm (cudnnFindConvolutionForwardAlgorithmEx) on m's buffers with
// at most m.convSize bytes of workspace, then checks that the choice runs.
// Choices are cached per GPU by geometry; it runs under d.loadMu.
func (s *convStep) choose(d *device, b *builder, m *binding, tf32 bool) error {
	if c, ok := d.findCache[s.key]; ok && c.ws <= m.convSize {
		s.choice = c
		return nil
	}
	o := s.op
	perfs, err := b.dnn.FindConvolutionForwardAlgorithmEx(s.x, m.addr(o.X), s.w, m.addr(o.W), s.conv, s.y, m.addr(o.Y),
		m.conv, m.convSize)
	if err != nil {
		return err
	}
	var usable []cu.ConvFwdAlgoPerf
	for _, p := range perfs {
		if p.Status == 0 && p.Memory <= m.convSize && (tf32 || p.MathType == cu.MathFMA || p.MathType == cu.MathDefault) {
			usable = append(usable, p)
		}
	}
	if len(usable) == 0 {
		return fmt.Errorf("no usable convolution algorithm within %d bytes of workspace (found: %s)", m.convSize, algoList(perfs))
	}
	var tried []string
	for _, c := range candidates(o, usable) {
		ws, err := b.dnn.ConvolutionForwardWorkspaceSize(s.x, s.w, s.conv, s.y, c.algo)
		if err == nil && ws > m.convSize {
			err = fmt.Errorf("needs %d bytes of workspace", ws)
		}
		if err == nil {
			c.ws = ws
			s.choice = c
			if err = s.enqueue(b, d.k, m); err == nil {
				err = b.s.Synchronize()
			}
		}
		if err != nil {
			tried = append(tried, fmt.Sprintf("%v %v: %v", c.algo, c.mode, err))
			continue
		}
		if o.Groups > 1 && o.Groups == o.X.Shape[1] {
			if err := s.tryDepthwise(d, b, m); err != nil {
				return err
			}
		}
		d.findCache[s.key] = s.choice
		return nil
	}
	return fmt.Errorf("no convolution algorithm runs: %s (found: %s)", strings.Join(tried, "; "), algoList(perfs))
}

// candidates orders the ways to compute o, best first, from the usable
// algorithms (fastest first).
func candidates(o *engine.Conv, usable []cu.ConvFwdAlgoPerf) []convChoice {
	var out []convChoice
	if o.Act.Kind == engine.ActRelu {
		for _, p := range usable {
			out = append(out, convChoice{algo: p.Algo, mode: convFused, ms: p.Time})
		}
		return out
	}
	fused := convChoice{algo: cu.AlgoImplicitPrecompGemm, mode: convFused, ms: -1}
	if o.Act.Kind != engine.ActNone {
		fused.mode = convFusedThenAct
	}
	for _, p := range usable {
		if p.Algo == cu.AlgoImplicitPrecompGemm {
			fused.ms = p.Time
		}
	}
	// The epilogue kernel reads and writes Y once (about 2.5 TB/s) and
	// costs a launch; prefer the fused call unless the best algorithm
	// saves more than that.
	epilogue := 0.003 + float32(2*o.Y.Bytes())/2.5e9
	if fused.ms >= 0 && fused.ms <= usable[0].Time+epilogue {
		out = append(out, fused)
	}
	for _, p := range usable {
		out = append(out, convChoice{algo: p.Algo, mode: convPlain, ms: p.Time})
	}
	if fused.ms >= 0 && fused.ms > usable[0].Time+epilogue {
		out = append(out, fused)
	}
	return out
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

// depthwiseRuns is how many runs time each side of tryDepthwise.
const depthwiseRuns = 5

// tryDepthwise runs a depthwise convolution both ways on random input:
// with the cuDNN choice made and with the runtime's depthwise kernel, and
// keeps the kernel if it agrees with cuDNN (1e-4) and is faster.
func (s *convStep) tryDepthwise(d *device, b *builder, m *binding) error {
	o := s.op
	xn, yn := int(o.X.Bytes()), int(o.Y.Bytes())
	host, err := d.hostScratch(xn + 2*yn)
	if err != nil {
		return err
	}
	f := host.Float32s()
	r := rand.New(rand.NewPCG(uint64(xn), 1))
	for i := range xn / 4 {
		f[i] = float32(r.Float64()*2 - 1)
	}
	x, y := m.addr(o.X), m.addr(o.Y)
	if err := cu.MemcpyHtoDAsync(x, host.Ptr(0), uint64(xn), b.s); err != nil {
		return err
	}
	run := func() error { return s.enqueue(b, d.k, m) }
	timeOf := func(off int) (time.Duration, error) {
		if err := errors.Join(run(), cu.MemcpyDtoHAsync(host.Ptr(off), y, uint64(yn), b.s)); err != nil {
			return 0, err
		}
		return b.timed(func() error {
			for range depthwiseRuns {
				if err := run(); err != nil {
					return err
				}
			}
			return nil
		})
	}
	library, err := timeOf(xn)
	if err != nil {
		return err
	}
	chosen := s.choice
	s.choice = convChoice{mode: convDepthwise}
	own, err := timeOf(xn + yn)
	if err != nil {
		s.choice = chosen
		return nil // the library's choice stands
	}
	want, got := f[xn/4:(xn+yn)/4], f[(xn+yn)/4:(xn+2*yn)/4]
	if own >= library || relErr32(got, want) > 1e-4 {
		s.choice = chosen
	}
	return nil
}

// relErr32 is max |got − want| / max |want|.
func relErr32(got, want []float32) float64 {
	var d, m float64
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(g) || math.IsInf(g, 0) {
			return math.Inf(1)
		}
		d, m = max(d, math.Abs(g-float64(w))), max(m, math.Abs(float64(w)))
	}
	if m == 0 {
		return d
	}
	return d / m
}
