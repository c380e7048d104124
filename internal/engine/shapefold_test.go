package engine_test

import (
	"slices"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/onnx"
)

// TestShapeArithmetic checks the folded values of shape arithmetic
// through the shapes they give: each case computes a 1-D int64 tensor
// that becomes the item dimensions of a Reshape of the input, whose
// output shape then shows the values.
func TestShapeArithmetic(t *testing.T) {
	i64 := func(b *modelgen.Builder, v []int64, dims ...int) string {
		if dims == nil {
			dims = []int{len(v)}
		}
		return b.Int64s(b.Fresh("c"), v, dims...)
	}
	flat := func(b *modelgen.Builder, x string) string {
		return b.Node("Reshape", []string{x, i64(b, []int64{-1})})
	}
	slice := func(b *modelgen.Builder, x string, in ...[]int64) string {
		args := []string{x}
		for _, v := range in {
			args = append(args, i64(b, v))
		}
		return b.Node("Slice", args)
	}
	for _, tc := range []struct {
		name  string
		item  []int // the input's
		dims  func(b *modelgen.Builder, x string) string
		want  []int // the output's item shape
		opset int64
	}{
		{"slice negative step", []int{80}, func(b *modelgen.Builder, x string) string {
			return slice(b, i64(b, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}), []int64{8}, []int64{1}, []int64{0}, []int64{-3})
		}, []int{8, 5, 2}, 0},
		{"slice step 2 past the end", []int{15}, func(b *modelgen.Builder, x string) string {
			return slice(b, i64(b, []int64{0, 1, 2, 3, 4, 5}), []int64{1}, []int64{1 << 40}, []int64{0}, []int64{2})
		}, []int{1, 3, 5}, 0},
		{"slice negative step to the start", []int{24}, func(b *modelgen.Builder, x string) string {
			return slice(b, i64(b, []int64{1, 2, 3, 4}), []int64{-1}, []int64{-1 << 40}, []int64{0}, []int64{-1})
		}, []int{4, 3, 2, 1}, 0},
		{"slice negative step from before the start", []int{12}, func(b *modelgen.Builder, x string) string {
			// ONNX clamps the start to the first element: one element.
			return b.Node("Concat", []string{slice(b, i64(b, []int64{6, 7, 8}), []int64{-10}, []int64{-10}, []int64{0}, []int64{-1}), i64(b, []int64{2})}, num("axis", 0))
		}, []int{6, 2}, 0},
		{"slice last axis of 2-D", []int{40}, func(b *modelgen.Builder, x string) string {
			return flat(b, slice(b, i64(b, []int64{9, 1, 2, 9, 4, 5}, 2, 3), []int64{1}, []int64{3}, []int64{-1}))
		}, []int{1, 2, 4, 5}, 0},
		{"slice opset 9 attributes", []int{6}, func(b *modelgen.Builder, x string) string {
			return b.Node("Slice", []string{i64(b, []int64{7, 2, 3})}, ints("starts", 1), ints("ends", 3))
		}, []int{2, 3}, 9},
		{"gather 2-D axis 1", []int{252}, func(b *modelgen.Builder, x string) string {
			return flat(b, b.Node("Gather", []string{i64(b, []int64{1, 2, 3, 5, 6, 7}, 2, 3), i64(b, []int64{-1, 1}, 1, 2)}, num("axis", 1)))
		}, []int{3, 2, 7, 6}, 0}, // [[3 2] [7 6]] of shape [2 1 2]
		{"concat 2-D axis 1", []int{30}, func(b *modelgen.Builder, x string) string {
			return flat(b, b.Node("Concat", []string{i64(b, []int64{2, 3}, 2, 1), i64(b, []int64{5, 1}, 2, 1)}, num("axis", 1)))
		}, []int{2, 5, 3, 1}, 0},
		{"broadcast product", []int{7200}, func(b *modelgen.Builder, x string) string {
			return flat(b, b.Node("Mul", []string{i64(b, []int64{1, 2}, 2, 1), i64(b, []int64{2, 3, 5}, 3)}))
		}, []int{2, 3, 5, 4, 6, 10}, 0},
		{"sub and truncating div", []int{15}, func(b *modelgen.Builder, x string) string {
			return b.Node("Div", []string{b.Node("Sub", []string{i64(b, []int64{9, 13}), i64(b, []int64{2})}), i64(b, []int64{2})})
		}, []int{3, 5}, 0}, // 7/2 and 11/2
		{"squeeze without axes", []int{6}, func(b *modelgen.Builder, x string) string {
			return b.Node("Squeeze", []string{i64(b, []int64{2, 3}, 1, 2, 1)})
		}, []int{2, 3}, 0},
		{"cast of floats truncates", []int{6}, func(b *modelgen.Builder, x string) string {
			return b.Node("Cast", []string{b.Const("f", []float32{-1.9, 3.9}, 2)}, num("to", int(onnx.TensorProto_INT64)))
		}, []int{-1, 3}, 0}, // -1: inferred as 2
		{"shape end and start", []int{3, 4, 5}, func(b *modelgen.Builder, x string) string {
			// Shape(x)[1:-1] = [3 4] divided by [3 2], then the last ×6.
			mid := b.Node("Shape", []string{x}, num("start", 1), num("end", -1))
			last := b.Node("Shape", []string{x}, num("start", -1))
			return b.Node("Concat", []string{b.Node("Div", []string{mid, i64(b, []int64{3, 2})}), b.Node("Mul", []string{last, i64(b, []int64{6})})}, num("axis", 0))
		}, []int{1, 2, 30}, 15},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := modelgen.NewBuilder("test", 1)
			x := b.Input("x", tc.item...)
			n := b.Node("Gather", []string{b.Node("Shape", []string{x}), b.Int64s("zero", []int64{0})}) // a scalar index
			target := b.Node("Concat", []string{b.Node("Unsqueeze", []string{n, i64(b, []int64{0})}), tc.dims(b, x)}, num("axis", 0))
			b.OutputAny(b.Node("Relu", []string{b.Node("Reshape", []string{x, target})}))
			mp := b.Model()
			if tc.opset != 0 {
				mp.OpsetImport[0].Version = tc.opset
				if tc.opset < 13 {
					// Unsqueeze's axes are an attribute before 13.
					u := mp.Graph.Node[2]
					u.Input = u.Input[:1]
					u.Attribute = append(u.Attribute, ints("axes", 0))
				}
			}
			m := mustImport(t, mp, engine.Options{})
			want := slices.Clone(tc.want)
			for i, d := range want {
				if d == -1 {
					want[i] = 2
				}
			}
			if got := m.Outputs[0].Shape; !slices.Equal(got, want) {
				t.Errorf("output item shape %v, want %v", got, want)
			}
			if p := mustPlan(t, m, 5); !slices.Equal(p.Outputs[0].Shape, append([]int{5}, want...)) {
				t.Errorf("output shape at batch 5 %v, want [5 %v]", p.Outputs[0].Shape, want)
			}
		})
	}
}
