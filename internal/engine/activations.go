package engine

// activation reads the activations with parameters of their own: Elu and
// Selu (one kind, Selu's gamma as Beta), Softplus, Softsign, Mish, Gelu
// (opset 20, exact or with approximate "tanh"), ThresholdedRelu and Celu.
func (r *nodeReader) activation(n *node, op string) error {
	a := r.a
	n.kind = nActivate
	var err error
	switch op {
	case "Elu":
		n.act = Activation{Kind: ActElu, Beta: 1}
		n.act.Alpha, err = a.float("alpha", 1)
	case "Selu":
		n.act.Kind = ActElu
		if n.act.Alpha, err = a.float("alpha", 1.67326319217681884765625); err == nil {
			n.act.Beta, err = a.float("gamma", 1.05070102214813232421875)
		}
	case "Softplus":
		n.act.Kind = ActSoftplus
	case "Softsign":
		n.act.Kind = ActSoftsign
	case "Mish":
		n.act.Kind = ActMish
	case "Gelu":
		var approx string
		approx, err = a.str("approximate", "none")
		switch {
		case err != nil:
		case approx == "none":
			n.act.Kind = ActGelu
		case approx == "tanh":
			n.act.Kind = ActGeluTanh
		default:
			err = r.errorf("approximate %q (want none or tanh)", approx)
		}
	case "ThresholdedRelu":
		n.act.Kind = ActThresholdedRelu
		n.act.Alpha, err = a.float("alpha", 1)
	case "Celu":
		n.act.Kind = ActCelu
		if n.act.Alpha, err = a.float("alpha", 1); err == nil && n.act.Alpha == 0 {
			err = r.errorf("alpha 0 (Celu divides by it)")
		}
	}
	if err != nil {
		return err
	}
	return r.unary(n)
}

// prelu reads a PRelu: x where x ≥ 0, else slope·x, the slope a constant
// that broadcasts to x. One slope is a LeakyRelu; a slope per channel
// (nn.PReLU(C)) is max(x, 0) + slope·(x − max(x, 0)), three nodes of
// their own before n, which adds the two parts.
func (r *nodeReader) prelu(n *node) error {
	if err := r.inputs(2, 2); err != nil {
		return err
	}
	x, err := r.required(0)
	if err != nil {
		return err
	}
	slope, sv, err := r.floatConst(1, -1)
	if err != nil {
		return err
	}
	if slope == nil {
		return r.errorf("the slope must be a constant")
	}
	if len(slope.f32) == 1 {
		n.kind, n.act, n.in = nActivate, Activation{Kind: ActLeakyRelu, Alpha: slope.f32[0]}, []int{x}
		return nil
	}
	pos := r.addBefore(node{kind: nActivate, act: Activation{Kind: ActRelu}, in: []int{x}}, "positive part")
	neg := r.addBefore(node{kind: nBinary, binop: Sub, in: []int{x, pos}}, "negative part")
	scaled := r.addBefore(node{kind: nBinary, binop: Mul, in: []int{neg, sv}}, "scaled negative part")
	n.kind, n.binop, n.in = nBinary, Add, []int{pos, scaled}
	return nil
}
