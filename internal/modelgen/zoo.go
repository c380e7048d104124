package modelgen

import (
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/clockwork-go/clockwork/internal/onnx"
)

// zoo maps model names to their generators: the 32 models of the
// measured profiles (internal/model/profiles), each with torchvision's
// parameters (TestZooParameters), and small networks for tests.
var zoo = map[string]func(*Builder){
	"mlp":                mlp,
	"tinycnn":            tinyCNN,
	"m5":                 m5,
	"resnet18":           resnetOf(false, 1, 64, 2, 2, 2, 2),
	"resnet34":           resnetOf(false, 1, 64, 3, 4, 6, 3),
	"resnet50":           resnetOf(true, 1, 64, 3, 4, 6, 3),
	"resnet101":          resnetOf(true, 1, 64, 3, 4, 23, 3),
	"resnet152":          resnetOf(true, 1, 64, 3, 8, 36, 3),
	"wide_resnet50_2":    resnetOf(true, 1, 128, 3, 4, 6, 3),
	"resnext50_32x4d":    resnetOf(true, 32, 4, 3, 4, 6, 3),
	"resnext101_32x8d":   resnetOf(true, 32, 8, 3, 4, 23, 3),
	"vgg11":              func(b *Builder) { vgg(b, vggA, false) },
	"vgg13":              func(b *Builder) { vgg(b, vggB, false) },
	"vgg16":              func(b *Builder) { vgg(b, vggD, false) },
	"vgg16_bn":           func(b *Builder) { vgg(b, vggD, true) },
	"vgg19":              func(b *Builder) { vgg(b, vggE, false) },
	"alexnet":            alexNet,
	"densenet121":        func(b *Builder) { denseNet(b, 32, 64, []int{6, 12, 24, 16}) },
	"densenet161":        func(b *Builder) { denseNet(b, 48, 96, []int{6, 12, 36, 24}) },
	"densenet169":        func(b *Builder) { denseNet(b, 32, 64, []int{6, 12, 32, 32}) },
	"densenet201":        func(b *Builder) { denseNet(b, 32, 64, []int{6, 12, 48, 32}) },
	"inception_v3":       inceptionV3,
	"mobilenet_v2":       mobileNetV2,
	"mobilenet_v3_large": func(b *Builder) { mobileNetV3(b, true) },
	"mobilenet_v3_small": func(b *Builder) { mobileNetV3(b, false) },
	"mnasnet1_0":         mnasNet10,
	"efficientnet_b0":    func(b *Builder) { efficientNet(b, 1.0, 1.0) },
	"efficientnet_b4":    func(b *Builder) { efficientNet(b, 1.4, 1.8) },
	"regnet_y_800mf":     regNetY800MF,
	// Written as torch.onnx.export writes them (zoo_export.go).
	"squeezenet1_0":      func(b *Builder) { squeezeNet(b, false) },
	"squeezenet1_1":      func(b *Builder) { squeezeNet(b, true) },
	"shufflenet_v2_x1_0": shuffleNetV2,
	"googlenet":          googLeNet,
	"convnext_tiny":      convNeXtTiny,
	"vit_b_16":           func(b *Builder) { ViT(b, vitB16) },
}

// Names lists the models Generate knows, sorted.
func Names() []string {
	names := make([]string, 0, len(zoo))
	for n := range zoo {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Seed is the fixed seed of a model's weights.
func Seed(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// Generate builds the named model.
func Generate(name string) (*onnx.ModelProto, error) { return build(name, false) }

// Skeleton builds the named model with its random weights' shapes but
// not their values: its layers and their sizes (a model's parameter count,
// as genmodels -list prints it) without the time and memory that drawing
// hundreds of MB of values takes. No runtime can load it.
func Skeleton(name string) (*onnx.ModelProto, error) { return build(name, true) }

func build(name string, skeleton bool) (*onnx.ModelProto, error) {
	gen, ok := zoo[name]
	if !ok {
		return nil, fmt.Errorf("modelgen: unknown model %q (have %v)", name, Names())
	}
	b := NewBuilder(name, Seed(name))
	b.skeleton = skeleton
	gen(b)
	return b.Model(), nil
}

// Write generates the named model into dir/name/model.onnx and returns the
// model path prefix (dir/name/model) that workers and check_model take.
func Write(dir, name string) (string, error) {
	m, err := Generate(name)
	if err != nil {
		return "", err
	}
	data, err := proto.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("modelgen: encoding %s: %v", name, err)
	}
	sub := filepath.Join(dir, name)
	if err := os.MkdirAll(sub, 0o755); err != nil {
		return "", err
	}
	prefix := filepath.Join(sub, "model")
	tmp := prefix + ".onnx.tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return "", err
	}
	return prefix, os.Rename(tmp, prefix+".onnx")
}

// mlp: 784 → 512 → 256 → 10 with Relu and a final Softmax.
func mlp(b *Builder) {
	x := b.Input("input", 784)
	x = b.relu(b.fc(x, 784, 512))
	x = b.relu(b.fc(x, 512, 256))
	x = b.fc(x, 256, 10)
	b.finish(b.Node("Softmax", []string{x}, Int("axis", 1)), 10)
}

// tinyCNN is a small network on 3×32×32 inputs touching every operator the
// engine supports: convolutions (grouped, depthwise, strided, 1×1) with
// folded and standalone batch normalization, residual Add, a
// squeeze-excite Mul, Clip, HardSigmoid, HardSwish, Concat, both pools,
// global pooling, Reshape and a Gemm.
func tinyCNN(b *Builder) {
	x := b.Input("input", 3, 32, 32)
	c1 := b.relu(b.convBN(x, 3, 16, 3, 1, 1, 1))                   // 16×32×32
	p1 := b.maxPool(c1, 2, 2, 0)                                   // 16×16×16
	c2 := b.relu(b.convBN(p1, 16, 16, 3, 1, 1, 2))                 // grouped
	d := b.relu(b.convBN(c2, 16, 16, 3, 1, 1, 16))                 // depthwise
	c3 := b.bn(b.conv(d, 16, 16, 1, 1, 0, 1, false), 16, 0.2, 0.5) // 1×1
	r := b.relu(b.add(c3, p1))                                     // residual
	g := b.Node("GlobalAveragePool", []string{r})
	e := b.Node("HardSigmoid", []string{b.conv(g, 16, 16, 1, 1, 0, 1, true)}, Float("alpha", 0.2), Float("beta", 0.5))
	r = b.Node("Mul", []string{r, e})              // squeeze-excite
	c4 := b.relu6(b.convBN(r, 16, 32, 3, 2, 1, 1)) // 32×8×8
	h := b.Node("HardSwish", []string{b.conv(c4, 32, 16, 1, 1, 0, 1, true)})
	cat := b.Node("Concat", []string{c4, h}, Int("axis", 1)) // 48×8×8
	a := b.avgPool(cat, 3, 1, 1, false)
	a = b.relu(b.bn(a, 48, 0.5, 1.5)) // standalone BN: not after a conv
	a = b.maxPool(a, 3, 2, 1)         // 48×4×4
	gp := b.Node("GlobalAveragePool", []string{a})
	f := b.Node("Reshape", []string{gp, b.Int64s("flat_shape", []int64{0, -1}, 2)})
	b.finish(b.fc(f, 48, 10), 10)
}

// resnetOf is a torchvision ResNet: basic blocks or bottlenecks, a
// bottleneck's groups and width per group (ResNeXt, Wide ResNet; 1 and
// 64 otherwise), and the blocks of each stage.
func resnetOf(bottleneck bool, groups, widthPerGroup int, layers ...int) func(*Builder) {
	return func(b *Builder) { resnet(b, bottleneck, groups, widthPerGroup, layers) }
}

// resnet follows torchvision's ResNet (v1.5: stride on the 3×3 conv).
func resnet(b *Builder, bottleneck bool, groups, widthPerGroup int, layers []int) {
	x := b.Input("input", 3, 224, 224)
	x = b.relu(b.convBN(x, 3, 64, 7, 2, 3, 1))
	x = b.maxPool(x, 3, 2, 1)
	cin := 64
	// Each residual branch ends in a batch norm whose scale shrinks with
	// depth, so that activations stay of order one through 50 blocks.
	blocks := 0
	for _, n := range layers {
		blocks += n
	}
	g := math.Min(1, math.Sqrt(8/float64(blocks)))
	for stage, n := range layers {
		planes := 64 << stage
		for i := range n {
			stride := 1
			if i == 0 && stage > 0 {
				stride = 2
			}
			cout := planes
			var y string
			if bottleneck {
				cout = planes * 4
				width := planes * widthPerGroup / 64 * groups
				y = b.relu(b.convBN(x, cin, width, 1, 1, 0, 1))
				y = b.relu(b.convBN(y, width, width, 3, stride, 1, groups))
				y = b.bn(b.conv(y, width, cout, 1, 1, 0, 1, false), cout, 0.2*g, 0.5*g)
			} else {
				y = b.relu(b.convBN(x, cin, planes, 3, stride, 1, 1))
				y = b.bn(b.conv(y, planes, cout, 3, 1, 1, 1, false), cout, 0.2*g, 0.5*g)
			}
			shortcut := x
			if stride != 1 || cin != cout {
				shortcut = b.convBN(x, cin, cout, 1, stride, 0, 1)
			}
			x = b.relu(b.add(y, shortcut))
			cin = cout
		}
	}
	b.finish(b.head(x, cin, 1000), 1000)
}

// mobileNetV2 follows torchvision's MobileNetV2 (width 1.0).
func mobileNetV2(b *Builder) {
	x := b.Input("input", 3, 224, 224)
	x = b.relu6(b.convBN(x, 3, 32, 3, 2, 1, 1))
	cin := 32
	for _, s := range [][4]int{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}} {
		t, c, n, stride := s[0], s[1], s[2], s[3]
		for i := range n {
			st := 1
			if i == 0 {
				st = stride
			}
			hidden := cin * t
			y := x
			if t != 1 {
				y = b.relu6(b.convBN(y, cin, hidden, 1, 1, 0, 1))
			}
			y = b.relu6(b.convBN(y, hidden, hidden, 3, st, 1, hidden))
			y = b.bn(b.conv(y, hidden, c, 1, 1, 0, 1, false), c, 0.2, 0.5)
			if st == 1 && cin == c {
				y = b.add(y, x)
			}
			x, cin = y, c
		}
	}
	x = b.relu6(b.convBN(x, cin, 1280, 1, 1, 0, 1))
	g := b.Node("GlobalAveragePool", []string{x})
	f := b.Node("Flatten", []string{g}, Int("axis", 1))
	f = b.Node("Dropout", []string{f})
	b.finish(b.fc(f, 1280, 1000), 1000)
}

// VGG's configurations: output channels of each 3×3 convolution, 0 for a
// 2×2 max pool.
var (
	vggA = []int{64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0}
	vggB = []int{64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0}
	vggD = []int{64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0}
	vggE = []int{64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0}
)

// vgg follows torchvision's VGG of configuration cfg (A: VGG-11, B: 13,
// D: 16, E: 19), with a batch norm after each convolution if bn.
func vgg(b *Builder, cfg []int, bn bool) {
	x := b.Input("input", 3, 224, 224)
	cin := 3
	for _, v := range cfg {
		if v == 0 {
			x = b.maxPool(x, 2, 2, 0)
			continue
		}
		x = b.conv(x, cin, v, 3, 1, 1, 1, true)
		if bn {
			x = b.bn(x, v, 0.5, 1.5)
		}
		x, cin = b.relu(x), v
	}
	b.finish(b.classifier(x, 512*7*7, 4096), 1000)
}

// classifier is VGG's and AlexNet's: Flatten, then Linear, ReLU and
// Dropout twice, and the last Linear to 1000 classes.
func (b *Builder) classifier(x string, in, hidden int) string {
	x = b.Node("Flatten", []string{x}, Int("axis", 1))
	x = b.Node("Dropout", []string{b.relu(b.fc(x, in, hidden))})
	x = b.Node("Dropout", []string{b.relu(b.fc(x, hidden, hidden))})
	return b.fc(x, hidden, 1000)
}

// alexNet follows torchvision's AlexNet: five convolutions, three max
// pools, and VGG's classifier on 256×6×6 (its adaptive pool to 6×6 is
// the identity on 224×224 inputs).
func alexNet(b *Builder) {
	x := b.Input("input", 3, 224, 224)
	x = b.maxPool(b.relu(b.conv(x, 3, 64, 11, 4, 2, 1, true)), 3, 2, 0)
	x = b.maxPool(b.relu(b.conv(x, 64, 192, 5, 1, 2, 1, true)), 3, 2, 0)
	x = b.relu(b.conv(x, 192, 384, 3, 1, 1, 1, true))
	x = b.relu(b.conv(x, 384, 256, 3, 1, 1, 1, true))
	x = b.maxPool(b.relu(b.conv(x, 256, 256, 3, 1, 1, 1, true)), 3, 2, 0)
	b.finish(b.classifier(x, 256*6*6, 4096), 1000)
}

// denseNet follows torchvision's DenseNet of the given growth rate,
// stem width and layers per block (bottleneck 4×): pre-activation batch
// norms that cannot be folded, and a Concat per layer.
func denseNet(b *Builder, growth, stem int, blocks []int) {
	const bnSize = 4
	x := b.Input("input", 3, 224, 224)
	x = b.relu(b.convBN(x, 3, stem, 7, 2, 3, 1))
	x = b.maxPool(x, 3, 2, 1)
	features := []string{x}
	nf := stem
	for i, n := range blocks {
		for range n {
			in := features[0]
			if len(features) > 1 {
				in = b.Node("Concat", features, Int("axis", 1))
			}
			y := b.relu(b.bn(in, nf, 0.5, 1.5))
			y = b.relu(b.convBN(y, nf, bnSize*growth, 1, 1, 0, 1))
			y = b.conv(y, bnSize*growth, growth, 3, 1, 1, 1, false)
			features = append(features, y)
			nf += growth
		}
		x = b.Node("Concat", features, Int("axis", 1))
		if i == len(blocks)-1 {
			break
		}
		x = b.relu(b.bn(x, nf, 0.5, 1.5))
		x = b.conv(x, nf, nf/2, 1, 1, 0, 1, false)
		x = b.avgPool(x, 2, 2, 0, false)
		nf /= 2
		features = []string{x}
	}
	x = b.relu(b.bn(x, nf, 0.5, 1.5))
	b.finish(b.head(x, nf, 1000), 1000)
}
