package engine

import "fmt"

// splitLargeConvs makes a convolution whose weights are larger than a
// page, which no tensor may cross, several: each computes the output
// channels whose weights fit one page (bias, activation and all), and a
// Concat of their outputs along the channels is the convolution's output.
// Wide ResNet-50-2's last 3×3 convolutions (1024 × 1024 × 3 × 3, 36 MiB)
// are three of 16 MiB pages. A residual the convolution had fused is
// added after the Concat, with the activation; the Concat (and the Add) is
// a copy of the output, small beside the convolution. Only ungrouped
// convolutions are split: a group's outputs read only its input channels,
// so parts of a grouped one would need their own slices of X. Runs after
// fusion, on the weights batch norms were folded into.
func (m *Model) splitLargeConvs(pageSize int64) {
	var nodes []node
	for _, n := range m.nodes {
		if n.dead || n.kind != nConv || !m.largeConst(n.in[1], pageSize) {
			nodes = append(nodes, n)
			continue
		}
		w := m.values[n.in[1]]
		outs := w.c.dims[0]
		per := len(w.c.f32) / outs // weights of one output channel
		fit := int(pageSize / (4 * int64(per)))
		if n.conv.group != 1 || fit == 0 {
			nodes = append(nodes, n) // the weights' layout says why not
			continue
		}
		z := n.in[3]
		var parts []int
		for m0 := 0; m0 < outs; m0 += fit {
			cnt := min(fit, outs-m0)
			span := fmt.Sprintf("[out %d:%d]", m0, m0+cnt)
			dims := append([]int{cnt}, w.c.dims[1:]...)
			part := n
			part.name = n.name + span
			part.in = []int{n.in[0], m.addValue(value{name: w.name + span, kind: valConst, c: floatTensor(w.c.f32[m0*per:(m0+cnt)*per], dims...)}), -1, -1}
			if b := n.in[2]; b >= 0 {
				part.in[2] = m.addValue(value{name: m.values[b].name + span, kind: valConst, c: floatTensor(m.values[b].c.f32[m0:m0+cnt], cnt)})
			}
			if z >= 0 {
				part.act = Activation{}
			}
			part.out = m.addValue(value{name: m.values[n.out].name + span, kind: valNode})
			nodes = append(nodes, part)
			parts = append(parts, part.out)
		}
		cat := node{kind: nConcat, op: n.op, name: n.name + "[concat]", axis: 1, in: parts, out: n.out}
		if z >= 0 {
			cat.out = m.addValue(value{name: m.values[n.out].name + "[concat]", kind: valNode})
			nodes = append(nodes, cat)
			cat = node{kind: nBinary, binop: Add, op: n.op, name: n.name + "[residual]", in: []int{cat.out, z}, act: n.act, out: n.out}
		}
		nodes = append(nodes, cat)
	}
	if len(nodes) == len(m.nodes) {
		return
	}
	m.nodes = nodes
	for i, n := range m.nodes {
		if !n.dead {
			m.values[n.out].prod = i
		}
	}
}

// largeConst is whether value v is a float constant larger than a page.
func (m *Model) largeConst(v int, pageSize int64) bool {
	c := m.values[v]
	return c.kind == valConst && int64(len(c.c.f32))*4 > pageSize
}
