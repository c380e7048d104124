package engine

import (
	"fmt"
	"slices"
	"strings"
)

// An Einsum of one or two operands (attention written as
// einsum("bhqd,bhkd->bhqk"), a Linear as einsum("bij,kj->bik"), a
// transpose, a sum) is read as ops the engine has: each label only one
// operand has, and the output not, is summed out first (a ReduceSum);
// then the operands are transposed and viewed as [batch, M, K] and
// [batch, K, N] (or [batch, N, K], read transposed), the labels both have
// and the output too being the batch, those both have and the output not
// the contracted K; a batched MatMul, or a MatMul by a constant
// [K, N] where one operand is a constant without batch labels, multiplies
// them; the product is viewed with the output's labels and transposed to
// their order. Transposes that would not move anything are left out.
// Refused: more operands, a label twice in one operand (a diagonal),
// labels whose sizes differ (broadcasting), summing or contracting the
// batch axis.

// Labels: the letters in ASCII order ('A' is 0, 'a' 26), so that sorting
// labels sorts letters as the implicit output does; the axes an ellipsis
// stands for are ellipsisLabel + their place among the widest ellipsis's
// axes, aligned on the right as numpy broadcasts.
const ellipsisLabel = 52

func labelName(l int) string {
	switch {
	case l >= ellipsisLabel:
		return fmt.Sprintf("...[%d]", l-ellipsisLabel)
	case l >= 26:
		return string(rune('a' + l - 26))
	}
	return string(rune('A' + l))
}

// einsumTerm is one term of an equation: its labels, and where its
// ellipsis is (-1 for none) and how many axes it stands for (set once
// the operand's rank is known).
type einsumTerm struct {
	labels   []int // letters; the ellipsis's axes are spliced in at at
	at, axes int
}

func parseEinsumTerm(t string) (einsumTerm, error) {
	term := einsumTerm{at: -1}
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= 'A' && c <= 'Z':
			term.labels = append(term.labels, int(c-'A'))
		case c >= 'a' && c <= 'z':
			term.labels = append(term.labels, 26+int(c-'a'))
		case strings.HasPrefix(t[i:], "...") && term.at < 0:
			term.at = len(term.labels)
			i += 2
		default:
			return term, fmt.Errorf("term %q: unexpected %q", t, t[i:])
		}
	}
	return term, nil
}

// expand is the term's labels with its ellipsis's axes, the last e of the
// widest ellipsis's widest.
func (t einsumTerm) expand(widest int) []int {
	if t.at < 0 {
		return t.labels
	}
	out := slices.Clone(t.labels[:t.at])
	for j := range t.axes {
		out = append(out, ellipsisLabel+widest-t.axes+j)
	}
	return append(out, t.labels[t.at:]...)
}

// parseEinsum reads an equation for operands of the given ranks and
// returns each operand's labels and the output's.
func parseEinsum(eq string, ranks []int) (ins [][]int, out []int, err error) {
	eq = strings.ReplaceAll(eq, " ", "")
	lhs, rhs, explicit := strings.Cut(eq, "->")
	parts := strings.Split(lhs, ",")
	if len(parts) != len(ranks) {
		return nil, nil, fmt.Errorf("equation %q has %d operand terms for %d inputs", eq, len(parts), len(ranks))
	}
	terms := make([]einsumTerm, len(parts))
	widest := 0
	for i, p := range parts {
		if terms[i], err = parseEinsumTerm(p); err != nil {
			return nil, nil, err
		}
		t := &terms[i]
		switch {
		case t.at < 0 && len(t.labels) != ranks[i]:
			return nil, nil, fmt.Errorf("term %q has %d labels for input %d of rank %d", p, len(t.labels), i, ranks[i])
		case t.at >= 0 && len(t.labels) > ranks[i]:
			return nil, nil, fmt.Errorf("term %q has %d labels for input %d of rank %d", p, len(t.labels), i, ranks[i])
		case t.at >= 0:
			t.axes = ranks[i] - len(t.labels)
			widest = max(widest, t.axes)
		}
	}
	count := map[int]int{}
	for i, t := range terms {
		ins = append(ins, t.expand(widest))
		seen := map[int]bool{}
		for _, l := range ins[i] {
			if seen[l] {
				return nil, nil, fmt.Errorf("label %s appears twice in term %q (a diagonal)", labelName(l), parts[i])
			}
			seen[l] = true
			count[l]++
		}
	}
	if !explicit {
		for j := range widest {
			out = append(out, ellipsisLabel+j)
		}
		for l, c := range count {
			if c == 1 && l < ellipsisLabel {
				out = append(out, l)
			}
		}
		slices.Sort(out[widest:])
		return ins, out, nil
	}
	t, err := parseEinsumTerm(rhs)
	if err != nil {
		return nil, nil, err
	}
	t.axes = widest
	out = t.expand(widest)
	seen := map[int]bool{}
	for _, l := range out {
		if seen[l] || count[l] == 0 {
			return nil, nil, fmt.Errorf("output label %s is repeated or in no input", labelName(l))
		}
		seen[l] = true
	}
	return ins, out, nil
}

// einsumOperand is a value and the labels of its axes, in order.
type einsumOperand struct {
	v      int
	labels []int
}

// einsum reads an Einsum of one or two operands.
func (r *nodeReader) einsum(n *node) error {
	if err := r.inputs(1, 2); err != nil {
		return err
	}
	eq, err := r.a.str("equation", "")
	if err != nil {
		return err
	}
	e := einsumPlan{r: r, size: map[int][3]int{}}
	var ranks []int
	for i := range r.np.GetInput() {
		v, s, err := r.requiredShapes(i)
		if err != nil {
			return err
		}
		e.ops = append(e.ops, einsumOperand{v: v})
		e.shapes = append(e.shapes, s)
		ranks = append(ranks, len(s[0]))
	}
	ins, out, err := parseEinsum(eq, ranks)
	if err != nil {
		return r.errorf("%v", err)
	}
	for i, labels := range ins {
		e.ops[i].labels = labels
		batch := batchAxes(e.shapes[i])
		for d, l := range labels {
			var s [3]int
			for k := range s {
				s[k] = e.shapes[i][k][d]
			}
			if old, ok := e.size[l]; ok && old != s {
				return r.errorf("label %s has sizes %d and %d (broadcasting is not supported)", labelName(l), old[0], s[0])
			}
			e.size[l] = s
			if batch[d] {
				e.batch = l
				e.hasBatch = true
			}
		}
	}
	if e.hasBatch && !slices.Contains(out, e.batch) {
		return r.errorf("equation %q sums over the batch axis (label %s)", eq, labelName(e.batch))
	}
	for i := range e.ops {
		if err := e.sumOut(i, out); err != nil {
			return err
		}
	}
	if len(e.ops) == 1 {
		op := e.ops[0]
		if nd, moved := e.transpose(op, out); moved {
			n.become(nd)
		} else {
			n.become(node{kind: nView, view: viewIdentity, in: []int{op.v}})
		}
		return nil
	}
	return e.multiply(n, out)
}

// einsumPlan holds what einsum has read: the operands as the plan changes
// them, their shapes at batch sizes 1 to 3, each label's size at those,
// and the label of the batch axis if any.
type einsumPlan struct {
	r        *nodeReader
	ops      []einsumOperand
	shapes   [][3][]int
	size     map[int][3]int
	batch    int
	hasBatch bool
}

// has is whether operand i has label l.
func (e *einsumPlan) has(i, l int) bool { return slices.Contains(e.ops[i].labels, l) }

// sumOut sums operand i over the labels no other operand and not the
// output has.
func (e *einsumPlan) sumOut(i int, out []int) error {
	op := &e.ops[i]
	var axes []int
	var kept []int
	for d, l := range op.labels {
		alone := !slices.Contains(out, l)
		for j := range e.ops {
			alone = alone && (j == i || !e.has(j, l))
		}
		if alone {
			axes = append(axes, d)
		} else {
			kept = append(kept, l)
		}
	}
	if len(axes) == 0 {
		return nil
	}
	if len(kept) == 0 {
		return e.r.errorf("summing every axis of input %d is not supported", i)
	}
	sum := node{kind: nGlobalPool, pool: poolParams{mode: PoolSum}, axes: axes, squeeze: true, in: []int{op.v}}
	if err := e.r.reduceLast(&sum, "a sum"); err != nil {
		return err
	}
	op.v, op.labels = e.r.addBefore(sum, fmt.Sprintf("input %d summed", i)), kept
	return nil
}

// transpose is a Transpose of op's axes to the labels' order, and
// whether it moves any.
func (e *einsumPlan) transpose(op einsumOperand, labels []int) (node, bool) {
	perm := make([]int, len(labels))
	moved := false
	for d, l := range labels {
		perm[d] = slices.Index(op.labels, l)
		moved = moved || perm[d] != d
	}
	return node{kind: nTranspose, perm: perm, in: []int{op.v, e.r.b.oneValue()}}, moved
}

// permute transposes op's axes to the labels' order, if they are not in
// it already.
func (e *einsumPlan) permute(op *einsumOperand, labels []int, what string) {
	if nd, moved := e.transpose(*op, labels); moved {
		op.v = e.r.addBefore(nd, what)
	}
	op.labels = labels
}

// reshape is a view of v, whose axes are the groups' labels in order, with
// one axis a group: its size the product of the group's sizes, which
// depends on the batch size where the group holds the batch's label.
func (e *einsumPlan) reshape(v int, groups [][]int) node {
	nd := node{kind: nView, view: viewReshape, in: []int{v}}
	for _, g := range groups {
		one, two := e.product(g, 0), e.product(g, 1)
		per := two - one // the batch axis grows by one item from batch size 1 to 2
		nd.shape = append(nd.shape, one-per)
		nd.shapeBatch = append(nd.shapeBatch, per)
	}
	if !slices.ContainsFunc(nd.shapeBatch, func(d int) bool { return d != 0 }) {
		nd.shapeBatch = nil
	}
	return nd
}

// singles is each label a group of its own.
func singles(labels []int) [][]int {
	g := make([][]int, len(labels))
	for i, l := range labels {
		g[i] = []int{l}
	}
	return g
}

// multiply plans the product of the two operands, each with only labels
// the other or the output has.
func (e *einsumPlan) multiply(n *node, out []int) error {
	r := e.r
	a, b := 0, 1
	constA, constB := r.b.m.values[e.ops[0].v].kind == valConst, r.b.m.values[e.ops[1].v].kind == valConst
	if constA && constB {
		return r.errorf("an Einsum of two constants is not supported")
	}
	if constA {
		a, b = 1, 0
	}
	var batch, k, m, nn []int
	for _, l := range e.ops[a].labels {
		switch {
		case e.has(b, l) && slices.Contains(out, l):
			batch = append(batch, l)
		case e.has(b, l): // not the batch's: einsum refused summing it
			k = append(k, l)
		default:
			m = append(m, l)
		}
	}
	for _, l := range e.ops[b].labels {
		if !e.has(a, l) {
			nn = append(nn, l)
		}
	}
	opA, opB := &e.ops[a], &e.ops[b]
	cat := func(gs ...[]int) []int { return slices.Concat(gs...) }
	var prod int
	if r.b.m.values[opB.v].kind == valConst {
		if len(batch) > 0 {
			return r.errorf("a constant operand with labels the output and the other operand have (%s) is not supported", labelName(batch[0]))
		}
		c := r.b.m.values[opB.v].c
		if c.f32 == nil {
			return r.errorf("input %d is a %s constant (float32 only)", b, dtypeName(c.dtype))
		}
		var perm []int
		for _, l := range cat(k, nn) {
			perm = append(perm, slices.Index(opB.labels, l))
		}
		w := r.b.m.addValue(value{name: r.b.m.values[opB.v].name + "/[K, N]", kind: valConst,
			c: floatTensor(transposed(c.f32, c.dims, perm), e.product(k, 0), e.product(nn, 0))})
		e.permute(opA, cat(m, k), "operand [M, K]")
		x := r.addBefore(e.reshape(opA.v, [][]int{m, k}), "operand as [M, K]")
		prod = r.addBefore(node{kind: nGemm, gemm: gemmParams{alpha: 1, beta: 1, matmul: true}, in: []int{x, w}}, "product")
	} else {
		e.permute(opA, cat(batch, m, k), "operand [batch, M, K]")
		x := r.addBefore(e.reshape(opA.v, [][]int{batch, m, k}), "operand as [batch, M, K]")
		groups := [][]int{batch, nn, k}
		transB := slices.Equal(opB.labels, cat(batch, nn, k))
		if !transB {
			e.permute(opB, cat(batch, k, nn), "operand [batch, K, N]")
			groups = [][]int{batch, k, nn}
		}
		y := r.addBefore(e.reshape(opB.v, groups), "operand as [batch, K, N]")
		prod = r.addBefore(node{kind: nBatchMatMul, gemm: gemmParams{alpha: 1, beta: 1, matmul: true, transB: transB}, in: []int{x, y}}, "product")
	}
	// The product, with the output's labels, in their order.
	labels := cat(batch, m, nn)
	shaped := e.reshape(prod, singles(labels))
	if slices.Equal(labels, out) {
		n.become(shaped)
		return nil
	}
	nd, _ := e.transpose(einsumOperand{v: r.addBefore(shaped, "product with the output's labels"), labels: labels}, out)
	n.become(nd)
	return nil
}

// product is the product of the labels' sizes at batch size k+1.
func (e *einsumPlan) product(labels []int, k int) int {
	p := 1
	for _, l := range labels {
		p *= e.size[l][k]
	}
	return p
}
