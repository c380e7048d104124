package cpuexec

// phases lays out the input plane of a window op (a pool for depthwise.c,
// a depthwise convolution for its Go loops): copied, padded, into sh × sw
// phases (phase a, b: the padded rows a, a+sh, … and columns b, b+sw, …;
// one phase, the padded plane, for unit strides), each hs × ws floats. In
// that layout every tap of the window reads at a fixed offset from the
// output position r·ws + c, so a plane is one run of positions (the ws − ow
// columns past each output row computed and dropped), without bounds tests
// or strided reads, in vectors as long as the plane rather than its rows.
type phases struct {
	h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl int // the op's geometry (input, output, window, strides, dilations, top and left padding)

	hs, ws int   // each phase's rows and columns
	taps   []int // where tap (i, j) reads, from an output position: taps[i·kw + j]
}

// newPhases lays out an op's planes, or returns nil where the layout
// would not be of the order of the planes it serves: padding far wider
// than the input (a 1 × 1 plane padded by 32,768 on each side, dilated or
// pooled to match) would make it gigabytes, and such an op runs another
// way.
func newPhases(h, w, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl int) *phases {
	// A stride past a single output row or column moves no window: one
	// phase, not sh (a 2 × 2 pool of stride 65,536 over an 8 × 8 plane
	// would have had 2³² phases of one float).
	if oh == 1 {
		sh = 1
	}
	if ow == 1 {
		sw = 1
	}
	// The padded rows and columns the taps read, split among the phases.
	rows := (oh-1)*sh + (kh-1)*dh + 1
	cols := (ow-1)*sw + (kw-1)*dw + 1
	p := &phases{h: h, w: w, oh: oh, ow: ow, kh: kh, kw: kw, sh: sh, sw: sw, dh: dh, dw: dw, pt: pt, pl: pl,
		hs: (rows + sh - 1) / sh, ws: (cols + sw - 1) / sw}
	if p.size() > 4*(h*w+oh*ow)+1<<16 { // before the taps: a window may be as large (a pool's has no weights)
		return nil
	}
	for i := range kh {
		for j := range kw {
			di, dj := i*dh, j*dw
			phase := (di%sh)*sw + dj%sw
			p.taps = append(p.taps, phase*p.hs*p.ws+di/sh*p.ws+dj/sw)
		}
	}
	return p
}

// size is the floats of the phases.
func (p *phases) size() int { return p.sh * p.sw * p.hs * p.ws }

// slack is the floats a C kernel that computes in whole vectors may read or
// write past a buffer's end (kernels.h's CW_SLACK, the widest vector's).
const slack = 16

// work is the floats of scratch a run takes: the phases and a plane's
// positions, and slack after them (cw_depthwise and cw_pool compute the
// positions in whole vectors, the last past them).
func (p *phases) work() int { return p.size() + p.oh*p.ws + slack }

// positions is the positions of a plane: the last row's dropped columns
// left out.
func (p *phases) positions() int { return (p.oh-1)*p.ws + p.ow }

// fill copies the input plane src into the insides of the phases q (their
// padding is written once for all planes): the phase rows that output rows
// [r0, r1) read, r0 to r1 − 1 + (kh − 1)·dh / sh.
func (p *phases) fill(src, q []float32, r0, r1 int) {
	for a := range p.sh {
		for b := range p.sw {
			ph := q[(a*p.sw+b)*p.hs*p.ws:][:p.hs*p.ws]
			// Phase column j reads input column b + j·sw − pl, row i input
			// row a + i·sh − pt: those of [jlo, jhi) and [ilo, ihi) are
			// inside.
			jlo := max(0, p.pl-b+p.sw-1) / p.sw
			jhi := min(p.ws, max(0, p.w+p.pl-b+p.sw-1)/p.sw)
			ilo := max(r0, max(0, p.pt-a+p.sh-1)/p.sh)
			ihi := min(p.hs, r1+(p.kh-1)*p.dh/p.sh, max(0, p.h+p.pt-a+p.sh-1)/p.sh)
			for i := ilo; i < ihi; i++ {
				row := ph[i*p.ws:][:p.ws]
				in := src[(a+i*p.sh-p.pt)*p.w:][:p.w]
				if p.sw == 1 {
					copy(row[jlo:jhi], in[b+jlo-p.pl:])
					continue
				}
				for j := jlo; j < jhi; j++ {
					row[j] = in[b+j*p.sw-p.pl]
				}
			}
		}
	}
}
