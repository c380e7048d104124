package engine

import (
	"math"
	"slices"
	"strings"
)

// fuse rewrites the graph for execution: nodes no output depends on go,
// a Pad of zeros folds into the convolution or average pool after it,
// BatchNormalization folds into the convolution before it, and Conv +
// residual Add, MatMul + bias Add and op + activation chains become
// single nodes. PyTorch's GELU, five nodes, and SiLU, two, become one
// activation each, its LayerNorm exported before opset 17 one LayerNorm,
// the scaling and transposing around attention's Q·Kᵀ part of the batched
// MatMul, transposes of transposes one, and concatenations of
// concatenations one. A fused node takes the place of the last node of
// its chain, where all its inputs are available.
func (m *Model) fuse() error {
	m.pruneDead()
	s1, err := m.infer(1)
	if err != nil {
		return err
	}
	s2, err := m.infer(2)
	if err != nil {
		return err
	}
	m.fusePads(s1)
	m.foldBatchNorm()
	m.fuseResidual(s1, s2)
	m.fuseMatMulBias(s1)
	m.fuseGelu()
	m.fuseSilu()
	m.fuseLayerNorm(s1)
	m.fuseBatchMatMul(s1)
	m.fuseActivations()
	m.composeTransposes(s1)
	m.flattenConcats(s1)
	return nil
}

// usage counts the live readers of every value; graph outputs count too.
func (m *Model) usage() (uses []int, isOutput []bool) {
	uses = make([]int, len(m.values))
	isOutput = make([]bool, len(m.values))
	for i := range m.nodes {
		if m.nodes[i].dead {
			continue
		}
		for _, v := range m.nodes[i].in {
			if v >= 0 {
				uses[v]++
			}
		}
	}
	for _, o := range m.outputs {
		uses[o]++
		isOutput[o] = true
	}
	return uses, isOutput
}

// producer returns the live node producing v if its only reader is one
// node (not a graph output), else -1.
func (m *Model) soleProducer(v int, uses []int, isOutput []bool) int {
	if v < 0 || m.values[v].kind != valNode || uses[v] != 1 || isOutput[v] {
		return -1
	}
	return m.values[v].prod
}

// merge moves producer p, already rewritten, into the slot of its consumer
// c and gives it c's output.
func (m *Model) merge(p, c int) {
	pn := m.nodes[p]
	pn.out = m.nodes[c].out
	pn.name += "+" + m.nodes[c].name
	m.nodes[c] = pn
	m.nodes[p] = node{dead: true}
	m.values[pn.out].prod = c
}

// pruneDead drops the nodes whose outputs no graph output depends on.
func (m *Model) pruneDead() {
	live := make([]bool, len(m.values))
	for _, o := range m.outputs {
		live[o] = true
	}
	for i := len(m.nodes) - 1; i >= 0; i-- {
		n := &m.nodes[i]
		if n.dead {
			continue
		}
		if !live[n.out] {
			n.dead = true
			continue
		}
		for _, v := range n.in {
			if v >= 0 {
				live[v] = true
			}
		}
	}
}

// fusePads folds a Pad into the convolution, or the average pool that
// counts its padding, that alone reads it: their own padding is zeros
// too, and a convolution pads asymmetrically as well (pad2d on the GPU).
func (m *Model) fusePads(s1 [][]int) {
	uses, isOutput := m.usage()
	for c := range m.nodes {
		n := &m.nodes[c]
		var pads *[4]int
		var autoPad *string
		switch {
		case n.dead:
			continue
		case n.kind == nConv:
			pads, autoPad = &n.conv.pads, &n.conv.autoPad
		case n.kind == nPool && n.pool.mode == PoolAvg && n.pool.countIncludePad && !n.pool.ceil:
			pads, autoPad = &n.pool.pads, &n.pool.autoPad
		default:
			continue
		}
		p := m.soleProducer(n.in[0], uses, isOutput)
		if p < 0 || m.nodes[p].kind != nPad || *autoPad != "NOTSET" && *autoPad != "VALID" {
			continue
		}
		pad := &m.nodes[p]
		g, err := pad.padGeom(s1[pad.in[0]])
		if err != nil {
			continue
		}
		if *autoPad == "VALID" {
			*pads, *autoPad = [4]int{}, "NOTSET"
		}
		for i := range pads {
			pads[i] += g[i]
		}
		n.in[0] = pad.in[0]
		n.name = pad.name + "+" + n.name
		*pad = node{dead: true}
	}
}

func (m *Model) foldBatchNorm() {
	uses, isOutput := m.usage()
	for c := range m.nodes {
		bn := &m.nodes[c]
		if bn.dead || bn.kind != nAffine || bn.act.Kind != ActNone {
			continue
		}
		p := m.soleProducer(bn.in[0], uses, isOutput)
		if p < 0 || m.nodes[p].kind != nConv || m.nodes[p].act.Kind != ActNone || m.nodes[p].in[3] >= 0 {
			continue
		}
		conv := &m.nodes[p]
		scale, shift := m.values[bn.in[1]].c.f32, m.values[bn.in[2]].c.f32
		w := m.values[conv.in[1]]
		per := len(w.c.f32) / len(scale)
		fw := make([]float32, len(w.c.f32))
		fb := make([]float32, len(scale))
		for o, s := range scale {
			for j := o * per; j < (o+1)*per; j++ {
				fw[j] = w.c.f32[j] * s
			}
			var b float32
			if conv.in[2] >= 0 {
				b = m.values[conv.in[2]].c.f32[o]
			}
			fb[o] = b*s + shift[o]
		}
		conv.in[1] = m.addValue(value{name: w.name + "+" + bn.name, kind: valConst, c: floatTensor(fw, w.c.dims...)})
		conv.in[2] = m.addValue(value{name: bn.name + ".bias", kind: valConst, c: floatTensor(fb, len(fb))})
		m.merge(p, c)
	}
}

func (m *Model) fuseResidual(s1, s2 [][]int) {
	uses, isOutput := m.usage()
	for c := range m.nodes {
		add := &m.nodes[c]
		if add.dead || add.kind != nBinary || add.binop != Add || add.act.Kind != ActNone {
			continue
		}
		for i := range 2 {
			x, z := add.in[i], add.in[1-i]
			p := m.soleProducer(x, uses, isOutput)
			if p < 0 || x == z || m.nodes[p].kind != nConv || m.nodes[p].act.Kind != ActNone || m.nodes[p].in[3] >= 0 {
				continue
			}
			if !equalShapes(s1[z], s1[add.out]) || !equalShapes(s2[z], s2[add.out]) {
				continue
			}
			m.nodes[p].in[3] = z
			m.merge(p, c)
			break
		}
	}
}

func (m *Model) fuseMatMulBias(s1 [][]int) {
	uses, isOutput := m.usage()
	for c := range m.nodes {
		add := &m.nodes[c]
		if add.dead || add.kind != nBinary || add.binop != Add || add.act.Kind != ActNone {
			continue
		}
		for i := range 2 {
			x, bias := add.in[i], add.in[1-i]
			p := m.soleProducer(x, uses, isOutput)
			if p < 0 || m.nodes[p].kind != nGemm || !m.nodes[p].gemm.matmul || len(m.nodes[p].in) > 2 || m.nodes[p].act.Kind != ActNone {
				continue
			}
			bv := m.values[bias]
			n := s1[x][len(s1[x])-1]
			if bv.kind != valConst || bv.c.f32 == nil || !(equalShapes(bv.c.dims, []int{n}) || equalShapes(bv.c.dims, []int{1, n})) {
				continue
			}
			mm := &m.nodes[p]
			mm.in = append(mm.in, bias)
			mm.gemm.beta = 1
			m.merge(p, c)
			break
		}
	}
}

func (m *Model) fuseActivations() {
	uses, isOutput := m.usage()
	for c := range m.nodes {
		a := &m.nodes[c]
		if a.dead || a.kind != nActivate {
			continue
		}
		p := m.soleProducer(a.in[0], uses, isOutput)
		if p < 0 {
			continue
		}
		if both, ok := clipOfClips(m.nodes[p].act, a.act); ok {
			m.nodes[p].act = both
			m.merge(p, c)
			continue
		}
		if m.nodes[p].act.Kind != ActNone {
			continue
		}
		switch m.nodes[p].kind {
		case nConv, nGemm, nBinary, nAffine, nConvTranspose, nTranspose, nSlice, nExpand: // the last three are Binary ops too
			m.nodes[p].act = a.act
			m.merge(p, c)
		}
	}
}

// composeTransposes makes a Transpose of a Transpose that alone reads it
// one Transpose of the first's input, their perms composed, or where they
// undo each other the first's input itself, activated if either was: a
// 3-D convolution's transpose back, its ReLU fused, and the next one's
// transpose in (volume.go). Runs after fuseActivations.
func (m *Model) composeTransposes(s1 [][]int) {
	uses, isOutput := m.usage()
	for c := range m.nodes {
		t2 := &m.nodes[c]
		if t2.dead || t2.kind != nTranspose {
			continue
		}
		p := m.soleProducer(t2.in[0], uses, isOutput)
		if p < 0 || m.nodes[p].kind != nTranspose {
			continue
		}
		t1 := &m.nodes[p]
		if t1.act.Kind != ActNone && t2.act.Kind != ActNone {
			continue
		}
		rank := len(s1[t1.in[0]])
		p1, err1 := t1.permFor(rank)
		p2, err2 := t2.permFor(rank)
		if err1 != nil || err2 != nil {
			continue
		}
		perm, identity := make([]int, rank), true
		for d := range perm {
			perm[d] = p1[p2[d]]
			identity = identity && perm[d] == d
		}
		act := t1.act
		if act.Kind == ActNone {
			act = t2.act
		}
		nd := node{kind: nTranspose, perm: perm, act: act, in: t1.in}
		switch {
		case identity && act.Kind != ActNone:
			nd = node{kind: nActivate, act: act, in: t1.in[:1]}
		case identity:
			nd = node{kind: nView, view: viewIdentity, in: t1.in[:1]}
		}
		nd.op, nd.name, nd.out = t2.op, t1.name+"+"+t2.name, t2.out
		*t2 = nd
		*t1 = node{dead: true}
		uses, isOutput = m.usage()
	}
}

// clipOfClips is the one Clip that computes Clip second after Clip (or
// Relu) first, where their ranges overlap: Relu6 written as Max(x, 0)
// and Min(·, 6), or Relu then a Clip.
func clipOfClips(first, second Activation) (Activation, bool) {
	if first.Kind == ActRelu {
		first = Activation{Kind: ActClip, Min: 0, Max: math.MaxFloat32}
	}
	if first.Kind != ActClip || second.Kind != ActClip {
		return Activation{}, false
	}
	lo, hi := max(first.Min, second.Min), min(first.Max, second.Max)
	if lo > hi {
		return Activation{}, false
	}
	return Activation{Kind: ActClip, Min: lo, Max: hi}, true
}

// fuseGelu turns GELU as PyTorch exports it, Mul(Mul(x, Add(Erf(Div(x,
// √2)), 1)), 0.5) (the Div read as a Mul by 1/√2), into one activation
// of x, which fuseActivations may then fold into x's producer.
func (m *Model) fuseGelu() {
	uses, isOutput := m.usage()
	// operand returns the producer of the input of binary node n other
	// than the scalar constant want (within rel), and that input.
	operand := func(n *node, op BinaryOp, want, rel float64) (int, int) {
		if n.kind != nBinary || n.binop != op || n.act.Kind != ActNone {
			return -1, -1
		}
		for i := range 2 {
			if c, ok := m.scalarConst(n.in[1-i]); ok && math.Abs(float64(c)-want) <= rel*want {
				return m.soleProducer(n.in[i], uses, isOutput), n.in[i]
			}
		}
		return -1, -1
	}
	for h := range m.nodes {
		if m.nodes[h].dead {
			continue
		}
		g, _ := operand(&m.nodes[h], Mul, 0.5, 0)
		if g < 0 || m.nodes[g].kind != nBinary || m.nodes[g].binop != Mul || m.nodes[g].act.Kind != ActNone {
			continue
		}
		for i := range 2 {
			x := m.nodes[g].in[i]
			f := m.soleProducer(m.nodes[g].in[1-i], uses, isOutput)
			if f < 0 {
				continue
			}
			e, _ := operand(&m.nodes[f], Add, 1, 0)
			if e < 0 || m.nodes[e].kind != nActivate || m.nodes[e].act.Kind != ActErf {
				continue
			}
			d := m.soleProducer(m.nodes[e].in[0], uses, isOutput)
			if d < 0 {
				continue
			}
			if _, dx := operand(&m.nodes[d], Mul, 1/math.Sqrt2, 1e-6); dx != x {
				continue
			}
			names := []string{m.nodes[d].name, m.nodes[e].name, m.nodes[f].name, m.nodes[g].name, m.nodes[h].name}
			m.nodes[h] = node{kind: nActivate, op: "Gelu", name: strings.Join(names, "+"), in: []int{x}, out: m.nodes[h].out,
				act: Activation{Kind: ActGelu}}
			for _, k := range []int{d, e, f, g} {
				m.nodes[k] = node{dead: true}
			}
			break
		}
	}
}

// flattenConcats makes a Concat of a Concat along the same axis, which
// alone reads it, one Concat of the inner one's inputs in its place:
// Inception v3's last blocks concatenate two concatenations, each copied
// twice before.
func (m *Model) flattenConcats(s1 [][]int) {
	uses, isOutput := m.usage()
	for c := range m.nodes {
		outer := &m.nodes[c]
		if outer.dead || outer.kind != nConcat {
			continue
		}
		rank := len(s1[outer.out])
		axis, err := normAxis(outer, outer.axis, rank)
		if err != nil {
			continue
		}
		var in []int
		for _, v := range outer.in {
			p := m.soleProducer(v, uses, isOutput)
			if p >= 0 && m.nodes[p].kind == nConcat {
				if a, err := normAxis(&m.nodes[p], m.nodes[p].axis, rank); err == nil && a == axis {
					in = append(in, m.nodes[p].in...)
					outer.name = m.nodes[p].name + "+" + outer.name
					m.nodes[p] = node{dead: true}
					continue
				}
			}
			in = append(in, v)
		}
		outer.in = in
	}
}

// fuseSilu turns SiLU (swish) as PyTorch exports it, Mul(x, Sigmoid(x)),
// into one activation of x, which fuseActivations may then fold into x's
// producer: every convolution of EfficientNet and YOLOv5 is followed by
// one.
func (m *Model) fuseSilu() {
	uses, isOutput := m.usage()
	for c := range m.nodes {
		mul := &m.nodes[c]
		if mul.dead || mul.kind != nBinary || mul.binop != Mul || mul.act.Kind != ActNone {
			continue
		}
		for i := range 2 {
			x := mul.in[i]
			s := m.soleProducer(mul.in[1-i], uses, isOutput)
			if s < 0 || m.nodes[s].kind != nActivate || m.nodes[s].act.Kind != ActSigmoid || m.nodes[s].in[0] != x {
				continue
			}
			*mul = node{kind: nActivate, op: mul.op, name: m.nodes[s].name + "+" + mul.name, in: []int{x}, out: mul.out,
				act: Activation{Kind: ActSilu}}
			m.nodes[s] = node{dead: true}
			break
		}
	}
}

// fuseBatchMatMul folds into a MatMul of two computed tensors what
// PyTorch's scaled_dot_product_attention exports around Q·Kᵀ: each
// operand multiplied by a scalar constant (√scale) becomes a factor of
// Alpha, and a Transpose of B's last two axes (Kᵀ) becomes TransB.
func (m *Model) fuseBatchMatMul(s1 [][]int) {
	uses, isOutput := m.usage()
	for c := range m.nodes {
		mm := &m.nodes[c]
		if mm.dead || mm.kind != nBatchMatMul {
			continue
		}
		for i := range 2 {
			p := m.soleProducer(mm.in[i], uses, isOutput)
			if p < 0 {
				continue
			}
			if x, s, ok := m.scaled(&m.nodes[p]); ok && equalShapes(s1[x], s1[mm.in[i]]) {
				mm.gemm.alpha *= s
				mm.in[i] = x
				mm.name = m.nodes[p].name + "+" + mm.name
				m.nodes[p] = node{dead: true}
				uses, isOutput = m.usage()
			}
		}
		p := m.soleProducer(mm.in[1], uses, isOutput)
		if p < 0 || mm.gemm.transB || m.nodes[p].kind != nTranspose || m.nodes[p].act.Kind != ActNone {
			continue
		}
		t := &m.nodes[p]
		if perm, err := t.permFor(len(s1[t.in[0]])); err != nil || !swapsLastTwo(perm) {
			continue
		}
		mm.gemm.transB = true
		mm.in[1] = t.in[0]
		mm.name = t.name + "+" + mm.name
		*t = node{dead: true}
		uses, isOutput = m.usage()
	}
}

// scaled is whether n multiplies a tensor by a scalar constant, and which
// and by what.
func (m *Model) scaled(n *node) (x int, s float32, ok bool) {
	if n.kind != nBinary || n.binop != Mul || n.act.Kind != ActNone {
		return 0, 0, false
	}
	for i := range 2 {
		if c, ok := m.scalarConst(n.in[1-i]); ok {
			return n.in[i], c, true
		}
	}
	return 0, 0, false
}

// swapsLastTwo is whether perm exchanges the last two axes alone.
func swapsLastTwo(perm []int) bool {
	r := len(perm)
	if r < 2 || perm[r-2] != r-1 || perm[r-1] != r-2 {
		return false
	}
	for i := range r - 2 {
		if perm[i] != i {
			return false
		}
	}
	return true
}

// fuseLayerNorm turns LayerNorm as PyTorch exports it before opset 17,
//
//	d = x − ReduceMean(x), Div(d, Sqrt(ReduceMean(Pow(d, 2)) + ε)),
//
// both means over the last axis, and a Mul by a weight and an Add of a
// bias of that axis' size if they follow, into one LayerNorm of x.
func (m *Model) fuseLayerNorm(s1 [][]int) {
	uses, isOutput := m.usage()
	// sole is v's producer if it is of kind and v's only reader reads it,
	// with no activation fused unless it is one.
	sole := func(v int, kind nodeKind) *node {
		p := m.soleProducer(v, uses, isOutput)
		if p < 0 || m.nodes[p].kind != kind || kind != nActivate && m.nodes[p].act.Kind != ActNone {
			return nil
		}
		return &m.nodes[p]
	}
	// lastMean is whether n averages the last axis of its input alone,
	// keeping it.
	lastMean := func(n *node) bool {
		if n == nil || n.pool.mode != PoolAvg {
			return false
		}
		x := s1[n.in[0]]
		k, err := n.meanFrom(x)
		return err == nil && k == len(x)-1 && !n.squeeze
	}
	for i := range m.nodes {
		div := &m.nodes[i]
		if div.dead || div.kind != nBinary || div.binop != Div || div.act.Kind != ActNone {
			continue
		}
		d := div.in[0]
		sq := sole(div.in[1], nActivate)
		if sq == nil || sq.act.Kind != ActSqrt {
			continue
		}
		add := sole(sq.in[0], nBinary)
		if add == nil || add.binop != Add {
			continue
		}
		v := add.in[0]
		eps, ok := m.scalarConst(add.in[1])
		if !ok {
			v = add.in[1]
			eps, ok = m.scalarConst(add.in[0])
		}
		varMean := sole(v, nGlobalPool)
		if !ok || !(eps >= 0) || !lastMean(varMean) {
			continue
		}
		pow := sole(varMean.in[0], nActivate)
		if pow == nil || pow.act.Kind != ActPow || pow.act.Alpha != 2 || pow.in[0] != d {
			continue
		}
		if uses[d] != 2 || isOutput[d] || m.values[d].kind != valNode { // read by pow and div
			continue
		}
		sub := &m.nodes[m.values[d].prod]
		if sub.kind != nBinary || sub.binop != Sub || sub.act.Kind != ActNone {
			continue
		}
		x := sub.in[0]
		mean := sole(sub.in[1], nGlobalPool)
		if !lastMean(mean) || mean.in[0] != x {
			continue
		}
		length := s1[x][len(s1[x])-1]
		ln := node{kind: nLayerNorm, op: "LayerNormalization", axis: -1, epsilon: eps, in: []int{x, -1, -1}, out: div.out}
		fused := []*node{mean, sub, pow, varMean, add, sq, div}
		last, slot := div, i
		// The weight and the bias, if each is the sole reader before it.
		for j, op := range []BinaryOp{Mul, Add} {
			next := m.soleReader(last.out, uses, isOutput)
			if next < 0 || m.nodes[next].kind != nBinary || m.nodes[next].binop != op || m.nodes[next].act.Kind != ActNone {
				break
			}
			n := &m.nodes[next]
			c := n.in[1]
			if n.in[1] == last.out {
				c = n.in[0]
			}
			if !m.lastAxisConst(c, length) {
				break
			}
			ln.in[1+j], ln.out, last, slot = c, n.out, n, next
			fused = append(fused, n)
		}
		if ln.in[1] < 0 {
			ones := make([]float32, length)
			for k := range ones {
				ones[k] = 1
			}
			ln.in[1] = m.addValue(value{name: div.name + "/layer norm scale", kind: valConst, c: floatTensor(ones, length)})
		}
		var names []string
		for _, n := range fused {
			names = append(names, n.name)
		}
		ln.name = strings.Join(names, "+")
		for _, n := range fused {
			*n = node{dead: true}
		}
		m.nodes[slot] = ln
		m.values[ln.out].prod = slot
		uses, isOutput = m.usage()
	}
}

// scalarConst is v's value if it is a one-element float constant of rank
// 0 or 1.
func (m *Model) scalarConst(v int) (float32, bool) {
	c := m.values[v]
	if c.kind != valConst || len(c.c.f32) != 1 || len(c.c.dims) > 1 {
		return 0, false
	}
	return c.c.f32[0], true
}

// lastAxisConst is whether v is a float constant of n elements along the
// last axis: [n], or [1, …, 1, n].
func (m *Model) lastAxisConst(v, n int) bool {
	c := m.values[v]
	if c.kind != valConst || c.c.f32 == nil || len(c.c.f32) != n || len(c.c.dims) == 0 || c.c.dims[len(c.c.dims)-1] != n {
		return false
	}
	return true
}

// soleReader is the live node that alone reads v (not a graph output),
// else -1.
func (m *Model) soleReader(v int, uses []int, isOutput []bool) int {
	if uses[v] != 1 || isOutput[v] {
		return -1
	}
	for i := range m.nodes {
		if !m.nodes[i].dead && slices.Contains(m.nodes[i].in, v) {
			return i
		}
	}
	return -1
}
