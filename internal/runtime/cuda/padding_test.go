//go:build linux && cgo

package cuda

import (
	"testing"

	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/onnx"
)

// paddingModel writes to dir a model of the windows cuDNN's descriptors
// cannot express, as models exported from TensorFlow (SAME padding) and
// Caffe (ceil_mode pools) have them, on a 3×33×33 input:
//
//   - convolutions padded asymmetrically: explicit pads with bias and
//     ReLU (stride 2), a depthwise one, a grouped one with SAME_UPPER and
//     a 4×3 kernel, a SAME_LOWER one whose residual Add and ReLU fuse
//     into it;
//   - pools: MaxPool with ceil_mode, AveragePool with ceil_mode counting
//     the padding (its last column's window reaches past the padded
//     input), AveragePool padded asymmetrically not counting it, and a
//     dilated MaxPool; and a Pad (pad2d); each flattened, then
//     concatenated into the output.
//
// The first convolution's padding is a Pad before it, as Keras exports
// ZeroPadding2D, which the import folds into it.
func paddingModel(t *testing.T, dir string) string {
	t.Helper()
	b := modelgen.NewBuilder("padding", 11)
	ints, one := modelgen.Ints, modelgen.Int
	conv := func(x string, cin, cout, kh, kw, groups int, attrs ...*onnx.AttributeProto) string {
		return convNode(b, x, cin, cout, kh, kw, groups, attrs...)
	}
	x := b.Input("input", 3, 33, 33)
	padded := b.Node("Pad", []string{x, b.Int64s("keras_pad", []int64{0, 0, 0, 0, 0, 0, 1, 1}, 8)})  // folds into c1
	c1 := b.Node("Relu", []string{conv(padded, 3, 8, 3, 3, 1, ints("strides", 2, 2))})               // 8×16×16
	c2 := b.Node("Relu", []string{conv(c1, 8, 8, 3, 3, 8, ints("pads", 1, 0, 2, 1))})                // 8×17×15
	c3 := conv(c2, 8, 16, 4, 3, 2, ints("strides", 2, 2), modelgen.String("auto_pad", "SAME_UPPER")) // 16×9×8
	c4 := conv(c3, 16, 16, 2, 2, 1, modelgen.String("auto_pad", "SAME_LOWER"))                       // 16×9×8
	r := b.Node("Relu", []string{b.Node("Add", []string{c4, c3})})
	pools := []string{
		b.Node("MaxPool", []string{r}, ints("kernel_shape", 3, 3), ints("strides", 2, 2), one("ceil_mode", 1)), // 4×4
		b.Node("AveragePool", []string{r}, ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1),
			one("ceil_mode", 1), one("count_include_pad", 1)), // 5×5
		b.Node("AveragePool", []string{r}, ints("kernel_shape", 2, 2), ints("strides", 2, 2), ints("pads", 0, 0, 1, 1)), // 5×4
		b.Node("MaxPool", []string{r}, ints("kernel_shape", 2, 2), ints("dilations", 2, 2)),                             // 7×6
	}
	pools = append(pools, b.Node("Pad", []string{r, b.Int64s("pad", []int64{0, 0, 1, 0, 0, 0, 0, 2}, 8)})) // 10×10, alone
	var parts []string
	for _, p := range pools {
		parts = append(parts, flatNode(b, p))
	}
	b.NodeOut("Concat", "output", parts, one("axis", 1))
	b.Output("output", 16*(4*4+5*5+5*4+7*6+10*10))
	return writeModel(t, dir, b)
}

// TestGPUPadding runs paddingModel at batch sizes 1 to 4 against the CPU
// runtime. Its asymmetric convolutions other than the depthwise one pad
// their input (pad2d) for cuDNN (the depthwise kernel pads by itself), and
// its pools run as pool2d; at Load every way of computing each
// convolution is checked against the first.
func TestGPUPadding(t *testing.T) {
	path := paddingModel(t, t.TempDir())
	ref := newReference(t, path)
	m := loadPath(t, newTestRuntime(t, false), path, 4)
	for _, v := range m.(*Model).inst[0].variants {
		asym, padded, pools, pads := 0, 0, 0, 0
		for _, s := range v.steps {
			switch s := s.(type) {
			case *padStep:
				pads++
			case *convStep:
				if s.pad != nil {
					asym++
				}
				if s.pad != nil && s.choice.mode != convDepthwise {
					padded++
				}
			case *poolKernelStep:
				pools++
			case *poolStep:
				t.Errorf("batch size %d: pool %q runs on cuDNN", v.batch, s.op.Source())
			}
		}
		// The depthwise one may run on cuDNN too, where that timed faster.
		if asym != 4 || padded < 3 || pools != 4 || pads != 1 {
			t.Errorf("batch size %d: %d convolutions padded asymmetrically, %d of them padded for cuDNN, %d pools on pool2d, %d Pads; want 4, 3 or 4, 4 and 1",
				v.batch, asym, padded, pools, pads)
		}
	}
	matchesCPU(t, m, ref, resident(t, m), 1e-4, upTo4)
}

// TestGPUPadOtherAxes runs Pads of other axes than H and W, each pad2d
// over planes of the axes it pads (those after them merged in): a CIFAR
// ResNet's option-A shortcut (channels padded), an NHWC window grid's H
// and W, and a matrix's columns, at batch sizes 1 to 4 against the CPU
// runtime.
func TestGPUPadOtherAxes(t *testing.T) {
	b := modelgen.NewBuilder("padaxes", 13)
	x := b.Input("input", 4, 6, 5)
	channels := b.Node("Pad", []string{x, b.Int64s("c", []int64{0, 2, 0, 0, 0, 3, 0, 0}, 8)})
	nhwc := b.Node("Pad", []string{b.Node("Transpose", []string{x}, modelgen.Ints("perm", 0, 2, 3, 1)), b.Int64s("hw", []int64{0, 1, 0, 0, 0, 0, 2, 0}, 8)})
	cols := b.Node("Pad", []string{flatNode(b, x), b.Int64s("m", []int64{0, 1, 0, 2}, 4)})
	b.NodeOut("Concat", "output", []string{flatNode(b, channels), flatNode(b, nhwc), cols}, modelgen.Int("axis", 1))
	b.Output("output", 9*6*5+7*7*4+4*6*5+3)
	matchesCPUUpTo4(t, writeModel(t, t.TempDir(), b))
}
