package engine_test

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/engine/cpuexec"
	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/onnx"
)

// FuzzImport feeds arbitrary bytes to Import. Whatever the bytes, import
// and planning either fail with an *engine.Error or give a plan whose
// memory is sound and which the CPU executor accepts and runs.
func FuzzImport(f *testing.F) {
	// Small graphs, so that mutations are cheap to run.
	for _, m := range []*onnx.ModelProto{
		single([]int{2, 5, 5}, func(b *modelgen.Builder, x string) string {
			c := b.Node("Conv", []string{x, b.Normal("w", 0, 1, 2, 1, 3, 3)}, modelgen.Int("group", 2), ints("pads", 1, 1, 1, 1))
			c = b.Node("Pad", []string{c, b.Int64s("pads", []int64{0, 0, 1, 0, 0, 0, 0, 2}, 8)})
			p := b.Node("MaxPool", []string{c}, ints("kernel_shape", 2, 2), num("ceil_mode", 1))
			r := b.Node("Reshape", []string{p, b.Int64s("s", []int64{0, -1}, 2)})
			return b.Node("Softmax", []string{r})
		}),
		single([]int{2, 4, 4}, func(b *modelgen.Builder, x string) string {
			c := b.Node("Conv", []string{x, b.Normal("w", 0, 1, 2, 2, 1, 1), b.Normal("b", 0, 1, 2)})
			p := b.Const("p", []float32{1, 2}, 2)
			n := b.Node("BatchNormalization", []string{c, p, p, p, p})
			a := b.Node("Relu", []string{b.Node("Add", []string{x, n})})
			g := b.Node("GlobalAveragePool", []string{a})
			m := b.Node("Mul", []string{a, b.Node("HardSigmoid", []string{g})})
			cat := b.Node("Concat", []string{m, b.Node("AveragePool", []string{x}, ints("kernel_shape", 3, 3), ints("pads", 1, 1, 1, 1))}, num("axis", 1))
			f := b.Node("Flatten", []string{cat})
			return b.Node("Gemm", []string{f, b.Normal("fc", 0, 1, 3, 64), b.Normal("fb", 0, 1, 3)}, num("transB", 1))
		}),
		single([]int{6}, func(b *modelgen.Builder, x string) string {
			y := b.Node("MatMul", []string{x, b.Normal("w", 0, 1, 6, 3)})
			lo, hi := b.Const("lo", []float32{0}), b.Const("hi", []float32{6})
			return b.Node("Clip", []string{b.Node("Add", []string{y, b.Normal("c", 0, 1, 3)}), lo, hi})
		}),
		single([]int{2, 3}, func(b *modelgen.Builder, x string) string {
			s := b.Node("Shape", []string{x})
			n := b.Node("Unsqueeze", []string{b.Node("Gather", []string{s, b.Int64s("i", []int64{0})}), b.Int64s("a", []int64{0}, 1)})
			hw := b.Node("Mul", []string{b.Node("Slice", []string{s, b.Int64s("st", []int64{1}, 1), b.Int64s("en", []int64{3}, 1)}), b.Int64s("k", []int64{1, 1}, 2)})
			u := b.Node("Unsqueeze", []string{x, b.Int64s("ax", []int64{1}, 1)})
			r := b.Node("Reshape", []string{b.Node("Squeeze", []string{u, b.Int64s("ax2", []int64{1}, 1)}), b.Node("Concat", []string{n, hw}, num("axis", 0))})
			b.NodeOuts("Split", []string{"s1", "s2"}, []string{r}, num("axis", 1))
			g := b.Node("Unsqueeze", []string{b.Node("Gather", []string{"s2", b.Int64s("g", []int64{0})}, num("axis", 1)), b.Int64s("ga", []int64{1}, 1)})
			sl := b.Node("Slice", []string{"s1", b.Int64s("ss", []int64{0}, 1), b.Int64s("se", []int64{3}, 1), b.Int64s("sa", []int64{2}, 1), b.Int64s("sst", []int64{2}, 1)})
			r = b.Node("Concat", []string{b.Node("Reshape", []string{sl, b.Int64s("sr", []int64{0, 1, 2}, 3)}), g}, num("axis", 2))
			t := b.Node("Transpose", []string{r}, ints("perm", 0, 2, 1))
			return b.Node("Cast", []string{b.Node("MatMul", []string{t, b.Node("Transpose", []string{b.Normal("w", 0, 1, 3, 1)})})}, num("to", 1))
		}),
		single([]int{4, 2, 2}, func(b *modelgen.Builder, x string) string {
			d := b.Node("DepthToSpace", []string{x}, num("blocksize", 2), modelgen.String("mode", "CRD"))
			s := b.Node("SpaceToDepth", []string{d}, num("blocksize", 2))
			return b.Node("ReduceMax", []string{s}, ints("axes", 1))
		}),
		single([]int{3, 2, 4}, func(b *modelgen.Builder, x string) string {
			return b.Node("ReduceLogSumExp", []string{x}, ints("axes", 1, -1), num("keepdims", 0))
		}),
		single([]int{2, 3, 3, 3}, func(b *modelgen.Builder, x string) string {
			c := b.Node("Conv", []string{x, b.Normal("w", 0, 1, 2, 2, 2, 3, 1)}, ints("pads", 1, 1, 0, 0, 1, 0), ints("strides", 2, 1, 1))
			return b.Node("AveragePool", []string{c}, ints("kernel_shape", 2, 2, 2), num("ceil_mode", 1))
		}),
		single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
			return b.Node("Resize", []string{x, "", b.Const("s", []float32{1, 1, 2, 0.5}, 4)}, modelgen.String("mode", "cubic"), num("exclude_outside", 1))
		}),
		single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
			return rnnNode(b, x, "LSTM", func(in []string) []string { return append(in, b.Normal("B", 0, 1, 1, 16)) })
		}),
		single([]int{2, 3, 4}, func(b *modelgen.Builder, x string) string {
			s := b.Node("Einsum", []string{x, b.Node("Sigmoid", []string{x})}, modelgen.String("equation", "bhqd,bhkd->bhqk"))
			c := b.Node("Concat", []string{b.Node("Concat", []string{s, s}, num("axis", 1)), s}, num("axis", 1))
			m := b.Node("Mul", []string{c, b.Node("Sigmoid", []string{c})})
			return b.Node("Einsum", []string{m, b.Normal("w", 0, 1, 2, 3)}, modelgen.String("equation", "...ij,kj"))
		}),
		opset(17, single([]int{2, 3}, func(b *modelgen.Builder, x string) string {
			n := b.Node("LayerNormalization", []string{x, b.Normal("s", 1, 0.1, 3), b.Normal("b", 0, 0.1, 3)}, num("axis", -1))
			g := b.Gelu(b.Node("Add", []string{b.Node("MatMul", []string{n, b.Normal("w", 0, 1, 3, 4)}), b.Normal("c", 0, 1, 4)}))
			return b.Node("Erf", []string{g})
		})),
		single([]int{2, 3}, func(b *modelgen.Builder, x string) string {
			n := b.Node("Unsqueeze", []string{b.Node("Gather", []string{b.Node("Shape", []string{x}), b.Int64s("z", []int64{0})}), b.Int64s("a", []int64{0}, 1)})
			m1 := b.Int64s("m1", []int64{-1}, 1)
			size := b.Node("Concat", []string{n, m1, m1}, num("axis", 0))
			ones := b.Node("ConstantOfShape", []string{b.Node("Shape", []string{size})}, modelgen.Int64Tensor("value", 1))
			w := b.Node("Where", []string{b.Node("Equal", []string{size, b.Node("Mul", []string{ones, m1})}), ones, size})
			t := b.Node("Concat", []string{b.Node("Expand", []string{b.Normal("t", 0, 1, 1, 1, 3), w}), x}, num("axis", 1))
			k := b.Node("Transpose", []string{t}, ints("perm", 0, 2, 1))
			s := b.Node("Sqrt", []string{b.Node("Div", []string{b.Const("one", []float32{1}), b.Const("d", []float32{3})})})
			return b.Node("Softmax", []string{b.Node("MatMul", []string{b.Node("Mul", []string{t, s}), k})})
		}),
		single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
			lead := b.Node("Slice", []string{b.Node("Shape", []string{x}), b.Int64s("f", []int64{0}, 1), b.Int64s("t", []int64{2}, 1)})
			up := b.Node("Resize", []string{x, "", "", b.Node("Concat", []string{lead, b.Int64s("hw", []int64{5, 4}, 2)}, num("axis", 0))},
				modelgen.String("mode", "linear"), modelgen.String("coordinate_transformation_mode", "pytorch_half_pixel"))
			r := b.Node("Resize", []string{up, "", b.Const("s", []float32{1, 1, 2, 0.5}, 4)}, modelgen.String("nearest_mode", "round_prefer_ceil"))
			d := b.Node("ConvTranspose", []string{r, b.Normal("w", 0, 1, 2, 1, 2, 2)}, ints("strides", 2, 1), ints("output_shape", 11, 3))
			return b.Node("Sum", []string{b.Node("LRN", []string{d}, num("size", 3)), d, d})
		}),
		single([]int{2, 9}, func(b *modelgen.Builder, x string) string {
			c := b.Node("Conv", []string{x, b.Normal("w", 0, 1, 2, 1, 3)}, num("group", 2), ints("strides", 2), ints("pads", 1, 0))
			p := b.Node("MaxPool", []string{c}, ints("kernel_shape", 2), num("ceil_mode", 1))
			return b.Node("ConvTranspose", []string{p, b.Normal("w2", 0, 1, 2, 1, 2)}, ints("strides", 3), ints("output_padding", 1))
		}),
		single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
			p := b.Node("PRelu", []string{x, b.Normal("s", 0, 1, 2, 1, 1)})
			e := b.Node("Selu", []string{b.Node("Mish", []string{p})}, modelgen.Float("gamma", 2))
			return b.Node("LogSoftmax", []string{b.Node("Gelu", []string{e}, modelgen.String("approximate", "tanh"))}, num("axis", 1))
		}),
		single([]int{2, 3, 4}, func(b *modelgen.Builder, x string) string {
			return b.Node("InstanceNormalization", []string{x, b.Const("s", []float32{1, 2}, 2), b.Const("b", []float32{0, 1}, 2)}, modelgen.Float("epsilon", 1e-3))
		}),
	} {
		data, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	workers := cpuexec.NewWorkers(2)
	f.Cleanup(workers.Close)
	f.Fuzz(func(t *testing.T, data []byte) {
		var e *engine.Error
		m, err := engine.Import(data, engine.Options{PageSize: 1 << 16})
		if err != nil {
			if !errors.As(err, &e) {
				t.Fatalf("import error %v is a %T", err, err)
			}
			return
		}
		for _, b := range []int{1, 3} {
			p, err := m.Plan(b)
			if err != nil {
				if !errors.As(err, &e) {
					t.Fatalf("plan error %v is a %T", err, err)
				}
				continue
			}
			if err := checkPlan(p, pageSizes(m)); err != nil {
				t.Fatal(err)
			}
			if p.IOBytes+p.WorkspaceBytes > 1<<22 || work(p) > 1e8 {
				continue // legitimate but too slow for fuzzing
			}
			x, err := cpuexec.New(p, m.Weights.Pages)
			if err != nil {
				t.Fatalf("executor rejects the plan: %v", err)
			}
			mem := cpuexec.Memory{IO: make([]byte, p.IOBytes), Workspace: make([]byte, p.WorkspaceBytes), Pages: m.Weights.Pages}
			if err := x.Run(workers, mem); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// work estimates the multiply-adds of a plan.
func work(p *engine.Plan) float64 {
	var w float64
	for _, op := range p.Ops {
		out := float64(op.Writes().Elems())
		switch o := op.(type) {
		case *engine.Conv:
			w += out * float64(o.W.Elems()/max(1, o.W.Shape[0]))
		case *engine.Gemm:
			w += float64(o.M) * float64(o.N) * float64(o.K)
		case *engine.Pool:
			w += out * float64(o.KernelH) * float64(o.KernelW)
		default:
			w += out + float64(len(op.Reads()))
		}
	}
	return w
}
