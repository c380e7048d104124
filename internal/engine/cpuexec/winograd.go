package cpuexec

import "math"

// winogradKernel computes a 3 × 3 convolution of unit stride and dilation
// and one group by Winograd's minimal filtering F(2×2, 3×3) (Lavin and
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): each
// tile of 2 × 2 outputs is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, d the 4 × 4 input
// patch under it and g the 3 × 3 filter, 16 products where the direct
// convolution takes 36. Over all channels the products are 16 GEMMs, U_ξ
// (output by input channels: the filters transformed) by V_ξ (input
// channels by tiles: the patches transformed), one for each element ξ of
// a 4 × 4 transform: 2.25 times fewer multiply-adds than im2col's GEMM,
// over a transformed input 16/4 the input's size where im2col's patches
// are 9 times it. The transforms' coefficients are 0, ±1 and ±½, so
// results stay within a few rounding errors of the direct sum's.
//
// U is made once, when the executor is (prepare), and shared by every
// executor of the same filters (transformFilters): it is 16/9 of the
// filters, and making it at each run cost as much as the GEMMs of a
// convolution of few tiles. The tiles are computed in units of tb tiles
// (of all images in turn, so that a unit may take the end of one image and
// the start of the next): their patches transformed into scratch (V) and
// packed as the GEMMs' panels, then, for a block of mb output channels,
// the 16 GEMMs into scratch (M) and the outputs Aᵀ M A with the bias and
// residual added and activated. The work is cut into units × blocks parts
// of a block of a unit each, units first: a worker that runs a unit's
// blocks one after another transforms its patches once (scratch.holds).
type winogradKernel struct {
	conv       *convKernel
	tw, tiles  int // tiles across an output plane, and in all
	tb, units  int // tiles a unit (of all images' in turn: a unit may span two), units
	mb, blocks int // output channels a block, blocks
	pf         int // floats of each of a unit's 16 panels of V
	filters    *transformed
}

// winogradMinTiles is the fewest tiles (of all images) for which newConv
// computes a 3 × 3 convolution by Winograd's F(2×2, 3×3). In a model the
// filters come from memory, not the caches, and Winograd's are 16/9 of
// im2col's: cold (BenchmarkWinograd's -cold rows), batch size 1's 256
// channels of 14² (49 tiles) took 1.06–1.23 times im2col's time and 512
// of 7² (16) 1.10–1.27, 2 images of 7² (32) 0.85–1.01; from 64 tiles, 4
// images of 7², it was 0.79–0.82, and 0.70–1.00 in the other shapes (128
// channels of 28² at batch size 1 the closest, 0.95 at the median).
var winogradMinTiles = 64

// winogradMinChannels is the fewest input channels for which newConv
// does: the depth of its GEMMs (VGG-16's first convolution, of 3
// channels, took 2.4 times as long so as by im2col's GEMM, whose depth is
// 27).
const winogradMinChannels = 16

// winogradBudget is the floats of a unit's V, panels and M at most (in
// L2), and minWinogradParts the parts (units × blocks) the work is cut
// into where the tiles and channels allow, blocks of minWinogradBlock
// output channels or more. winogradMaxFilters bounds U (ResNet's and VGG's
// 512 × 512 filters make 4 Mi floats) and winogradMaxChannels the input
// and output channels together (a unit's V, panels and M take 16 floats a
// channel a tile): a convolution past either, whose memory would grow
// with it, stays a GEMM.
const (
	winogradBudget      = 256 << 10
	minWinogradParts    = 16
	minWinogradBlock    = 32
	winogradMaxFilters  = 4 << 20
	winogradMaxChannels = 4096
)

// winogradFits says whether k is a convolution newWinograd computes.
func winogradFits(k *convKernel) bool {
	o := k.op
	return o.KernelH == 3 && o.KernelW == 3 && o.StrideH == 1 && o.StrideW == 1 && o.DilationH == 1 &&
		o.DilationW == 1 && k.groups == 1 && k.n*((k.oh+1)/2)*((k.ow+1)/2) >= winogradMinTiles &&
		k.c >= winogradMinChannels && 16*k.m*k.c <= winogradMaxFilters && k.c+k.m <= winogradMaxChannels
}

func newWinograd(k *convKernel) (*winogradKernel, int) {
	w := &winogradKernel{conv: k, tw: (k.ow + 1) / 2}
	w.tiles = (k.oh + 1) / 2 * w.tw
	all := k.n * w.tiles
	w.tb = max(panelWidth, (winogradBudget/(16*(2*k.c+k.m))-winogradSlack)/panelWidth*panelWidth)
	for w.tb > panelWidth && (all+w.tb-1)/w.tb < minWinogradParts {
		w.tb -= panelWidth
	}
	w.tb = min(w.tb, all)
	w.units = (all + w.tb - 1) / w.tb
	w.blocks = 1
	for w.units*w.blocks < minWinogradParts && k.m/(w.blocks+1) >= minWinogradBlock {
		w.blocks++
	}
	w.mb = ((k.m+w.blocks-1)/w.blocks + 7) / 8 * 8 // whole micro-tiles of rows
	w.blocks = (k.m + w.mb - 1) / w.mb
	w.pf = (panelFloats(k.c, w.tb) + lineFloats - 1) / lineFloats * lineFloats
	ld := w.tb + winogradSlack
	return w, 16*(k.c+w.mb)*ld + 16*w.pf + lineFloats + gemmWork + w.transformWork(w.tb)
}

// winogradSlack is the floats a row of V or M has past its tiles: the
// transforms' vectors run up to 15 past a row of tiles.
const winogradSlack = 16

// transformWork is the floats of work the transforms of up to nt tiles
// take, winograd.c's cw_winograd_work: the input's padded rows (those of
// the rows of tiles nt tiles touch, one more than they fill) and 16 rows
// of column sums (the output's two rows are fewer; the Go loops take 4
// padded rows).
func (w *winogradKernel) transformWork(nt int) int {
	return (2*((nt+w.tw-1)/w.tw+1)+2)*(2*w.tw+34) + 16*(w.tw+16)
}

// prepare transforms the filters, from the weights in mem's pages.
func (w *winogradKernel) prepare(mem *memory) {
	k := w.conv
	w.filters = transformFilters(mem.f32(k.op.W), k.m, k.c)
}

// run computes parts [lo, hi) of units × blocks: block b of unit u is part
// u·blocks + b.
func (w *winogradKernel) run(mem *memory, part, parts int, s *scratch) {
	k := w.conv
	o := k.op
	x, y := mem.f32(o.X), mem.f32(o.Y)
	bias, z := mem.f32(o.B), mem.f32(o.Z)
	ld := w.tb + winogradSlack // of V's and M's rows
	v, rest := s.buf[:16*k.c*ld], s.buf[16*k.c*ld:]
	panels, rest := cacheAligned(rest, 16*w.pf), rest[16*w.pf+lineFloats:]
	mo, rest := rest[:16*w.mb*ld], rest[16*w.mb*ld:]
	work, tw := rest[:gemmWork], rest[gemmWork:][:w.transformWork(w.tb)]
	none := epilogue{lo: float32(math.Inf(-1)), hi: float32(math.Inf(1))}
	lo, hi := span(w.units*w.blocks, part, parts)
	for p := lo; p < hi; p++ {
		unit, block := p/w.blocks, p%w.blocks
		g0 := unit * w.tb // of all images' tiles
		nt := min(w.tb, k.n*w.tiles-g0)
		if s.holdsOp != s.op || s.holds != unit {
			w.images(g0, nt, func(n, t, nt, at int) {
				w.input(x[n*k.c*k.h*k.w:][:k.c*k.h*k.w], v[at:], ld, t, nt, tw)
			})
			for xi := range 16 { // V_ξ: every 16th row of V
				packB(k.c, nt, v[xi*ld:], 16*ld, panels[xi*w.pf:])
			}
			s.holds, s.holdsOp = unit, s.op
		}
		// M_ξ = U_ξ · V_ξ for the block's channels, M_ξ every 16th row of M.
		m0 := block * w.mb
		nm := min(w.mb, k.m-m0)
		u := w.filters.u
		for xi := range 16 {
			gemmInto(nm, nt, k.c, u[xi*k.m*k.c+m0*k.c:], k.c, panels[xi*w.pf:], mo[xi*ld:], 16*ld, none, work)
		}
		var bb []float32
		if bias != nil {
			bb = bias[m0:][:nm]
		}
		w.images(g0, nt, func(n, t, nt, at int) {
			at0 := (n*k.m + m0) * k.p
			var zn []float32
			if z != nil {
				zn = z[at0:][:nm*k.p]
			}
			w.output(nm, mo[at:], ld, bb, zn, y[at0:][:nm*k.p], t, nt, tw)
		})
	}
}

// images calls f for each image's part of the nt tiles from g0 (of all
// images' in turn): image n's tiles [t, t+nt), at their first's place in
// the unit.
func (w *winogradKernel) images(g0, nt int, f func(n, t, nt, at int)) {
	for g := g0; g < g0+nt; {
		n, t := g/w.tiles, g%w.tiles
		c := min(w.tiles-t, g0+nt-g)
		f(n, t, c, g-g0)
		g += c
	}
}

// winogradFiltersGo writes the transforms G g Gᵀ of filters [f0, f1) of w
// (9 floats each) to u, element ξ of filter f at u[ξ·mc + f], as
// cw_winograd_filters does.
func winogradFiltersGo(mc int, w, u []float32, f0, f1 int) {
	for f := f0; f < f1; f++ {
		g := w[f*9:][:9]
		var t [4][3]float32
		for j := range 3 {
			t[0][j] = g[j]
			t[1][j] = (g[j] + g[3+j] + g[6+j]) * 0.5
			t[2][j] = (g[j] - g[3+j] + g[6+j]) * 0.5
			t[3][j] = g[6+j]
		}
		for i := range 4 {
			u[(4*i)*mc+f] = t[i][0]
			u[(4*i+1)*mc+f] = (t[i][0] + t[i][1] + t[i][2]) * 0.5
			u[(4*i+2)*mc+f] = (t[i][0] - t[i][1] + t[i][2]) * 0.5
			u[(4*i+3)*mc+f] = t[i][2]
		}
	}
}

// inputGo writes the transforms Bᵀ d B of the patches of tiles [t0,
// t0+nt) of x's planes to v, element ξ of channel ch's tile t at
// v[(ch·16 + ξ)·ld + t − t0], as cw_winograd_input does; work holds
// transformWork(nt) floats.
func (w *winogradKernel) inputGo(x, v []float32, ld, t0, nt int, work []float32) {
	k := w.conv
	o := k.op
	pw := 2*w.tw + 2
	p, e := work[:4*pw], work[4*pw:][:16*w.tw]
	for t := t0; t < t0+nt; {
		ty, a := t/w.tw, t%w.tw
		n := min(w.tw-a, t0+nt-t)
		for ch := range k.c {
			plane := x[ch*k.h*k.w:][:k.h*k.w]
			for i := range 4 {
				pi := p[i*pw:][:2*n+2]
				clear(pi)
				if r := 2*ty - o.PadTop + i; r >= 0 && r < k.h {
					row := plane[r*k.w:][:k.w]
					off := 2*a - o.PadLeft // pi[q] is row[q+off]
					lo, hi := max(0, -off), min(len(pi), k.w-off)
					if lo < hi {
						copy(pi[lo:hi], row[lo+off:])
					}
				}
				e0, e1, e2, e3 := e[(4*i)*w.tw:][:n], e[(4*i+1)*w.tw:][:n], e[(4*i+2)*w.tw:][:n], e[(4*i+3)*w.tw:][:n]
				for j := range n {
					e0[j] = pi[2*j] - pi[2*j+2]
					e1[j] = pi[2*j+1] + pi[2*j+2]
					e2[j] = pi[2*j+2] - pi[2*j+1]
					e3[j] = pi[2*j+1] - pi[2*j+3]
				}
			}
			for kk := range 4 {
				r0, r1, r2, r3 := e[kk*w.tw:][:n], e[(4+kk)*w.tw:][:n], e[(8+kk)*w.tw:][:n], e[(12+kk)*w.tw:][:n]
				at := (ch*16+kk)*ld + t - t0
				v0, v1, v2, v3 := v[at:][:n], v[at+4*ld:][:n], v[at+8*ld:][:n], v[at+12*ld:][:n]
				for j := range n {
					v0[j] = r0[j] - r2[j]
					v1[j] = r1[j] + r2[j]
					v2[j] = r2[j] - r1[j]
					v3[j] = r1[j] - r3[j]
				}
			}
		}
		t += n
	}
}

// outputGo writes the outputs Aᵀ M A + bias + Z of tiles [t0, t0+nt) of m
// channels to y, M of channel ch at mo as inputGo writes an input
// channel's, and activates them, as cw_winograd_output does; work holds
// 4·tw floats.
func (w *winogradKernel) outputGo(m int, mo []float32, ld int, bias, z, y []float32, t0, nt int, work []float32) {
	k := w.conv
	e := epilogueOf(k.op.Act)
	for t := t0; t < t0+nt; {
		ty, a := t/w.tw, t%w.tw
		n := min(w.tw-a, t0+nt-t)
		x0, x1 := 2*a, min(2*(a+n), k.ow)
		for ch := range m {
			var q [16][]float32
			for kk := range q {
				q[kk] = mo[(ch*16+kk)*ld+t-t0:][:n]
			}
			ra, rb := work[:2*n], work[2*w.tw:][:2*n]
			for j := range n {
				s0, s1 := q[0][j]+q[4][j]+q[8][j], q[1][j]+q[5][j]+q[9][j]
				s2, s3 := q[2][j]+q[6][j]+q[10][j], q[3][j]+q[7][j]+q[11][j]
				d0, d1 := q[4][j]-q[8][j]-q[12][j], q[5][j]-q[9][j]-q[13][j]
				d2, d3 := q[6][j]-q[10][j]-q[14][j], q[7][j]-q[11][j]-q[15][j]
				ra[2*j] = s0 + s1 + s2
				ra[2*j+1] = s1 - s2 - s3
				rb[2*j] = d0 + d1 + d2
				rb[2*j+1] = d1 - d2 - d3
			}
			var b float32
			if bias != nil {
				b = bias[ch]
			}
			for i := 0; i < 2 && 2*ty+i < k.oh; i++ {
				at := (ch*k.oh+2*ty+i)*k.ow + x0
				ri, yi := ra, y[at:][:x1-x0]
				if i == 1 {
					ri = rb
				}
				if z != nil {
					for o, zv := range z[at:][:x1-x0] {
						yi[o] = ri[o] + b + zv
					}
				} else {
					for o := range yi {
						yi[o] = ri[o] + b
					}
				}
				for o, v := range yi {
					yi[o] = min(max(v, e.lo), e.hi)
				}
				activateGo(e.act, yi)
			}
		}
		t += n
	}
}
