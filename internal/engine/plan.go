package engine

import "fmt"

// maxBatch bounds Plan's batch size.
const maxBatch = 1 << 16

// workspaceAlign aligns every workspace tensor.
const workspaceAlign = 256

// Plan is a Model's op list for one batch size with its memory plan. The
// IO region holds the inputs from offset 0 in Model.Inputs order, each
// [Batch, item shape...], then the outputs right after them; the workspace
// holds every intermediate tensor, sharing bytes between tensors whose
// lifetimes do not overlap. A Plan holds no memory; executors bind it to
// buffers of IOBytes and WorkspaceBytes and to the weights pages.
type Plan struct {
	Batch          int
	Ops            []Op
	Inputs         []TensorRef // parallel to Model.Inputs
	Outputs        []TensorRef // parallel to Model.Outputs
	InputBytes     int64       // Σ input sizes; outputs start here
	OutputBytes    int64
	IOBytes        int64 // InputBytes + OutputBytes
	WorkspaceBytes int64
}

// place is where a value lives during planning.
type place struct {
	region Region
	page   int
	off    int64
	buf    int // workspace buffer, -1 if none
}

// buffer is a workspace tensor's size and the ops (by index) between which
// it is live, inclusive.
type buffer struct {
	size        int64
	first, last int
}

// Plan builds the op list for a batch size.
func (m *Model) Plan(batch int) (*Plan, error) {
	if batch < 1 || batch > maxBatch {
		return nil, errorf("invalid batch size %d", batch)
	}
	shapes, err := m.infer(batch)
	if err != nil {
		return nil, err
	}
	pl := &planner{m: m, shapes: shapes, places: make([]place, len(m.values))}
	p := &Plan{Batch: batch}
	for v := range pl.places {
		pl.places[v].buf = -1
	}
	// IO region: inputs, then outputs.
	var off int64
	for v, val := range m.values {
		if val.kind == valInput {
			pl.places[v] = place{region: IO, off: m.inputOffset(val.input, batch), buf: -1}
		}
	}
	for i := range m.Inputs {
		p.Inputs = append(p.Inputs, TensorRef{Region: IO, Offset: off, Shape: append([]int{batch}, m.Inputs[i].Shape...)})
		off += int64(batch) * m.Inputs[i].Bytes()
	}
	p.InputBytes = off
	copies := make([]bool, len(m.outputs))
	claimed := make(map[int]bool)
	for i, o := range m.outputs {
		ref := TensorRef{Region: IO, Offset: off, Shape: shapes[o]}
		p.Outputs = append(p.Outputs, ref)
		off += ref.Bytes()
		val := m.values[o]
		if val.kind != valNode || m.nodes[val.prod].kind == nView || claimed[o] {
			copies[i] = true
			continue
		}
		claimed[o] = true
		pl.places[o] = place{region: IO, off: ref.Offset, buf: -1}
	}
	p.IOBytes = off
	p.OutputBytes = p.IOBytes - p.InputBytes
	for v, w := range m.weightOf {
		t := &m.Weights.Tensors[w]
		pl.places[v] = place{region: Weights, page: t.Page, off: t.Offset, buf: -1}
	}

	// Walk the nodes: views alias their input, other nodes become ops
	// whose outputs get workspace buffers unless they are outputs.
	var steps []int // node index per op, -1 - i for the copy of output i
	for i := range m.nodes {
		n := &m.nodes[i]
		if n.dead {
			continue
		}
		if n.kind == nView {
			pl.places[n.out] = pl.places[n.in[0]]
			continue
		}
		idx := len(steps)
		for _, v := range n.in {
			if v >= 0 {
				pl.read(v, idx)
			}
		}
		if pl.places[n.out].region == Absent {
			pl.bufs = append(pl.bufs, buffer{size: TensorRef{Shape: shapes[n.out]}.Bytes(), first: idx, last: idx})
			pl.places[n.out] = place{region: Workspace, buf: len(pl.bufs) - 1}
		}
		steps = append(steps, i)
	}
	for i, o := range m.outputs {
		if copies[i] {
			pl.read(o, len(steps))
			steps = append(steps, -1-i)
		}
	}

	offs, total := assignOffsets(pl.bufs)
	for v := range pl.places {
		if b := pl.places[v].buf; b >= 0 {
			pl.places[v].off = offs[b]
		}
	}
	p.WorkspaceBytes = total
	for _, s := range steps {
		if s < 0 {
			o := m.outputs[-1-s]
			p.Ops = append(p.Ops, &Copy{Nodes: "output " + m.values[o].name, X: pl.ref(o), Y: p.Outputs[-1-s]})
			continue
		}
		ops, err := pl.ops(&m.nodes[s])
		if err != nil {
			return nil, err
		}
		p.Ops = append(p.Ops, ops...)
	}
	return p, nil
}

func (m *Model) inputOffset(input, batch int) int64 {
	var off int64
	for i := range input {
		off += int64(batch) * m.Inputs[i].Bytes()
	}
	return off
}

type planner struct {
	m      *Model
	shapes [][]int
	places []place
	bufs   []buffer
	// lifting is set while ops plans a lifted node: ref then gives its
	// rank-3 tensors a unit height (spatial.go).
	lifting bool
}

// read records that op idx reads value v.
func (pl *planner) read(v, idx int) {
	if b := pl.places[v].buf; b >= 0 {
		pl.bufs[b].last = max(pl.bufs[b].last, idx)
	}
}

func (pl *planner) ref(v int) TensorRef {
	if v < 0 {
		return TensorRef{}
	}
	pc := pl.places[v]
	shape := pl.shapes[v]
	if pl.lifting {
		shape = liftShape(shape)
	}
	return TensorRef{Region: pc.region, Page: pc.page, Offset: pc.off, Shape: shape}
}

// ops translates one node into its ops.
func (pl *planner) ops(n *node) ([]Op, error) {
	pl.lifting = n.lifted
	defer func() { pl.lifting = false }()
	in := make([][]int, len(n.in))
	for j, v := range n.in {
		if v >= 0 {
			in[j] = pl.ref(v).Shape
		}
	}
	x, y := pl.ref(n.in[0]), pl.ref(n.out)
	switch n.kind {
	case nConv:
		g, err := n.convGeom(in[0], in[1])
		if err != nil {
			return nil, err
		}
		w := pl.ref(n.in[1])
		return []Op{&Conv{
			Nodes: n.name, X: x, W: w, B: pl.ref(n.in[2]), Z: pl.ref(n.in[3]), Y: y,
			Groups: n.conv.group, KernelH: w.Shape[2], KernelW: w.Shape[3],
			StrideH: n.conv.strides[0], StrideW: n.conv.strides[1],
			DilationH: n.conv.dilations[0], DilationW: n.conv.dilations[1],
			PadTop: g.padTop, PadLeft: g.padLeft, PadBottom: g.padBottom, PadRight: g.padRight,
			Act: n.act,
		}}, nil
	case nPool:
		g, err := n.poolGeom(in[0])
		if err != nil {
			return nil, err
		}
		p := &n.pool
		return []Op{&Pool{
			Nodes: n.name, Mode: p.mode, X: x, Y: y,
			KernelH: p.kernel[0], KernelW: p.kernel[1], StrideH: p.strides[0], StrideW: p.strides[1],
			DilationH: p.dilations[0], DilationW: p.dilations[1],
			PadTop: g.padTop, PadLeft: g.padLeft, PadBottom: g.padBottom, PadRight: g.padRight,
			CountIncludePad: p.countIncludePad,
		}}, nil
	case nGlobalPool:
		// Viewed as [outer, 1, the pooled elements].
		k, err := n.meanFrom(in[0])
		if err != nil {
			return nil, err
		}
		x.Shape = []int{numElems(in[0][:k]), 1, numElems(in[0][k:])}
		return []Op{&GlobalPool{Nodes: n.name, Mode: n.pool.mode, X: x, Y: y}}, nil
	case nGemm:
		return pl.gemm(n, in, x, y)
	case nBinary:
		dims, sa, sb := broadcastStrides(in[0], in[1], pl.shapes[n.out])
		return []Op{&Binary{Nodes: n.name, Op: n.binop, A: x, B: pl.ref(n.in[1]), Y: y, Dims: dims, StrideA: sa, StrideB: sb, Act: n.act}}, nil
	case nConvTranspose:
		g, err := n.deconvGeom(in[0], in[1])
		if err != nil {
			return nil, err
		}
		w := pl.ref(n.in[1])
		return []Op{&ConvTranspose{
			Nodes: n.name, X: x, W: w, B: pl.ref(n.in[2]), Y: y,
			Groups: n.conv.group, KernelH: w.Shape[2], KernelW: w.Shape[3],
			StrideH: n.conv.strides[0], StrideW: n.conv.strides[1],
			DilationH: n.conv.dilations[0], DilationW: n.conv.dilations[1],
			PadTop: g.padTop, PadLeft: g.padLeft, Act: n.act,
		}}, nil
	case nLRN:
		op := n.lrn
		op.Nodes, op.X, op.Y = n.name, x, y
		return []Op{&op}, nil
	case nResize:
		return []Op{&Resize{Nodes: n.name, X: x, Table: pl.ref(n.in[1]), Y: y}}, nil
	case nExpand:
		dims, sx, sOne := broadcastStrides(in[0], in[1], pl.shapes[n.out])
		return []Op{&Binary{Nodes: n.name, Op: Mul, A: x, B: pl.ref(n.in[1]), Y: y, Dims: dims, StrideA: sx, StrideB: sOne, Act: n.act}}, nil
	case nBatchMatMul:
		g, err := n.bmmGeom(in)
		if err != nil {
			return nil, err
		}
		return []Op{&BatchMatMul{Nodes: n.name, A: x, B: pl.ref(n.in[1]), Y: y, Batch: g.batch, M: g.m, N: g.n, K: g.k,
			StrideA: g.strideA, StrideB: g.strideB, TransB: n.gemm.transB, Alpha: n.gemm.alpha}}, nil
	case nPad:
		outer, h, w, g, err := n.padPlanes(in[0])
		if err != nil {
			return nil, err
		}
		x.Shape, y.Shape = []int{outer, 1, h, w}, []int{outer, 1, g[0] + h + g[2], g[1] + w + g[3]}
		return []Op{&Pad{Nodes: n.name, X: x, Y: y, Top: g[0], Left: g[1], Bottom: g[2], Right: g[3]}}, nil
	case nSlice:
		first, step, counts, _, err := n.sliceGeom(in[0])
		if err != nil {
			return nil, err
		}
		xs := rowMajorStrides(in[0])
		off, fx := 0, make([]int, len(xs))
		for d := range xs {
			off += first[d] * xs[d]
			fx[d] = xs[d] * step[d]
		}
		dims, sx, sOne := mergeDims(counts, fx, make([]int, len(fx)))
		span := 1
		for d := range dims {
			span += (dims[d] - 1) * sx[d]
		}
		// A is the span of X the slice reads, from its first element.
		a := x
		a.Offset += 4 * int64(off)
		a.Shape = []int{span}
		return []Op{&Binary{Nodes: n.name, Op: Mul, A: a, B: pl.ref(n.in[1]), Y: y, Dims: dims, StrideA: sx, StrideB: sOne, Act: n.act}}, nil
	case nTranspose:
		perm, err := n.permFor(len(in[0]))
		if err != nil {
			return nil, err
		}
		dims, sx, sOne := transposeStrides(in[0], perm, pl.shapes[n.out])
		return []Op{&Binary{Nodes: n.name, Op: Mul, A: x, B: pl.ref(n.in[1]), Y: y, Dims: dims, StrideA: sx, StrideB: sOne, Act: n.act}}, nil
	case nAffine:
		return []Op{&Affine{Nodes: n.name, X: x, Scale: pl.ref(n.in[1]), Shift: pl.ref(n.in[2]), Y: y, Act: n.act}}, nil
	case nLayerNorm:
		axis, err := n.normAxis(in[0])
		if err != nil {
			return nil, err
		}
		return []Op{&LayerNorm{Nodes: n.name, X: x, Scale: pl.ref(n.in[1]), Bias: pl.ref(n.in[2]), Y: y,
			Outer: numElems(in[0][:axis]), Len: numElems(in[0][axis:]), Epsilon: n.epsilon}}, nil
	case nActivate:
		return []Op{&Activate{Nodes: n.name, X: x, Y: y, Act: n.act}}, nil
	case nConcat:
		xs := make([]TensorRef, len(n.in))
		for j, v := range n.in {
			xs[j] = pl.ref(v)
		}
		axis, err := normAxis(n, n.axis, len(in[0]))
		if err != nil {
			return nil, err
		}
		return []Op{&Concat{Nodes: n.name, Xs: xs, Y: y, Axis: axis}}, nil
	case nSoftmax:
		axis, err := normAxis(n, n.axis, len(in[0]))
		if err != nil {
			return nil, err
		}
		s := in[0]
		op := &Softmax{Nodes: n.name, X: x, Y: y, Outer: numElems(s[:axis]), Len: s[axis], Inner: numElems(s[axis+1:]), Log: n.logSoftmax}
		if n.legacySoftmax {
			op.Len, op.Inner = numElems(s[axis:]), 1
		}
		return []Op{op}, nil
	}
	return nil, n.errorf("internal error: no op for node kind %d", n.kind)
}

func (pl *planner) gemm(n *node, in [][]int, a, y TensorRef) ([]Op, error) {
	g, err := n.gemmGeom(in)
	if err != nil {
		return nil, err
	}
	p := &n.gemm
	transB := p.transB && !p.matmul
	op := Gemm{
		Nodes: n.name, A: a, B: pl.ref(n.in[1]), Y: y,
		M: g.m, N: g.n, K: g.k, TransA: p.transA && !p.matmul, TransB: transB,
		LDA: g.k, LDB: g.n, LDY: g.n, Alpha: p.alpha, Beta: p.beta, Act: n.act,
	}
	if op.TransA {
		op.LDA = g.m
	}
	if transB {
		op.LDB = g.k
	}
	if len(n.in) > 2 && n.in[2] >= 0 {
		op.C, op.CRowStride, op.CColStride = pl.ref(n.in[2]), g.cRow, g.cCol
	} else {
		op.Beta = 0
	}
	parts, split := pl.m.gemmParts[n.in[1]]
	if !split {
		return []Op{&op}, nil
	}
	ops := make([]Op, len(parts))
	for i, part := range parts {
		o := op
		o.Nodes = fmt.Sprintf("%s[cols %d:%d]", n.name, part.n0, part.n0+part.n)
		o.B, o.N0, o.N = pl.m.Weights.ref(part.weight), part.n0, part.n
		if !transB {
			o.LDB = part.n
		}
		ops[i] = &o
	}
	return ops, nil
}
