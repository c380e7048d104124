package cpuexec

import (
	"fmt"

	"github.com/clockwork-go/clockwork/internal/engine"
)

// Conv tiles: a tile of output positions of one image and group is sized
// so that its patch matrix (kdim × positions floats) stays within about
// tileBytes, in L2; the GEMM takes up to tileM of its output channels at a
// time. The workers share the (position tile, channel) pairs in blocks of
// shareRows channels (see share).
const (
	tileM     = 64
	tileP     = 256
	minTileP  = 32
	tileBytes = 1 << 20
	shareRows = 8
)

// convKernel computes a convolution as GEMMs. For each tile of positions:
// their patches, as columns (column j is the receptive field of position
// j, kdim floats: "im2col"), are packed as the GEMM reads them, once for
// all the tile's channels a worker computes, in C straight into the panels
// (in Go gathered into scratch first); for each block of up to tileM
// channels, the GEMM writes W · patches + bias + residual, activated (a
// ReLU or Clip as each tile is written, another once the block's rows
// are).
// A 1×1 convolution of unit stride without padding needs no patches: its
// input is the patch matrix.
type convKernel struct {
	op                   *engine.Conv
	n, c, h, w           int
	m, oh, ow, p         int
	groups, cg, mg, kdim int
	pt, nPT, tiles       int      // positions a tile, tiles an image and group, tiles in all
	direct               bool     // 1×1, unit stride, no padding
	patchWork            int      // floats of im2colPanel's work
	epi                  epilogue // the GEMM's activation (bias and residual set per block)
}

func newConv(o *engine.Conv) (kernel, int, error) {
	x, w, y := o.X.Shape, o.W.Shape, o.Y.Shape
	if len(x) != 4 || len(w) != 4 || len(y) != 4 || o.Groups < 1 || y[2] < 1 || y[3] < 1 {
		return nil, 0, fmt.Errorf("bad shapes X%v W%v Y%v", x, w, y)
	}
	k := &convKernel{op: o, n: x[0], c: x[1], h: x[2], w: x[3], m: w[0], oh: y[2], ow: y[3], groups: o.Groups}
	k.p = k.oh * k.ow
	k.cg, k.mg = k.c/o.Groups, k.m/o.Groups
	k.kdim = k.cg * w[2] * w[3]
	if y[0] != k.n || y[1] != k.m || k.cg != w[1] || k.cg*o.Groups != k.c || k.mg*o.Groups != k.m ||
		w[2] != o.KernelH || w[3] != o.KernelW || o.StrideH < 1 || o.StrideW < 1 || o.DilationH < 1 || o.DilationW < 1 ||
		k.oh != (k.h+o.PadTop+o.PadBottom-o.DilationH*(o.KernelH-1)-1)/o.StrideH+1 ||
		k.ow != (k.w+o.PadLeft+o.PadRight-o.DilationW*(o.KernelW-1)-1)/o.StrideW+1 {
		return nil, 0, fmt.Errorf("inconsistent geometry X%v W%v Y%v", x, w, y)
	}
	if o.B.Present() && o.B.Elems() != k.m {
		return nil, 0, fmt.Errorf("bias %v for %d channels", o.B.Shape, k.m)
	}
	if o.Z.Present() && o.Z.Elems() != o.Y.Elems() {
		return nil, 0, fmt.Errorf("residual %v for output %v", o.Z.Shape, y)
	}
	if k.h == 1 && k.w == 1 && k.p == 1 && o.KernelH == 1 && o.KernelW == 1 && o.PadTop == 0 && o.PadLeft == 0 &&
		o.Groups == 1 && !o.Z.Present() { // the one output reads the one input, not the padding
		return newPointGemm(o, k)
	}
	if k.cg == 1 && k.mg == 1 {
		if d := newDepthwise(k); d != nil {
			return d, d.work(), nil
		}
	}
	if winogradFits(k) {
		w, scratch := newWinograd(k)
		return w, scratch, nil
	}
	k.epi = epilogueOf(o.Act)
	k.direct = o.KernelH == 1 && o.KernelW == 1 && o.StrideH == 1 && o.StrideW == 1 &&
		o.PadTop == 0 && o.PadLeft == 0 && k.oh == k.h && k.ow == k.w
	k.pt = min(k.p, max(minTileP, min(tileP, tileBytes/4/max(1, k.kdim))))
	k.nPT = (k.p + k.pt - 1) / k.pt
	// Tiles of nearly even size, in whole panels but for the last: the
	// GEMM computes a panel's every column, so 196 positions as 98 + 98
	// computed 256 (4 + 4 panels), as 128 + 68 224.
	k.pt = min(k.p, ((k.p+k.nPT-1)/k.nPT+panelWidth-1)/panelWidth*panelWidth)
	k.nPT = (k.p + k.pt - 1) / k.pt
	k.tiles = k.n * k.groups * k.nPT
	if !k.direct {
		k.patchWork = k.im2colWork(k.pt)
	}
	return k, panelFloats(k.kdim, k.pt) + lineFloats + gemmWork + k.patchWork, nil // the panel aligned, work
}

func (k *convKernel) run(mem *memory, part, parts int, s *scratch) {
	o := k.op
	x, wt, y := mem.f32(o.X), mem.f32(o.W), mem.f32(o.Y)
	bias, z := mem.f32(o.B), mem.f32(o.Z)
	patchWork, rest := s.buf[:k.patchWork], s.buf[k.patchWork:]
	pf := panelFloats(k.kdim, k.pt)
	panel, work := cacheAligned(rest, pf), rest[pf+lineFloats:]
	t0, r0 := k.share(part, parts)
	t1, r1 := k.share(part+1, parts)
	for tile := t0; tile <= t1 && tile < k.tiles; tile++ {
		rows := k.mg // of this tile's channels, [first, rows)
		if tile == t1 {
			rows = r1
		}
		first := 0
		if tile == t0 {
			first = r0
		}
		if first >= rows {
			continue
		}
		pti := tile % k.nPT
		g := tile / k.nPT % k.groups
		n := tile / k.nPT / k.groups
		p0 := pti * k.pt
		np := min(k.pt, k.p-p0)
		xg := x[(n*k.c+g*k.cg)*k.h*k.w:]
		switch {
		case s.holdsOp == s.op && s.holds == tile: // packed by this worker's last part
		case k.direct: // the input is the patch matrix (p0 may pass a padded input's plane otherwise)
			packB(k.kdim, np, xg[p0:], k.p, panel)
		default:
			k.im2colPanel(xg, patchWork, panel, p0, np)
		}
		s.holds, s.holdsOp = tile, s.op
		for r := first; r < rows; r += tileM {
			m0, nm := g*k.mg+r, min(tileM, rows-r)
			ybase := (n*k.m+m0)*k.p + p0
			e := k.epi
			if bias != nil {
				e.bias = bias[m0:][:nm]
			}
			if z != nil {
				e.z, e.ldz = z[ybase:], k.p
			}
			gemmInto(nm, np, k.kdim, wt[m0*k.kdim:], k.kdim, panel, y[ybase:], k.p, e, work)
		}
	}
}

// share is where part's share of the work starts: at channel row of
// position tile tile (tile = tiles, row 0 for part = parts). The work, in
// order, is each tile's channels in blocks of shareRows, a block costing
// its channels times the columns the GEMM computes for the tile (its
// positions, rounded up to half a panel); each part takes the blocks that
// start in its equal part of the whole cost. Workers sharing a tile each
// pack its patches, once for the parts of it they run one after another.
// (Shares of whole 64-channel units left ResNet-50's convolutions at batch
// size 1 with 8.5 % more than half their work on one of two threads, and
// with 85 % more than a sixteenth on one of sixteen: its last ones have a
// single tile of 8 units.)
func (k *convKernel) share(part, parts int) (tile, row int) {
	width := func(np int) int64 { return int64((np + panelWidth/2 - 1) / (panelWidth / 2)) }
	full := width(k.pt) * int64(k.mg)                                    // a tile but the last of its image and group
	group := full*int64(k.nPT-1) + width(k.p-(k.nPT-1)*k.pt)*int64(k.mg) // an image and group's tiles
	at := group * int64(k.n*k.groups) * int64(part) / int64(parts)
	ng, rest := at/group, at%group
	pti := int(min(rest/full, int64(k.nPT-1)))
	rest -= int64(pti) * full
	w := width(min(k.pt, k.p-pti*k.pt))
	row = int((rest + w - 1) / w)                       // the first channel whose cost starts at or past at,
	row = (row + shareRows - 1) / shareRows * shareRows // and its block's
	tile = int(ng)*k.nPT + pti
	if row >= k.mg {
		tile, row = tile+1, 0
	}
	return tile, row
}

// im2colGo writes the patches of positions [p0, p0+np) of one group's input
// xg as the columns of cols ([kdim, np]), patch element (c, kh, kw) in row
// c·KH·KW + kh·KW + kw as in W. Each row is filled an output row's run of
// positions at a time: a copy of an input row's segment at unit stride.
// im2colPanel does it in C, where built with cgo, into the panels.
func (k *convKernel) im2colGo(xg, cols []float32, p0, np int) {
	o := k.op
	s := o.StrideW
	for c := range k.cg {
		plane := xg[c*k.h*k.w:][:k.h*k.w]
		for kh := range o.KernelH {
			for kw := range o.KernelW {
				d := cols[((c*o.KernelH+kh)*o.KernelW+kw)*np:][:np]
				for j := 0; j < np; {
					oh, ow := (p0+j)/k.ow, (p0+j)%k.ow
					seg := d[j:][:min(np-j, k.ow-ow)]
					j += len(seg)
					ih := oh*o.StrideH - o.PadTop + kh*o.DilationH
					if ih < 0 || ih >= k.h {
						clear(seg)
						continue
					}
					src := plane[ih*k.w:][:k.w]
					iw := ow*s - o.PadLeft + kw*o.DilationW // the input column of seg[0]
					// seg[t] reads src[iw + t·s]: inside for t in [lo, hi).
					lo, hi := 0, len(seg)
					if iw < 0 {
						lo = min(hi, (-iw+s-1)/s)
					}
					hi = max(lo, min(hi, (k.w-iw+s-1)/s))
					clear(seg[:lo])
					clear(seg[hi:])
					if s == 1 {
						if lo < hi { // a run all in the padding reads nothing, iw past the row
							copy(seg[lo:hi], src[iw+lo:])
						}
						continue
					}
					for t := lo; t < hi; t++ {
						seg[t] = src[iw+t*s]
					}
				}
			}
		}
	}
}

// newPointGemm computes a 1 × 1 convolution of a single position (the
// squeeze and excitation of EfficientNet's and MobileNetV3's blocks, after
// a global pool) as the Gemm Y = X · Wᵀ + B: each image a row of X and
// of Y, W's rows the dot products' (a single image's with sgemm.c's dot
// kernel, W read once, unpacked), where a convolution's GEMM packed its
// input's one column into a panel 32 wide and computed the other 31
// (EfficientNet-B0's 32 took 1.0 ms of its 10 on two threads).
func newPointGemm(o *engine.Conv, k *convKernel) (kernel, int, error) {
	g := &engine.Gemm{Nodes: o.Nodes, A: o.X, B: o.W, Y: o.Y, M: k.n, N: k.m, K: k.c, TransB: true,
		LDA: k.c, LDB: k.c, LDY: k.m, Alpha: 1, Act: o.Act}
	if o.B.Present() {
		g.C, g.Beta, g.CColStride = o.B, 1, 1 // a bias row
	}
	gk, err := newGemm(g)
	return gk, gemmWork, err
}

// depthwiseKernel computes a convolution with one input and one output
// channel per group directly. Its units are items of up to dwLanes
// channels of one image and a band of output rows (run). With cgo,
// depthwise.c computes a vector's channels at a time, each lane a channel
// (kernels.h's cw_depthwise); the Go loops (planesGo: the tests' reference
// and the build without cgo) compute a plane at a time over the input laid
// out in phases, their padding zeros (cleared once per run), a block of
// positions at a time, each kernel row's taps over the block while it is
// in L1.
type depthwiseKernel struct {
	conv *convKernel
	*phases

	band, tw int // depthwise.c's: the output rows it computes at a time, its padded input's row (positions)
}

// dwLanes is the channels depthwise.c computes at a time at most (an
// AVX-512 vector's floats), and dwBudget the floats of a band's padded
// input and output positions it aims to keep within (in L2).
const dwLanes, dwBudget = 16, 24 << 10

// dwBlock is the positions the Go loops sum at a time (16 KiB of floats).
const dwBlock = 4096

// dwMinRows is the fewest output rows run cuts a plane's band to: a band
// transposes the kh − 1 input rows above it again.
const dwMinRows = 4

// newDepthwise lays out k's planes for a depthwise kernel, or returns nil
// where they do not fit (newPhases): k then runs as the other
// convolutions, a GEMM per group.
func newDepthwise(k *convKernel) *depthwiseKernel {
	o := k.op
	p := newPhases(k.h, k.w, k.oh, k.ow, o.KernelH, o.KernelW, o.StrideH, o.StrideW, o.DilationH, o.DilationW, o.PadTop,
		o.PadLeft)
	if p == nil {
		return nil
	}
	d := &depthwiseKernel{conv: k, phases: p}
	d.tw = max(o.PadLeft+k.w, (k.ow-1)*o.StrideW+(o.KernelW-1)*o.DilationW+1)
	d.band = 1
	for d.band < k.oh && d.cFloats(d.band+1)-o.KernelH*o.KernelW*dwLanes <= dwBudget {
		d.band++
	}
	return d
}

// cFloats is the floats of work depthwise.c takes with bands of band rows:
// their padded input, output positions and weight vectors.
func (d *depthwiseKernel) cFloats(band int) int {
	o := d.conv.op
	rows := (band-1)*o.StrideH + (o.KernelH-1)*o.DilationH + 1
	return dwLanes * (rows*d.tw + band*d.conv.ow + o.KernelH*o.KernelW)
}

// work is the floats of scratch the kernel takes: depthwise.c's or the Go
// loops', whichever is more.
func (d *depthwiseKernel) work() int { return max(d.phases.work(), d.cFloats(d.band)) }

// run computes its share of the items: the planes in blocks of dwLanes
// channels (of one image: a block does not straddle two), and, where
// there are fewer blocks than parts (MobileNetV2's first, 32 planes of
// 112 × 112), each block's rows in bands, as many as make the items as
// many as the parts, of dwMinRows rows or more.
func (d *depthwiseKernel) run(mem *memory, part, parts int, s *scratch) {
	k, o := d.conv, d.conv.op
	perImage := (k.m + dwLanes - 1) / dwLanes
	blocks, bands := k.n*perImage, 1
	if blocks < parts {
		bands = max(1, min((parts+blocks-1)/blocks, k.oh/dwMinRows))
	}
	rows := (k.oh + bands - 1) / bands
	bands = (k.oh + rows - 1) / rows
	x, w, bias, z, y, work := mem.f32(o.X), mem.f32(o.W), mem.f32(o.B), mem.f32(o.Z), mem.f32(o.Y), s.buf[:d.work()]
	unit := func(block int) int { return block/perImage*k.m + min(k.m, block%perImage*dwLanes) }
	lo, hi := span(blocks*bands, part, parts)
	if bands == 1 { // consecutive blocks are consecutive units
		if lo < hi {
			d.planes(x, w, bias, z, y, work, unit(lo), unit(hi-1)+min(dwLanes, k.m-(hi-1)%perImage*dwLanes), 0, k.oh)
		}
		return
	}
	for i := lo; i < hi; i++ {
		b, r := i/bands, i%bands*rows
		u := unit(b)
		d.planes(x, w, bias, z, y, work, u, u+min(dwLanes, k.m-b%perImage*dwLanes), r, min(r+rows, k.oh))
	}
}

// planesGo writes output rows [r0, r1) of the planes of units [lo, hi) of
// y, (image, channel) planes, with planeGo and activates them: x, w, bias,
// z and y are the op's tensors (bias and z nil where it has none); work
// holds d.work() floats.
func (d *depthwiseKernel) planesGo(x, w, bias, z, y, work []float32, lo, hi, r0, r1 int) {
	k := d.conv
	o := k.op
	kk := o.KernelH * o.KernelW
	q, acc := work[:d.size()], work[d.size():]
	clear(q) // the padding, for every plane
	for u := lo; u < hi; u++ {
		ch := u % k.m
		var b float32
		if bias != nil {
			b = bias[ch]
		}
		var zp []float32
		if z != nil {
			zp = z[u*k.p:][:k.p]
		}
		dst := y[u*k.p:][:k.p]
		d.planeGo(x[u*k.h*k.w:][:k.h*k.w], w[ch*kk:][:kk], b, zp, dst, q, acc, r0, r1)
		activateGo(o.Act, dst[r0*k.ow:r1*k.ow])
	}
}

// planeGo writes output rows [r0, r1) of one output plane dst: bias b,
// plus the residual's plane z unless nil, plus the taps of w (one
// channel's kernel) over the input plane src, the padding's zeros
// included, each kernel row's taps summed before they are added. q holds
// the phases, their padding zero; acc a plane's positions.
func (d *depthwiseKernel) planeGo(src, w []float32, b float32, z, dst, q, acc []float32, r0, r1 int) {
	ws, ow := d.ws, d.ow
	d.fill(src, q, r0, r1)
	for r := r0; r < r1; r++ {
		a := acc[r*ws:][:ow]
		if z != nil {
			for c, v := range z[r*ow:][:ow] {
				a[c] = v + b
			}
		} else {
			for c := range a {
				a[c] = b
			}
		}
		if r < r1-1 {
			clear(acc[r*ws+ow:][:ws-ow]) // dropped, but kept from growing to infinities plane after plane
		}
	}
	// Positions [p0, p1): the rows', each but the last with its dropped
	// columns, whose sums are dropped with them.
	p0, p1 := r0*ws, (r1-1)*ws+ow
	for f := p0; f < p1; f += dwBlock {
		m := min(dwBlock, p1-f)
		for i := range d.kh {
			addRow(q[f:], w[i*d.kw:][:d.kw], d.taps[i*d.kw:][:d.kw], acc[f:][:m])
		}
	}
	for r := r0; r < r1; r++ {
		copy(dst[r*ow:][:ow], acc[r*ws:][:ow])
	}
}

// addRow adds the taps of one kernel row, weights wr reading at offsets
// off of q, to acc.
func addRow(q, wr []float32, off []int, acc []float32) {
	n := len(acc)
	switch len(wr) {
	case 3:
		w0, w1, w2 := wr[0], wr[1], wr[2]
		x0, x1, x2 := q[off[0]:][:n], q[off[1]:][:n], q[off[2]:][:n]
		for t, v := range acc {
			acc[t] = v + (w0*x0[t] + w1*x1[t] + w2*x2[t])
		}
	case 5:
		w0, w1, w2, w3, w4 := wr[0], wr[1], wr[2], wr[3], wr[4]
		x0, x1, x2, x3, x4 := q[off[0]:][:n], q[off[1]:][:n], q[off[2]:][:n], q[off[3]:][:n], q[off[4]:][:n]
		for t, v := range acc {
			acc[t] = v + (w0*x0[t] + w1*x1[t] + w2*x2[t] + w3*x3[t] + w4*x4[t])
		}
	case 7:
		w0, w1, w2, w3, w4, w5, w6 := wr[0], wr[1], wr[2], wr[3], wr[4], wr[5], wr[6]
		x0, x1, x2, x3, x4, x5, x6 := q[off[0]:][:n], q[off[1]:][:n], q[off[2]:][:n], q[off[3]:][:n], q[off[4]:][:n],
			q[off[5]:][:n], q[off[6]:][:n]
		for t, v := range acc {
			acc[t] = v + (w0*x0[t] + w1*x1[t] + w2*x2[t] + w3*x3[t] + w4*x4[t] + w5*x5[t] + w6*x6[t])
		}
	default:
		for j, wj := range wr {
			xj := q[off[j]:][:n]
			for t := range acc {
				acc[t] += wj * xj[t]
			}
		}
	}
}

// convTransposeKernel computes one output plane (image, output channel)
// per unit, each output element gathering the inputs that reach it.
type convTransposeKernel struct {
	op                            *engine.ConvTranspose
	c, h, w, m, oh, ow, cg, mg, n int
}

func newConvTranspose(o *engine.ConvTranspose) (kernel, error) {
	x, w, y := o.X.Shape, o.W.Shape, o.Y.Shape
	ok := len(x) == 4 && len(w) == 4 && len(y) == 4 && o.Groups >= 1 && x[1]%o.Groups == 0 && w[0] == x[1] &&
		y[0] == x[0] && y[1] == w[1]*o.Groups && w[2] == o.KernelH && w[3] == o.KernelW &&
		o.StrideH >= 1 && o.StrideW >= 1 && o.DilationH >= 1 && o.DilationW >= 1 &&
		(!o.B.Present() || o.B.Elems() == y[1])
	if !ok {
		return nil, fmt.Errorf("transposed convolution of X%v by W%v into Y%v, %d groups", x, w, y, o.Groups)
	}
	return &convTransposeKernel{op: o, c: x[1], h: x[2], w: x[3], m: y[1], oh: y[2], ow: y[3],
		cg: x[1] / o.Groups, mg: w[1], n: x[0]}, nil
}

func (k *convTransposeKernel) run(mem *memory, part, parts int, _ *scratch) {
	o := k.op
	x, w, b, y := mem.f32(o.X), mem.f32(o.W), mem.f32(o.B), mem.f32(o.Y)
	kh, kw := o.KernelH, o.KernelW
	lo, hi := span(k.n*k.m, part, parts)
	for p := lo; p < hi; p++ {
		img, m := p/k.m, p%k.m
		g, mi := m/k.mg, m%k.mg
		out := y[p*k.oh*k.ow:][:k.oh*k.ow]
		for oy := range k.oh {
			for ox := range k.ow {
				var s float32
				if b != nil {
					s = b[m]
				}
				for ky := range kh {
					ty := oy + o.PadTop - ky*o.DilationH
					if ty < 0 || ty%o.StrideH != 0 || ty/o.StrideH >= k.h {
						continue
					}
					iy := ty / o.StrideH
					for kx := range kw {
						tx := ox + o.PadLeft - kx*o.DilationW
						if tx < 0 || tx%o.StrideW != 0 || tx/o.StrideW >= k.w {
							continue
						}
						ix := tx / o.StrideW
						for c := g * k.cg; c < (g+1)*k.cg; c++ {
							s += x[((img*k.c+c)*k.h+iy)*k.w+ix] * w[((c*k.mg+mi)*kh+ky)*kw+kx]
						}
					}
				}
				out[oy*k.ow+ox] = s
			}
		}
		activate(o.Act, out)
	}
}
