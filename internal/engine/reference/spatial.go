package reference

import (
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/clockwork-go/clockwork/internal/onnx"
)

// spatial applies f, a 2-D Conv, ConvTranspose or pool, to n. A 1-D one
// (X of shape [N, C, L]) is the 2-D one of height 1: its rank-3 inputs
// get a unit height, its window attributes a first value that does
// nothing (kernel, stride and dilation 1, no padding), and the output
// loses the height again.
func spatial(n node, f func(node) Tensor) Tensor {
	if len(n.x(0).Shape) != 3 {
		return f(n)
	}
	p := proto.Clone(n.n).(*onnx.NodeProto)
	env := make(map[string]value, len(n.env))
	for k, v := range n.env {
		env[k] = v
	}
	for _, name := range p.GetInput() {
		if v, ok := env[name]; ok && name != "" && len(v.t.Shape) == 3 {
			v.t = Tensor{Shape: slices.Insert(slices.Clone(v.t.Shape), 2, 1), Data: v.t.Data}
			env[name] = v
		}
	}
	for _, a := range p.GetAttribute() {
		v := a.GetInts()
		switch a.GetName() {
		case "kernel_shape", "strides", "dilations":
			a.Ints = append([]int64{1}, v...)
		case "output_padding":
			a.Ints = append([]int64{0}, v...)
		case "pads":
			if len(v) == 2 {
				a.Ints = []int64{0, v[0], 0, v[1]}
			}
		case "output_shape":
			a.Ints = slices.Insert(slices.Clone(v), len(v)-1, 1)
		}
	}
	y := f(node{n: p, env: env})
	return Tensor{Shape: slices.Delete(y.Shape, 2, 3), Data: y.Data}
}
