package engine

import "slices"

// 1-D convolutions, transposed convolutions, pools, pads and resizes
// (audio and sequence models: Conv1d, MaxPool1d, a causal convolution's
// F.pad, nn.Upsample) are the 2-D ones of height 1. A Conv, ConvTranspose,
// pool or Resize node is marked lifted: its window attributes are read
// with a first value that does nothing (kernel, stride and dilation 1, no
// padding), a Resize's scales and sizes get a 1 for the height, and its
// rank-3 tensors ([N, C, L], the weights [M, C/group, k]) get a unit
// height where shapes are checked and ops planned, so that every runtime
// runs them as the 2-D ops it already has, on the same bytes. A Pad of
// either rank is planned over planes of the axes it pads (padPlanes), and
// so needs no lifting.

// lift puts first before v's only value; v of two values is as it is.
func lift(v []int, first int) []int {
	if len(v) != 1 {
		return v
	}
	return []int{first, v[0]}
}

// liftList puts first before the last of v's three values (a Resize's
// scales or sizes of [N, C, L]); other lists are as they are.
func liftList[T any](v []T, first T) []T {
	if len(v) != 3 {
		return v
	}
	return slices.Insert(slices.Clone(v), 2, first)
}

// spatialRank is the number of spatial axes n's attributes give.
func (n *node) spatialRank() int {
	if n.lifted {
		return 1
	}
	return 2
}

// spatialInts reads attribute name, one value per spatial axis, each at
// least lo, lifted with first.
func (r *nodeReader) spatialInts(n *node, name string, lo int64, first int) ([]int, error) {
	v, err := r.a.ints(name, n.spatialRank(), lo, maxDim)
	return lift(v, first), err
}

// spatialPads reads pads: the begins then the ends of the spatial axes,
// as top, left, bottom, right.
func (r *nodeReader) spatialPads(n *node) ([]int, error) {
	p, err := r.a.ints("pads", 2*n.spatialRank(), 0, maxDim)
	if err != nil || p == nil || !n.lifted {
		return p, err
	}
	return []int{0, p[0], 0, p[1]}, nil
}

// liftShape gives a rank-3 shape a unit height: [N, C, 1, L].
func liftShape(s []int) []int {
	if len(s) != 3 {
		return s
	}
	return slices.Insert(slices.Clone(s), 2, 1)
}

// liftedShape is a lifted node's output shape: its rank-3 inputs lifted,
// the 2-D output's height dropped.
func (n *node) liftedShape(in [][]int, batch int) ([]int, error) {
	if len(in[0]) != 3 {
		return nil, n.errorf("input has shape %v: a 1-D %s takes [N, C, L]", in[0], n.op)
	}
	lifted := make([][]int, len(in))
	for i, s := range in {
		lifted[i] = liftShape(s)
	}
	y, err := n.shape2D(lifted, batch)
	if err != nil {
		return nil, err
	}
	return slices.Delete(y, 2, 3), nil
}
