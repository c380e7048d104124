package engine

import (
	"fmt"
	"slices"

	"github.com/clockwork-go/clockwork/internal/onnx"
)

// LSTM, GRU and RNN (PyTorch's nn.LSTM, nn.GRU, nn.RNN as it exports
// them: CRNN text recognisers, speech models) are unrolled over their
// fixed sequence into ops every runtime has. The input's part of every
// gate, for every step and direction, is one MatMul by the constant Wᵀ
// with the biases that add to it; then each step is a Gemm of the hidden
// state by R (read transposed, as gemm_rows reads it), a strided copy per
// gate (its activation fused), and the elementwise ops of the cell
// (Binary, Activate), the state kept in tensors of [batch, hidden]. The
// outputs are Concats of the steps' states. An LSTM step is 11 ops, a GRU
// step 10 (11 with linear_before_reset), an RNN step 2, each small: a
// CUDA graph replays them without the host, but a fused cell kernel would
// be faster.
//
// Refused: sequence_lens, peepholes, clip, input_forget, activation
// parameters, activations other than Sigmoid, Tanh, Relu, HardSigmoid
// (0.2, 0.5) and Softsign, and the batch axis anywhere but X's batch
// dimension.

// recurrentKinds: the gates an operator's W stacks, and its default
// activations for one direction.
var recurrentKinds = map[string]struct {
	gates int
	acts  []string
}{
	"LSTM": {4, []string{"Sigmoid", "Tanh", "Tanh"}},
	"GRU":  {3, []string{"Sigmoid", "Tanh"}},
	"RNN":  {1, []string{"Tanh"}},
}

var recurrentActs = map[string]Activation{
	"Sigmoid":     {Kind: ActSigmoid},
	"Tanh":        {Kind: ActTanh},
	"Relu":        {Kind: ActRelu},
	"HardSigmoid": {Kind: ActHardSigmoid, Alpha: 0.2, Beta: 0.5},
	"Softsign":    {Kind: ActSoftsign},
}

// rnn is what an LSTM, GRU or RNN node's planning needs.
type rnn struct {
	r            *nodeReader
	op           string
	gates        int
	hidden, dirs int
	layout       int // 0: X [seq, batch, input]; 1: [batch, seq, input]
	reverse      bool
	lbr          bool         // GRU's linear_before_reset
	acts         []Activation // per direction: f, g (GRU, LSTM), h (LSTM)
	w, rw        *tensor      // W [dirs, gates·hidden, input], R [dirs, gates·hidden, hidden]
	bias         *tensor      // [dirs, 2·gates·hidden], or nil
	seq          int
	init         [2]int         // initial_h, initial_c: values, -1 for zeros
	consts       map[string]int // constants made once: R's slices, zeros
}

// recurrent reads an LSTM, GRU or RNN and defines its outputs (Y, Y_h
// and Y_c), as split defines a Split's.
func (b *builder) recurrent(r *nodeReader) error {
	e := rnn{r: r, op: r.np.GetOpType(), init: [2]int{-1, -1}}
	if err := e.readAttrs(); err != nil {
		return err
	}
	x, xs, err := r.requiredShapes(0)
	if err != nil {
		return err
	}
	if len(xs[0]) != 3 {
		return r.errorf("X has shape %v, want [seq, batch, input]", xs[0])
	}
	timeAxis, batchAxis := 0, 1
	if e.layout == 1 {
		timeAxis, batchAxis = 1, 0
	}
	if batch := batchAxes(xs); !batch[batchAxis] || batch[timeAxis] || batch[2] {
		return r.errorf("X has shape %v at batch size 1: its batch dimension (axis %d) must be the model's batch axis", xs[0], batchAxis)
	}
	e.seq = xs[0][timeAxis]
	input := xs[0][2]
	rows := e.gates * e.hidden
	if err := e.readWeights(input); err != nil {
		return err
	}
	if v, err := r.input(4); err != nil || v >= 0 {
		if err == nil {
			err = r.errorf("sequence_lens is not supported (every sequence is the input's whole length)")
		}
		return err
	}
	for i := range e.init {
		if i == 1 && e.op != "LSTM" {
			break
		}
		if e.init[i], err = e.initialState(5 + i); err != nil {
			return err
		}
	}
	if e.op == "LSTM" {
		if p, _, err := r.floatConst(7, -1); err != nil || p != nil && slices.ContainsFunc(p.f32, func(v float32) bool { return v != 0 }) {
			if err == nil {
				err = r.errorf("peepholes (P) are not supported")
			}
			return err
		}
	}
	// The input's part of every gate, all steps and directions at once.
	wt := make([]float32, input*e.dirs*rows)
	for d := range e.dirs {
		for g := range rows {
			for k := range input {
				wt[k*e.dirs*rows+d*rows+g] = e.w.f32[(d*rows+g)*input+k]
			}
		}
	}
	m := b.m
	wv := m.addValue(value{name: r.name + "/Wᵀ", kind: valConst, c: floatTensor(wt, input, e.dirs*rows)})
	in := []int{x, wv}
	if e.bias != nil {
		bv := make([]float32, e.dirs*rows)
		for d := range e.dirs {
			for g := range rows {
				bv[d*rows+g] = e.bias.f32[d*2*rows+g]
				if !e.recurrentBias(g) {
					bv[d*rows+g] += e.bias.f32[d*2*rows+rows+g]
				}
			}
		}
		in = append(in, m.addValue(value{name: r.name + "/bias", kind: valConst, c: floatTensor(bv, e.dirs*rows)}))
	}
	xw := r.addBefore(node{kind: nGemm, gemm: gemmParams{alpha: 1, beta: 1, matmul: true}, in: in}, "input gates")
	xwShapes, err := b.shapesOf(xw)
	if err != nil {
		return err
	}
	states := make([][]int, e.dirs) // [dir][t] → h
	lastH, lastC := make([]int, e.dirs), make([]int, e.dirs)
	for d := range e.dirs {
		h, c := e.init[0], e.init[1]
		if h >= 0 {
			h = e.direction(h, d, "initial h")
		}
		if c >= 0 {
			c = e.direction(c, d, "initial c")
		}
		states[d] = make([]int, e.seq)
		for step := range e.seq {
			t := step
			if e.reverse || d == 1 {
				t = e.seq - 1 - step
			}
			at := fmt.Sprintf("direction %d step %d", d, t)
			// input is the step's input part of gates [g0, g0+count), as
			// [batch, count·hidden].
			input := func(g0, count int) int {
				from := d*rows + g0*e.hidden
				cut := node{kind: nSlice, in: []int{xw, b.oneValue()}, batchAxes: batchAxes(xwShapes),
					slice: sliceArgs{starts: []int64{int64(t), int64(from)}, ends: []int64{int64(t + 1), int64(from + count*e.hidden)}, axes: []int64{int64(timeAxis), 2}}}
				what := fmt.Sprintf("%s input gates %d:%d", at, g0, g0+count)
				return r.addBefore(node{kind: nView, view: viewReshape, shape: []int{-1, count * e.hidden}, in: []int{r.addBefore(cut, what)}}, what+" as [batch, gates]")
			}
			switch e.op {
			case "LSTM":
				h, c = e.lstmStep(d, input(0, 4), h, c, at)
			case "GRU":
				h = e.gruStep(d, input, h, at)
			default:
				h = e.gemm(d, 0, 1, h, input(0, 1), e.acts[d], at+" h")
			}
			states[d][t] = h
		}
		lastH[d], lastC[d] = h, c
	}
	return e.defineOutputs(states, lastH, lastC)
}

// readAttrs reads the operator's attributes.
func (e *rnn) readAttrs() error {
	a, r := e.r.a, e.r
	kind := recurrentKinds[e.op]
	e.gates = kind.gates
	var err error
	if !a.has("hidden_size") {
		return r.errorf("missing attribute \"hidden_size\"")
	}
	if e.hidden, err = a.int("hidden_size", 0, 1, 1<<16); err != nil {
		return err
	}
	if e.layout, err = a.int("layout", 0, 0, 1); err != nil {
		return err
	}
	dir, err := a.str("direction", "forward")
	if err != nil {
		return err
	}
	switch dir {
	case "forward", "reverse":
		e.dirs, e.reverse = 1, dir == "reverse"
	case "bidirectional":
		e.dirs = 2
	default:
		return r.errorf("invalid direction %q", dir)
	}
	for _, name := range []string{"clip", "activation_alpha", "activation_beta"} {
		if a.has(name) {
			return r.errorf("attribute %q is not supported", name)
		}
	}
	if f, err := a.int("input_forget", 0, 0, 1); err != nil || f != 0 {
		if err == nil {
			err = r.errorf("input_forget is not supported")
		}
		return err
	}
	if e.op == "GRU" {
		lbr, err := a.int("linear_before_reset", 0, 0, 1)
		if err != nil {
			return err
		}
		e.lbr = lbr == 1
	}
	var names []string
	if a.has("activations") {
		at, err := a.get("activations", onnx.AttributeProto_STRINGS)
		if err != nil {
			return err
		}
		for _, s := range at.GetStrings() {
			names = append(names, string(s))
		}
	} else {
		for range e.dirs {
			names = append(names, kind.acts...)
		}
	}
	if len(names) != len(kind.acts)*e.dirs {
		return r.errorf("%d activations for %d direction(s) of %s, want %d", len(names), e.dirs, e.op, len(kind.acts)*e.dirs)
	}
	for _, n := range names {
		act, ok := recurrentActs[n]
		if !ok {
			return r.errorf("activation %q is not supported (Sigmoid, Tanh, Relu, HardSigmoid, Softsign)", n)
		}
		e.acts = append(e.acts, act)
	}
	return nil
}

// readWeights reads W, R and B, checked against input and hidden.
func (e *rnn) readWeights(input int) error {
	r := e.r
	rows := e.gates * e.hidden
	var err error
	if e.w, _, err = r.floatConst(1, 3); err != nil {
		return err
	}
	if e.rw, _, err = r.floatConst(2, 3); err != nil {
		return err
	}
	if e.w == nil || e.rw == nil {
		return r.errorf("W and R are required")
	}
	if !slices.Equal(e.w.dims, []int{e.dirs, rows, input}) || !slices.Equal(e.rw.dims, []int{e.dirs, rows, e.hidden}) {
		return r.errorf("W %v and R %v, want [%d, %d, %d] and [%d, %d, %d]", e.w.dims, e.rw.dims, e.dirs, rows, input, e.dirs, rows, e.hidden)
	}
	if e.bias, _, err = r.floatConst(3, 2); err != nil {
		return err
	}
	if e.bias != nil && !slices.Equal(e.bias.dims, []int{e.dirs, 2 * rows}) {
		return r.errorf("B %v, want [%d, %d]", e.bias.dims, e.dirs, 2*rows)
	}
	return nil
}

// recurrentBias is whether R's bias of gate row g stays with the hidden
// state's part rather than the input's: a GRU's h gate, reset after
// the linear transformation (linear_before_reset).
func (e *rnn) recurrentBias(g int) bool {
	return e.op == "GRU" && e.lbr && g >= 2*e.hidden
}

// initialState reads input i, an initial state [dirs, batch, hidden]
// ([batch, dirs, hidden] with layout 1): -1 for one absent or a constant
// of zeros, else the value.
func (e *rnn) initialState(i int) (int, error) {
	r := e.r
	v, err := r.input(i)
	if err != nil || v < 0 {
		return -1, err
	}
	if val := r.b.m.values[v]; val.kind == valConst {
		if val.c.f32 == nil || slices.ContainsFunc(val.c.f32, func(f float32) bool { return f != 0 }) {
			return 0, r.errorf("input %d, a constant initial state, is not zeros (its batch dimension is fixed)", i)
		}
		return -1, nil
	}
	s, err := r.b.shapesOf(v)
	if err != nil {
		return 0, err
	}
	want := []int{e.dirs, s[0][1], e.hidden}
	batchAxis := 1
	if e.layout == 1 {
		want, batchAxis = []int{s[0][0], e.dirs, e.hidden}, 0
	}
	if !slices.Equal(s[0], want) || !batchAxes(s)[batchAxis] {
		return 0, r.errorf("input %d (an initial state) has shape %v at batch size 1, want %v with the batch axis at %d", i, s[0], want, batchAxis)
	}
	return v, nil
}

// direction is direction d's [batch, hidden] of an initial state.
func (e *rnn) direction(v, d int, what string) int {
	r := e.r
	s, _ := r.b.shapesOf(v)
	axis := int64(0)
	if e.layout == 1 {
		axis = 1
	}
	cut := r.addBefore(node{kind: nSlice, in: []int{v, r.b.oneValue()}, batchAxes: batchAxes(s),
		slice: sliceArgs{starts: []int64{int64(d)}, ends: []int64{int64(d + 1)}, axes: []int64{axis}}}, fmt.Sprintf("%s of direction %d", what, d))
	return r.addBefore(node{kind: nView, view: viewReshape, shape: []int{-1, e.hidden}, in: []int{cut}}, fmt.Sprintf("%s of direction %d as [batch, hidden]", what, d))
}

// gemm is gates [g0, g0+count) of direction d: h·R[gates]ᵀ + c, act
// applied (c alone, activated, where h is -1: zeros).
func (e *rnn) gemm(d, g0, count, h, c int, act Activation, what string) int {
	r := e.r
	if h < 0 {
		if act.Kind == ActNone {
			return c
		}
		return r.addBefore(node{kind: nActivate, act: act, in: []int{c}}, what)
	}
	rows := e.gates * e.hidden
	from := (d*rows + g0*e.hidden) * e.hidden
	rv := e.constant(fmt.Sprintf("R[%d][%d:%d]", d, g0, g0+count), func() *tensor {
		return floatTensor(e.rw.f32[from:from+count*e.hidden*e.hidden], count*e.hidden, e.hidden)
	})
	return r.addBefore(node{kind: nGemm, gemm: gemmParams{alpha: 1, beta: 1, transB: true}, act: act, in: []int{h, rv, c}}, what)
}

// gate is columns [g·hidden, (g+1)·hidden) of x, [batch, gates·hidden],
// activated.
func (e *rnn) gate(x, g int, act Activation, what string) int {
	r := e.r
	s, _ := r.b.shapesOf(x)
	return r.addBefore(node{kind: nSlice, act: act, in: []int{x, r.b.oneValue()}, batchAxes: batchAxes(s),
		slice: sliceArgs{starts: []int64{int64(g * e.hidden)}, ends: []int64{int64((g + 1) * e.hidden)}, axes: []int64{1}}}, what)
}

func (e *rnn) binary(op BinaryOp, a, b int, act Activation, what string) int {
	return e.r.addBefore(node{kind: nBinary, binop: op, act: act, in: []int{a, b}}, what)
}

// zeros is a constant [1, hidden] of zeros, a state before the first step.
func (e *rnn) zeros() int {
	return e.constant("zeros", func() *tensor { return floatTensor(make([]float32, e.hidden), 1, e.hidden) })
}

// lstmStep is one LSTM step of direction d from input gates xt and states
// h, c (-1: zeros): i, o, f = f(·), c̃ = g(·), c' = f·c + i·c̃, h' = o·h(c').
func (e *rnn) lstmStep(d, xt, h, c int, at string) (int, int) {
	f, g, hAct := e.acts[3*d], e.acts[3*d+1], e.acts[3*d+2]
	gates := e.gemm(d, 0, 4, h, xt, Activation{}, at+" gates")
	i := e.gate(gates, 0, f, at+" i")
	o := e.gate(gates, 1, f, at+" o")
	ft := e.gate(gates, 2, f, at+" f")
	ct := e.gate(gates, 3, g, at+" c̃")
	if c < 0 {
		c = e.zeros()
	}
	c = e.binary(Add, e.binary(Mul, ft, c, Activation{}, at+" f·c"), e.binary(Mul, i, ct, Activation{}, at+" i·c̃"), Activation{}, at+" c")
	hc := e.r.addBefore(node{kind: nActivate, act: hAct, in: []int{c}}, at+" h(c)")
	return e.binary(Mul, o, hc, Activation{}, at+" h"), c
}

// gruStep is one GRU step of direction d from its input gates and state h
// (-1: zeros): z, r = f(·), ĥ = g(x·Wₕᵀ + r·(h·Rₕᵀ + Rbₕ)) (reset after
// the linear transformation) or g(x·Wₕᵀ + (r·h)·Rₕᵀ + Rbₕ), h' = ĥ +
// z·(h − ĥ).
func (e *rnn) gruStep(d int, input func(g0, count int) int, h int, at string) int {
	f, g := e.acts[2*d], e.acts[2*d+1]
	z := e.gemm(d, 0, 1, h, input(0, 1), f, at+" z")
	rt := e.gemm(d, 1, 1, h, input(1, 1), f, at+" r")
	xh := input(2, 1)
	var hh int
	switch {
	case e.lbr:
		lin := e.gemm(d, 2, 1, h, e.hiddenBias(d), Activation{}, at+" h·Rₕᵀ")
		hh = e.binary(Add, xh, e.binary(Mul, rt, lin, Activation{}, at+" r·(h·Rₕᵀ)"), g, at+" ĥ")
	case h < 0:
		hh = e.gemm(d, 2, 1, h, xh, g, at+" ĥ")
	default:
		hh = e.gemm(d, 2, 1, e.binary(Mul, rt, h, Activation{}, at+" r·h"), xh, g, at+" ĥ")
	}
	if h < 0 {
		return e.binary(Sub, hh, e.binary(Mul, z, hh, Activation{}, at+" z·ĥ"), Activation{}, at+" h")
	}
	return e.binary(Add, hh, e.binary(Mul, z, e.binary(Sub, h, hh, Activation{}, at+" h − ĥ"), Activation{}, at+" z·(h − ĥ)"), Activation{}, at+" h")
}

// hiddenBias is direction d's Rbₕ, a GRU's h gate's recurrent bias
// (zeros without B), as a constant [hidden].
func (e *rnn) hiddenBias(d int) int {
	return e.constant(fmt.Sprintf("Rb[%d]", d), func() *tensor {
		rb := make([]float32, e.hidden)
		if e.bias != nil {
			rows := e.gates * e.hidden
			copy(rb, e.bias.f32[d*2*rows+rows+2*e.hidden:])
		}
		return floatTensor(rb, e.hidden)
	})
}

// constant is the node's constant called name, made once.
func (e *rnn) constant(name string, make func() *tensor) int {
	if v, ok := e.consts[name]; ok {
		return v
	}
	if e.consts == nil {
		e.consts = map[string]int{}
	}
	v := e.r.b.m.addValue(value{name: e.r.name + "/" + name, kind: valConst, c: make()})
	e.consts[name] = v
	return v
}

// defineOutputs defines the node's outputs Y, Y_h and Y_c from the steps'
// states and the last ones, each whose name is given.
func (e *rnn) defineOutputs(states [][]int, lastH, lastC []int) error {
	r, b := e.r, e.r.b
	outs := r.np.GetOutput()
	limit := 2 // Y, Y_h
	if e.op == "LSTM" {
		limit = 3 // and Y_c
	}
	if len(outs) > limit {
		return r.errorf("has %d outputs, want at most %d", len(outs), limit)
	}
	name := func(i int) string {
		if i < len(outs) {
			return outs[i]
		}
		return ""
	}
	define := func(o string, nd node) error {
		if b.defined(o) {
			return r.errorf("output %q is already defined", o)
		}
		nd.op, nd.name = e.op, r.name
		b.m.nodes = append(b.m.nodes, nd)
		b.m.nodes[len(b.m.nodes)-1].out = b.m.addValue(value{name: o, kind: valNode, prod: len(b.m.nodes) - 1})
		b.names[o] = len(b.m.values) - 1
		return nil
	}
	// view is v, [batch, hidden], as rank axes whose batch axis is batch,
	// the others but the last of size 1.
	view := func(v, rank, batch int) node {
		shape := make([]int, rank)
		for i := range shape {
			shape[i] = 1
		}
		shape[batch], shape[rank-1] = -1, e.hidden
		return node{kind: nView, view: viewReshape, shape: shape, in: []int{v}}
	}
	// Each output: per direction a node, joined along the directions'
	// axis where there are two.
	output := func(o string, dirAxis int, part func(d int) node) error {
		if e.dirs == 1 {
			return define(o, part(0))
		}
		in := make([]int, e.dirs)
		for d := range in {
			in[d] = r.addBefore(part(d), fmt.Sprintf("%s of direction %d", o, d))
		}
		return define(o, node{kind: nConcat, axis: dirAxis, in: in})
	}
	timeAxis, batchY, batchLast := 0, 2, 1 // Y [seq, dirs, batch, hidden], Y_h [dirs, batch, hidden]
	if e.layout == 1 {
		timeAxis, batchY, batchLast = 1, 0, 0 // Y [batch, seq, dirs, hidden], Y_h [batch, dirs, hidden]
	}
	if o := name(0); o != "" {
		err := output(o, timeAxis+1, func(d int) node {
			steps := make([]int, e.seq)
			for t, h := range states[d] {
				steps[t] = r.addBefore(view(h, 4, batchY), fmt.Sprintf("Y of direction %d step %d", d, t))
			}
			return node{kind: nConcat, axis: timeAxis, in: steps}
		})
		if err != nil {
			return err
		}
	}
	for i, last := range [][]int{lastH, lastC} {
		if o := name(1 + i); o != "" {
			if err := output(o, 1-batchLast, func(d int) node { return view(last[d], 3, batchLast) }); err != nil {
				return err
			}
		}
	}
	return nil
}
