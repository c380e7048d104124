package cpuexec_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/modelgen"
)

// TestConvGeometries runs 300 convolutions of geometries drawn at random
// (groups, depthwise among them, kernels, strides, dilations, asymmetric
// pads, some inputs large enough to be cut into several position tiles)
// with a ReLU through the engine and the reference, at batch sizes 1 and
// 2: the fixed cases of TestOperators cover each path, this the corners
// between them. (It did not meet the im2col run starting in the right
// padding that TestOperators' conv1x1-padded was made for: tiles start
// there rarely.)
func TestConvGeometries(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for n := 0; n < 300; {
		groups := 1 + rng.IntN(3)
		cg, mg := 1+rng.IntN(4), 1+rng.IntN(4)
		if rng.IntN(4) == 0 {
			cg, mg = 1, 1 // depthwise
		}
		h, w := 2+rng.IntN(30), 2+rng.IntN(60)
		kh, kw := 1+rng.IntN(4), 1+rng.IntN(4)
		sh, sw, dh, dw := 1+rng.IntN(2), 1+rng.IntN(3), 1+rng.IntN(2), 1+rng.IntN(2)
		pt, pl, pb, pr := rng.IntN(4), rng.IntN(4), rng.IntN(4), rng.IntN(4)
		if h+pt+pb < dh*(kh-1)+1 || w+pl+pr < dw*(kw-1)+1 {
			continue
		}
		n++
		g := graph{
			name:  fmt.Sprintf("conv-g%d-c%d-m%d-%dx%d-k%dx%d-s%d,%d-d%d,%d-p%d,%d,%d,%d", groups, cg, mg, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr),
			input: []int{groups * cg, h, w},
			build: func(b *modelgen.Builder, x string) string {
				wt := b.Normal(b.Fresh("w"), 0, 0.3, groups*mg, cg, kh, kw)
				return b.Node("Relu", []string{b.Node("Conv", []string{x, wt, b.Normal(b.Fresh("b"), 0, 0.3, groups*mg)},
					ints("kernel_shape", kh, kw), ints("strides", sh, sw), ints("dilations", dh, dw),
					ints("pads", pt, pl, pb, pr), num("group", groups))})
			},
		}
		t.Run(g.name, func(t *testing.T) { checkModel(t, g.model(), engine.Options{}, 1, 2) })
	}
}
