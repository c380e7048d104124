package engine

import (
	"fmt"
	"math"
)

// Normalisations over computed statistics: LayerNormalization,
// InstanceNormalization and GroupNormalization are each a LayerNorm op
// (over the trailing axes of a view of their input), then an Affine per
// channel where their scale and bias are per channel. BatchNormalization,
// with constant statistics, is an Affine alone (translate.go).

// epsilon reads a normalisation's epsilon attribute (1e-5 by default).
func (r *nodeReader) epsilon() (float32, error) {
	eps, err := r.a.float("epsilon", 1e-5)
	if err == nil && (!(eps >= 0) || math.IsInf(float64(eps), 1)) {
		err = r.errorf("epsilon %g is not a finite number ≥ 0", eps)
	}
	return eps, err
}

// layerNorm reads a LayerNormalization (opset 17): X normalised over its
// axes from axis on, then scaled and shifted elementwise by constants of
// that many elements. Its Mean and InvStdDev outputs are not computed.
func (r *nodeReader) layerNorm(n *node) error {
	if r.b.m.opset < 17 {
		return r.errorf("LayerNormalization is an operator of opset 17, the model imports opset %d", r.b.m.opset)
	}
	if err := r.inputs(2, 3); err != nil {
		return err
	}
	var err error
	if n.axis, err = r.a.int("axis", -1, -maxDim, maxDim); err != nil {
		return err
	}
	if n.epsilon, err = r.epsilon(); err != nil {
		return err
	}
	if _, err := r.a.int("stash_type", 1, 1, 1); err != nil {
		return err
	}
	x, err := r.required(0)
	if err != nil {
		return err
	}
	n.kind, n.in = nLayerNorm, []int{x, -1, -1}
	for i := 1; i < len(r.np.GetInput()); i++ {
		c, v, err := r.floatConst(i, -1)
		if err != nil {
			return err
		}
		if c == nil && i == 1 {
			return r.errorf("missing input 1 (scale)")
		}
		n.in[i] = v
	}
	return nil
}

// instanceNorm reads an InstanceNormalization: each channel of each item
// normalised over its spatial axes, then scaled and shifted per channel.
// That is a LayerNorm of axis 2 without scale or bias, a node of its own
// before n, which is the per-channel Affine (GroupNorm as PyTorch exports
// it before opset 18 is one between two Reshapes).
func (r *nodeReader) instanceNorm(n *node) error {
	if err := r.inputs(3, 3); err != nil {
		return err
	}
	eps, err := r.epsilon()
	if err != nil {
		return err
	}
	x, err := r.required(0)
	if err != nil {
		return err
	}
	n.kind, n.in = nAffine, []int{-1, -1, -1}
	for i := 1; i < 3; i++ {
		c, v, err := r.floatConst(i, 1)
		if err != nil {
			return err
		}
		if c == nil {
			return r.errorf("missing input %d (scale and B are constants)", i)
		}
		n.in[i] = v
	}
	n.in[0] = r.addBefore(node{kind: nLayerNorm, axis: 2, epsilon: eps, in: []int{x, -1, -1}}, "normalised")
	return nil
}

// groupNorm reads a GroupNormalization (opset 18): each item's channels
// in num_groups groups, each group normalised over its channels and
// spatial axes, then scaled and shifted per channel (opset 21; opsets 18
// to 20 gave scale and bias per group, which are repeated for each of the
// group's channels here). The LayerNorm runs on a view of X as [N,
// groups, the rest]; n is the Affine of the normalised X.
func (r *nodeReader) groupNorm(n *node) error {
	if r.b.m.opset < 18 {
		return r.errorf("GroupNormalization is an operator of opset 18, the model imports opset %d", r.b.m.opset)
	}
	if err := r.inputs(3, 3); err != nil {
		return err
	}
	if !r.a.has("num_groups") {
		return r.errorf("missing attribute \"num_groups\"")
	}
	groups, err := r.a.int("num_groups", 0, 1, maxDim)
	if err != nil {
		return err
	}
	eps, err := r.epsilon()
	if err != nil {
		return err
	}
	if _, err := r.a.int("stash_type", 1, 1, 1); err != nil {
		return err
	}
	x, s, err := r.requiredShapes(0)
	if err != nil {
		return err
	}
	if len(s[0]) < 2 || s[0][1]%groups != 0 {
		return r.errorf("input has shape %v: want [N, C, ...] with C a multiple of num_groups %d", s[0], groups)
	}
	c := s[0][1]
	n.kind, n.in = nAffine, []int{-1, -1, -1}
	for i := 1; i < 3; i++ {
		p, _, err := r.floatConst(i, 1)
		if err != nil {
			return err
		}
		if p == nil {
			return r.errorf("missing input %d (scale and bias are constants)", i)
		}
		perChannel := p.f32
		switch {
		case len(p.f32) == c:
		case len(p.f32) == groups && r.b.m.opset < 21:
			perChannel = make([]float32, 0, c)
			for _, v := range p.f32 {
				for range c / groups {
					perChannel = append(perChannel, v)
				}
			}
		default:
			return r.errorf("input %d has %d elements, want %d (one per channel)", i, len(p.f32), c)
		}
		n.in[i] = r.b.m.addValue(value{name: fmt.Sprintf("%s.group_norm_%d", r.np.GetOutput()[0], i), kind: valConst, c: floatTensor(perChannel, c)})
	}
	grouped := r.addBefore(node{kind: nView, view: viewReshape, shape: []int{0, groups, -1}, in: []int{x}}, "grouped")
	normed := r.addBefore(node{kind: nLayerNorm, axis: 2, epsilon: eps, in: []int{grouped, -1, -1}}, "normalised")
	back := make([]int, len(s[0]))
	copy(back[1:], s[0][1:])
	n.in[0] = r.addBefore(node{kind: nView, view: viewReshape, shape: back, in: []int{normed}}, "ungrouped")
	return nil
}
