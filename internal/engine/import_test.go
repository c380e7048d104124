package engine_test

import (
	"errors"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/onnx"
)

var (
	ints = modelgen.Ints
	num  = modelgen.Int
)

func TestImportErrors(t *testing.T) {
	conv := func(b *modelgen.Builder, x string, w string) string {
		return b.Node("Conv", []string{x, w}, ints("kernel_shape", 3, 3))
	}
	for _, tc := range []struct {
		name  string
		model func() *onnx.ModelProto
		data  []byte // instead of model
		opts  engine.Options
		want  []string
	}{
		{name: "garbage", data: []byte{0xff, 0xff, 0xff}, want: []string{"malformed file"}},
		{name: "unsupported operator", model: func() *onnx.ModelProto {
			m := single([]int{4}, func(b *modelgen.Builder, x string) string {
				b.NodeOut("NonMaxSuppression", "sig", []string{x})
				return "sig"
			})
			return m
		}, want: []string{"NonMaxSuppression", `"sig"`, "unsupported operator"}},
		{name: "lrn without size", model: func() *onnx.ModelProto {
			return single([]int{2, 2, 2}, func(b *modelgen.Builder, x string) string { return b.Node("LRN", []string{x}) })
		}, want: []string{"LRN", `missing attribute "size"`}},
		{name: "pow by a tensor", model: func() *onnx.ModelProto {
			return single([]int{4}, func(b *modelgen.Builder, x string) string {
				return b.Node("Pow", []string{x, b.Node("Relu", []string{x})})
			})
		}, want: []string{"Pow", "only a constant scalar exponent", "must be a constant initializer"}},
		{name: "mean over the batch axis", model: func() *onnx.ModelProto {
			return single([]int{3, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("ReduceMean", []string{x}, modelgen.Ints("axes", 0, 1, 2, 3))
			})
		}, want: []string{"ReduceMean", "a mean over axis 0 of [1 3 4 4], the batch axis, is not supported"}},
		{name: "max over the batch axis moved last", model: func() *onnx.ModelProto {
			return single([]int{3, 4, 4}, func(b *modelgen.Builder, x string) string {
				t := b.Node("Transpose", []string{x}, modelgen.Ints("perm", 1, 2, 3, 0))
				return b.Node("ReduceMax", []string{t}, modelgen.Ints("axes", -1))
			})
		}, want: []string{"ReduceMax", "a maximum over axis -1 of [3 4 4 1], the batch axis, is not supported"}},
		{name: "mean over an axis twice", model: func() *onnx.ModelProto {
			return single([]int{3, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("ReduceMean", []string{x}, modelgen.Ints("axes", 1, -3))
			})
		}, want: []string{"ReduceMean", "axes [1 -3] for an input of rank 4"}},
		{name: "mean over everything", model: func() *onnx.ModelProto {
			return single([]int{3, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("ReduceMean", []string{x})
			})
		}, want: []string{"ReduceMean", "a mean over every axis is not supported (only over axes other than the batch axis)"}},
		{name: "reducesum axes attribute at opset 13", model: func() *onnx.ModelProto {
			return single([]int{3, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("ReduceSum", []string{x}, modelgen.Ints("axes", 2, 3))
			})
		}, want: []string{"ReduceSum", `attribute "axes": from opset 13 the axes are input 1`}},
		{name: "max over everything", model: func() *onnx.ModelProto {
			return single([]int{3, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("ReduceMax", []string{x})
			})
		}, want: []string{"ReduceMax", "a maximum over every axis is not supported"}},
		{name: "depthtospace without blocksize", model: func() *onnx.ModelProto {
			return single([]int{8, 2, 2}, func(b *modelgen.Builder, x string) string { return b.Node("DepthToSpace", []string{x}) })
		}, want: []string{"DepthToSpace", `missing attribute "blocksize"`}},
		{name: "depthtospace mode", model: func() *onnx.ModelProto {
			return single([]int{8, 2, 2}, func(b *modelgen.Builder, x string) string {
				return b.Node("DepthToSpace", []string{x}, modelgen.Int("blocksize", 2), modelgen.String("mode", "NHWC"))
			})
		}, want: []string{"DepthToSpace", `mode "NHWC" is not DCR or CRD`}},
		{name: "depthtospace channels", model: func() *onnx.ModelProto {
			return single([]int{6, 2, 2}, func(b *modelgen.Builder, x string) string {
				return b.Node("DepthToSpace", []string{x}, modelgen.Int("blocksize", 2))
			})
		}, want: []string{"DepthToSpace", "6 channels must be a multiple of the blocksize squared, 4"}},
		{name: "depthtospace rank", model: func() *onnx.ModelProto {
			return single([]int{8, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("DepthToSpace", []string{x}, modelgen.Int("blocksize", 2))
			})
		}, want: []string{"DepthToSpace", "input has shape [1 8 4], want [N, C, H, W]"}},
		{name: "spacetodepth height", model: func() *onnx.ModelProto {
			return single([]int{2, 5, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("SpaceToDepth", []string{x}, modelgen.Int("blocksize", 2))
			})
		}, want: []string{"SpaceToDepth", "height 5 and width 4 must be multiples of the blocksize 2"}},
		{name: "spacetodepth of a transposed batch axis", model: func() *onnx.ModelProto {
			return single([]int{2, 4, 4}, func(b *modelgen.Builder, x string) string {
				t := b.Node("Transpose", []string{x}, modelgen.Ints("perm", 1, 0, 2, 3))
				return b.Node("SpaceToDepth", []string{t}, modelgen.Int("blocksize", 2))
			})
		}, want: []string{"SpaceToDepth", "input has shape [2 1 4 4] at batch size 1: the batch axis must be the first"}},
		{name: "min over everything", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string { return b.Node("ReduceMin", []string{x}) })
		}, want: []string{"ReduceMin", "a minimum over every axis is not supported"}},
		{name: "l2 norm over the batch axis", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("ReduceL2", []string{x}, modelgen.Ints("axes", 0, 1))
			})
		}, want: []string{"ReduceL2", "an L2 norm over axis 0 of [1 3 4], the batch axis, is not supported"}},
		{name: "log-sum-exp over the batch axis", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("ReduceLogSumExp", []string{x}, modelgen.Ints("axes", 0))
			})
		}, want: []string{"ReduceLogSumExp", "a log-sum-exp over axis 0 of [1 3 4], the batch axis, is not supported"}},
		{name: "log-sum over everything", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string { return b.Node("ReduceLogSum", []string{x}) })
		}, want: []string{"ReduceLogSum", "a log-sum over every axis is not supported"}},
		{name: "tile of the batch axis", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Tile", []string{x, b.Int64s("r", []int64{2, 1}, 2)})
			})
		}, want: []string{"Tile", "repeats [2 1] repeat axis 0 of [1 3], the batch axis"}},
		{name: "tile repeats of another rank", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Tile", []string{x, b.Int64s("r", []int64{2}, 1)})
			})
		}, want: []string{"Tile", "the repeats must be a constant list of 2, one for each axis of [1 3]"}},
		{name: "tile by zero", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Tile", []string{x, b.Int64s("r", []int64{1, 0}, 2)})
			})
		}, want: []string{"Tile", "repeats [1 0]: each must be in [1, 16777216]"}},
		{name: "groupnorm groups", model: func() *onnx.ModelProto {
			return opset(21, single([]int{6, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("GroupNormalization", []string{x, b.Normal("s", 1, 0.3, 6), b.Normal("b", 0, 0.3, 6)}, num("num_groups", 4))
			}))
		}, want: []string{"GroupNormalization", "input has shape [1 6 4]: want [N, C, ...] with C a multiple of num_groups 4"}},
		{name: "groupnorm per-group scale at opset 21", model: func() *onnx.ModelProto {
			return opset(21, single([]int{6, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("GroupNormalization", []string{x, b.Normal("s", 1, 0.3, 3), b.Normal("b", 0, 0.3, 3)}, num("num_groups", 3))
			}))
		}, want: []string{"GroupNormalization", "input 1 has 3 elements, want 6 (one per channel)"}},
		{name: "groupnorm without groups", model: func() *onnx.ModelProto {
			return opset(18, single([]int{6, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("GroupNormalization", []string{x, b.Normal("s", 1, 0.3, 6), b.Normal("b", 0, 0.3, 6)})
			}))
		}, want: []string{"GroupNormalization", `missing attribute "num_groups"`}},
		{name: "groupnorm before opset 18", model: func() *onnx.ModelProto {
			return single([]int{6, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("GroupNormalization", []string{x, b.Normal("s", 1, 0.3, 6), b.Normal("b", 0, 0.3, 6)}, num("num_groups", 3))
			})
		}, want: []string{"GroupNormalization", "an operator of opset 18"}},
		{name: "custom domain", model: func() *onnx.ModelProto {
			m := single([]int{4}, func(b *modelgen.Builder, x string) string { return b.Node("Relu", []string{x}) })
			m.Graph.Node[0].Domain = "com.microsoft"
			return m
		}, want: []string{"com.microsoft.Relu", "unsupported operator"}},
		{name: "broadcast mismatch", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Add", []string{x, b.Const("c", []float32{1, 2, 3, 4}, 4)})
			})
		}, want: []string{"Add", "do not broadcast"}},
		{name: "conv channels", model: func() *onnx.ModelProto {
			return single([]int{3, 8, 8}, func(b *modelgen.Builder, x string) string {
				return conv(b, x, b.Normal("w", 0, 1, 4, 5, 3, 3))
			})
		}, want: []string{"Conv", "do not match"}},
		{name: "unknown tensor", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string { return b.Node("Add", []string{x, "nope"}) })
		}, want: []string{`unknown tensor "nope"`, "Add"}},
		{name: "external data", model: func() *onnx.ModelProto {
			m := single([]int{3, 8, 8}, func(b *modelgen.Builder, x string) string {
				return conv(b, x, b.Normal("w", 0, 1, 4, 3, 3, 3))
			})
			w := m.Graph.Initializer[0]
			w.RawData, w.DataLocation = nil, onnx.TensorProto_EXTERNAL
			w.ExternalData = []*onnx.StringStringEntryProto{{Key: "location", Value: "weights.bin"}}
			return m
		}, want: []string{`"w"`, "external data"}},
		{name: "double weights", model: func() *onnx.ModelProto {
			m := single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Mul", []string{x, b.Const("c", []float32{1, 2, 3}, 3)})
			})
			c := m.Graph.Initializer[0]
			c.DataType, c.RawData, c.DoubleData = int32(onnx.TensorProto_DOUBLE), nil, []float64{1, 2, 3}
			return m
		}, want: []string{`"c"`, "DOUBLE", "float32 only"}},
		{name: "int64 input", model: func() *onnx.ModelProto {
			m := single([]int{3}, func(b *modelgen.Builder, x string) string { return b.Node("Relu", []string{x}) })
			m.Graph.Input[0].Type.GetTensorType().ElemType = int32(onnx.TensorProto_INT64)
			return m
		}, want: []string{`input "x"`, "INT64", "float32 only"}},
		{name: "int64 constant as data", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Add", []string{x, b.Int64s("c", []int64{1, 2, 3}, 3)})
			})
		}, want: []string{`"c"`, "INT64", "float32 only"}},
		{name: "reshape shape not constant", model: func() *onnx.ModelProto {
			return single([]int{4}, func(b *modelgen.Builder, x string) string {
				return b.Node("Reshape", []string{x, b.Node("Relu", []string{x})})
			})
		}, want: []string{"Reshape", "must be a constant"}},
		{name: "einsum diagonal", model: func() *onnx.ModelProto {
			return single([]int{3, 3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Einsum", []string{x}, modelgen.String("equation", "bii->bi"))
			})
		}, want: []string{"Einsum node", "appears twice"}},
		{name: "einsum three operands", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Einsum", []string{x, x, x}, modelgen.String("equation", "bi,bi,bi->bi"))
			})
		}, want: []string{"Einsum node", "has 3 inputs"}},
		{name: "einsum sums the batch", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Einsum", []string{x}, modelgen.String("equation", "bi->i"))
			})
		}, want: []string{"Einsum node", "sums over the batch axis"}},
		{name: "einsum contracts the batch", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Einsum", []string{x, x}, modelgen.String("equation", "bi,bj->ij"))
			})
		}, want: []string{"Einsum node", "sums over the batch axis"}},
		{name: "einsum broadcasts", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("Einsum", []string{x, b.Normal("w", 0, 1, 1, 5)}, modelgen.String("equation", "bij,jk->bik"))
			})
		}, want: []string{"Einsum node", "broadcasting is not supported"}},
		{name: "einsum term rank", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("Einsum", []string{x}, modelgen.String("equation", "bi->b"))
			})
		}, want: []string{"Einsum node", "has 2 labels for input 0 of rank 3"}},
		{name: "einsum output label", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Einsum", []string{x}, modelgen.String("equation", "bi->bk"))
			})
		}, want: []string{"Einsum node", "in no input"}},
		{name: "einsum bad character", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Einsum", []string{x}, modelgen.String("equation", "b1->b"))
			})
		}, want: []string{"Einsum node", "unexpected"}},
		{name: "einsum constant with batch labels", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("Einsum", []string{x, b.Normal("w", 0, 1, 3, 4, 2)}, modelgen.String("equation", "bij,ijk->bik"))
			})
		}, want: []string{"Einsum node", "constant operand"}},
		{name: "lstm sequence_lens", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return rnnNode(b, x, "LSTM", func(in []string) []string { return append(in, "", b.Int64s("lens", []int64{3}, 1)) })
			})
		}, want: []string{`node "rnn"`, `sequence_lens is not supported`}},
		{name: "lstm clip", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return rnnNode(b, x, "LSTM", nil, modelgen.Float("clip", 3))
			})
		}, want: []string{`node "rnn"`, `"clip" is not supported`}},
		{name: "lstm peepholes", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return rnnNode(b, x, "LSTM", func(in []string) []string { return append(in, "", "", "", "", b.Normal("P", 0, 1, 1, 6)) })
			})
		}, want: []string{`node "rnn"`, `peepholes`}},
		{name: "gru activation", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return rnnNode(b, x, "GRU", nil, modelgen.Strings("activations", "Sigmoid", "Affine"))
			})
		}, want: []string{`node "rnn"`, `activation "Affine" is not supported`}},
		{name: "rnn activations count", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return rnnNode(b, x, "RNN", nil, modelgen.Strings("activations", "Tanh", "Tanh"))
			})
		}, want: []string{`node "rnn"`, `2 activations for 1 direction`}},
		{name: "lstm batch axis", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return rnnNode(b, b.Node("Transpose", []string{x}, ints("perm", 1, 0, 2)), "LSTM", nil)
			})
		}, want: []string{`node "rnn"`, `must be the model's batch axis`}},
		{name: "lstm constant initial state", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return rnnNode(b, x, "LSTM", func(in []string) []string { return append(in, "", "", b.Const("h0", []float32{1, 1}, 1, 1, 2)) })
			})
		}, want: []string{`node "rnn"`, `is not zeros`}},
		{name: "gru weights shape", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return rnnNode(b, x, "GRU", func(in []string) []string { in[1] = b.Normal("W2", 0, 1, 1, 5, 4); return in })
			})
		}, want: []string{`node "rnn"`, `W [1 5 4]`}},
		{name: "lstm input_forget", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return rnnNode(b, x, "LSTM", nil, num("input_forget", 1))
			})
		}, want: []string{`node "rnn"`, `input_forget is not supported`}},
		// A convolution's weights larger than a page are split by output
		// channels, but not below one channel, nor a grouped one's.
		{name: "conv output channel larger than page", opts: engine.Options{PageSize: 1024}, model: func() *onnx.ModelProto {
			return single([]int{64, 8, 8}, func(b *modelgen.Builder, x string) string {
				return conv(b, x, b.Normal("bigw", 0, 1, 2, 64, 3, 3))
			})
		}, want: []string{`"bigw"`, "larger than a page"}},
		{name: "grouped conv larger than page", opts: engine.Options{PageSize: 1024}, model: func() *onnx.ModelProto {
			return single([]int{8, 8, 8}, func(b *modelgen.Builder, x string) string {
				return b.Node("Conv", []string{x, b.Normal("groupw", 0, 1, 16, 4, 3, 3)}, num("group", 2))
			})
		}, want: []string{`"groupw"`, "larger than a page"}},
		{name: "no opset", model: func() *onnx.ModelProto {
			m := single([]int{3}, func(b *modelgen.Builder, x string) string { return b.Node("Relu", []string{x}) })
			m.OpsetImport = nil
			return m
		}, want: []string{"opset_import"}},
		{name: "no graph", model: func() *onnx.ModelProto { return &onnx.ModelProto{IrVersion: 8} }, want: []string{"no graph"}},
		{name: "fixed batch", model: func() *onnx.ModelProto {
			m := single([]int{3}, func(b *modelgen.Builder, x string) string { return b.Node("Relu", []string{x}) })
			m.Graph.Input[0].Type.GetTensorType().Shape.Dim[0].Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: 8}
			return m
		}, want: []string{"leading dimension 8"}},
		{name: "symbolic inner dim", model: func() *onnx.ModelProto {
			m := single([]int{3}, func(b *modelgen.Builder, x string) string { return b.Node("Relu", []string{x}) })
			m.Graph.Input[0].Type.GetTensorType().Shape.Dim[1].Value = &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "L"}
			return m
		}, want: []string{"dimension 1", "symbolic"}},
		{name: "maxpool indices", model: func() *onnx.ModelProto {
			m := single([]int{2, 4, 4}, func(b *modelgen.Builder, x string) string {
				b.NodeOut("MaxPool", "mp", []string{x}, ints("kernel_shape", 2, 2))
				return "idx"
			})
			m.Graph.Node[0].Output = append(m.Graph.Node[0].Output, "idx")
			return m
		}, want: []string{`"idx"`, "output 1 of MaxPool"}},
		{name: "dropout training", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				on := &onnx.TensorProto{Name: "on", DataType: int32(onnx.TensorProto_BOOL), RawData: []byte{1}}
				r := b.Const("ratio", []float32{0.5})
				y := b.Node("Dropout", []string{x, r, "on"})
				b.Model().Graph.Initializer = append(b.Model().Graph.Initializer, on)
				return y
			})
		}, want: []string{"Dropout", "training_mode"}},
		{name: "clip bound not constant", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string { return b.Node("Clip", []string{x, x}) })
		}, want: []string{"Clip", "must be a constant"}},
		{name: "defined twice", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				b.NodeOut("Relu", "r", []string{x})
				b.NodeOut("Relu", "r", []string{x})
				return "r"
			})
		}, want: []string{`"r"`, "already defined"}},
		{name: "4-D convolution", model: func() *onnx.ModelProto {
			return single([]int{2, 4, 4, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("Conv", []string{x, b.Normal("w", 0, 1, 2, 2, 3, 3, 3, 3)})
			})
		}, want: []string{"Conv", "only 1-D, 2-D and 3-D convolutions are supported"}},
		{name: "3-D convolution of a 2-D input", model: func() *onnx.ModelProto {
			return single([]int{2, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("Conv", []string{x, b.Normal("w", 0, 1, 2, 2, 3, 3, 3)})
			})
		}, want: []string{"Conv", "input has shape [1 2 4 4], want [N, C, D, H, W] for weights [2 2 3 3 3]"}},
		{name: "3-D convolution deeper than its input", model: func() *onnx.ModelProto {
			return single([]int{2, 2, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("Conv", []string{x, b.Normal("w", 0, 1, 2, 2, 3, 3, 3)})
			})
		}, want: []string{"Conv", "the kernel's depth 3 (dilated 1) is deeper than the padded input"}},
		{name: "3-D convolution groups", model: func() *onnx.ModelProto {
			return single([]int{3, 4, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("Conv", []string{x, b.Normal("w", 0, 1, 2, 2, 3, 3, 3)}, modelgen.Int("group", 2))
			})
		}, want: []string{"Conv", "weights [2 2 3 3 3] with group 2 for an input of 3 channels"}},
		{name: "1-D convolution of a 2-D input", model: func() *onnx.ModelProto {
			return single([]int{2, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("Conv", []string{x, b.Normal("w", 0, 1, 2, 2, 3)})
			})
		}, want: []string{"Conv", "a 1-D Conv takes [N, C, L]"}},
		{name: "1-D convolution with 2-D strides", model: func() *onnx.ModelProto {
			return single([]int{2, 8}, func(b *modelgen.Builder, x string) string {
				return b.Node("Conv", []string{x, b.Normal("w", 0, 1, 2, 2, 3)}, modelgen.Ints("strides", 2, 2))
			})
		}, want: []string{"Conv", `attribute "strides" has 2 values, want 1`}},
		{name: "1-D convolution with 2-D pads", model: func() *onnx.ModelProto {
			return single([]int{2, 8}, func(b *modelgen.Builder, x string) string {
				return b.Node("Conv", []string{x, b.Normal("w", 0, 1, 2, 2, 3)}, modelgen.Ints("pads", 1, 1, 1, 1))
			})
		}, want: []string{"Conv", `attribute "pads" has 4 values, want 2`}},
		{name: "2-D convolution of a 1-D input", model: func() *onnx.ModelProto {
			return single([]int{2, 8}, func(b *modelgen.Builder, x string) string {
				return b.Node("Conv", []string{x, b.Normal("w", 0, 1, 2, 2, 3, 3)})
			})
		}, want: []string{"Conv", "a 2-D convolution (weights [2 2 3 3]) takes [N, C, H, W]"}},
		{name: "4-D pooling", model: func() *onnx.ModelProto {
			return single([]int{2, 4, 4, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("MaxPool", []string{x}, modelgen.Ints("kernel_shape", 2, 2, 2, 2))
			})
		}, want: []string{"MaxPool", "only 1-D, 2-D and 3-D pooling"}},
		{name: "3-D pooling of a 2-D input", model: func() *onnx.ModelProto {
			return single([]int{2, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("MaxPool", []string{x}, modelgen.Ints("kernel_shape", 2, 2, 2))
			})
		}, want: []string{"MaxPool", "input has shape [1 2 4 4], want [N, C, D, H, W]"}},
		{name: "3-D pooling pads", model: func() *onnx.ModelProto {
			return single([]int{2, 4, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("MaxPool", []string{x}, modelgen.Ints("kernel_shape", 2, 2, 2), modelgen.Ints("pads", 1, 1, 1, 1))
			})
		}, want: []string{"MaxPool", `attribute "pads" has 4 values, want 6`}},
		{name: "1-D pooling of a 2-D input", model: func() *onnx.ModelProto {
			return single([]int{2, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("AveragePool", []string{x}, modelgen.Ints("kernel_shape", 2))
			})
		}, want: []string{"AveragePool", "a 1-D AveragePool takes [N, C, L]"}},
		{name: "output not batched", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Reshape", []string{x, b.Int64s("s", []int64{1, -1}, 2)})
			})
		}, want: []string{"does not scale with the batch"}},
		{name: "batchnorm training", model: func() *onnx.ModelProto {
			return single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
				p := b.Const("p", []float32{1, 1}, 2)
				return b.Node("BatchNormalization", []string{x, p, p, p, p}, num("training_mode", 1))
			})
		}, want: []string{"BatchNormalization", "training_mode"}},
		{name: "gemm rank", model: func() *onnx.ModelProto {
			return single([]int{2, 3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Gemm", []string{x, b.Normal("w", 0, 1, 3, 3)})
			})
		}, want: []string{"Gemm", "want rank 2"}},
		{name: "attribute type", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Softmax", []string{x}, modelgen.Float("axis", 1))
			})
		}, want: []string{"Softmax", `"axis"`, "FLOAT"}},
		{name: "gather of a matrix of indices", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Gather", []string{x, b.Int64s("i", []int64{0, 2, 1, 0}, 2, 2)}, num("axis", 1))
			})
		}, want: []string{"Gather", "only a Gather of constant indices, a scalar or a list, is supported"}},
		{name: "gather of indices out of range", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Gather", []string{x, b.Int64s("i", []int64{2, -4}, 2)}, num("axis", 1))
			})
		}, want: []string{"Gather", "index -4 out of range for axis 1 of [1 3]"}},
		{name: "gather of too many runs", model: func() *onnx.ModelProto {
			return single([]int{100}, func(b *modelgen.Builder, x string) string {
				rev := make([]int64, 65)
				for i := range rev {
					rev[i] = int64(64 - i)
				}
				return b.Node("Gather", []string{x, b.Int64s("i", rev, 65)}, num("axis", 1))
			})
		}, want: []string{"Gather", "are 65 runs of consecutive indices (64 at most)"}},
		{name: "gather of the batch axis", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Gather", []string{x, b.Int64s("i", []int64{0})})
			})
		}, want: []string{"Gather", "slices the batch axis of [1 3]"}},
		{name: "slice of the batch axis", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Slice", []string{x, b.Int64s("s", []int64{0}, 1), b.Int64s("e", []int64{1}, 1)})
			})
		}, want: []string{"Slice", "slices the batch axis"}},
		{name: "slice of the batch axis moved", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				t := b.Node("Transpose", []string{x}, ints("perm", 1, 0))
				return b.Node("Slice", []string{t, b.Int64s("s", []int64{0}, 1), b.Int64s("e", []int64{9}, 1), b.Int64s("a", []int64{-1}, 1), b.Int64s("st", []int64{2}, 1)})
			})
		}, want: []string{"Slice", "slices the batch axis of [3 1] (axis 1)"}},
		{name: "slice of the batch axis merged", model: func() *onnx.ModelProto {
			return single([]int{2, 3}, func(b *modelgen.Builder, x string) string {
				r := b.Node("Reshape", []string{x, b.Int64s("s", []int64{-1, 3}, 2)})
				return b.Node("Gather", []string{r, b.Int64s("i", []int64{1})})
			})
		}, want: []string{"Gather", "slices the batch axis of [2 3] (axis 0)"}},
		{name: "slice backwards along a long axis", model: func() *onnx.ModelProto {
			return single([]int{100}, func(b *modelgen.Builder, x string) string {
				return b.Node("Slice", []string{x, b.Int64s("s", []int64{-1}, 1), b.Int64s("e", []int64{-1 << 40}, 1), b.Int64s("a", []int64{1}, 1), b.Int64s("st", []int64{-1}, 1)})
			})
		}, want: []string{"Slice", "are 100 runs of consecutive indices (64 at most)"}},
		{name: "slice backwards along the batch axis", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Slice", []string{x, b.Int64s("s", []int64{-1}, 1), b.Int64s("e", []int64{-1 << 40}, 1), b.Int64s("a", []int64{0}, 1), b.Int64s("st", []int64{-1}, 1)})
			})
		}, want: []string{"Slice", "it slices the batch axis of [1 3] (axis 0)"}},
		{name: "split unevenly before opset 18", model: func() *onnx.ModelProto {
			return single([]int{5}, func(b *modelgen.Builder, x string) string {
				b.NodeOuts("Split", []string{"a", "b"}, []string{x}, num("axis", 1))
				return "a"
			})
		}, want: []string{"Split", "cannot split an axis of 5 into 2 equal parts"}},
		{name: "split sizes that do not add up", model: func() *onnx.ModelProto {
			return single([]int{5}, func(b *modelgen.Builder, x string) string {
				b.NodeOuts("Split", []string{"a", "b"}, []string{x, b.Int64s("sz", []int64{2, 2}, 2)}, num("axis", 1))
				return "a"
			})
		}, want: []string{"Split", "split sizes [2 2] for 2 outputs of an axis of 5"}},
		{name: "batch times batch", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				n := b.Node("Shape", []string{x}, num("end", 1))
				return b.Node("Reshape", []string{x, b.Node("Mul", []string{n, n})})
			})
		}, want: []string{"Mul", "a product of two values that depend on the batch size"}},
		{name: "batch divided unevenly", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				n := b.Node("Shape", []string{x}, num("end", 1))
				return b.Node("Reshape", []string{x, b.Node("Div", []string{n, b.Int64s("two", []int64{2}, 1)})})
			})
		}, want: []string{"Div", "does not come out whole"}},
		{name: "integer division by zero", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				q := b.Node("Div", []string{b.Int64s("a", []int64{3}, 1), b.Int64s("z", []int64{0}, 1)})
				return b.Node("Reshape", []string{x, q})
			})
		}, want: []string{"Div", "division by zero"}},
		{name: "gather index out of range", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				n := b.Node("Gather", []string{b.Node("Shape", []string{x}), b.Int64s("i", []int64{-3})})
				return b.Node("Reshape", []string{x, n})
			})
		}, want: []string{"Gather", "index -3 out of range for axis of size 2"}},
		{name: "slice step 0", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				z := b.Int64s("z", []int64{0}, 1)
				return b.Node("Reshape", []string{x, b.Node("Slice", []string{b.Node("Shape", []string{x}), z, b.Int64s("e", []int64{2}, 1), z, z})})
			})
		}, want: []string{"Slice", "step 0"}},
		{name: "shape arithmetic too large", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				big := b.Node("Mul", []string{b.Int64s("a", make([]int64, 300), 300, 1), b.Int64s("b", make([]int64, 300), 1, 300)})
				return b.Node("Reshape", []string{x, big})
			})
		}, want: []string{"Mul", "[300 300] elements: at most 65536"}},
		{name: "squeeze without axes", model: func() *onnx.ModelProto {
			return single([]int{1, 3}, func(b *modelgen.Builder, x string) string { return b.Node("Squeeze", []string{x}) })
		}, want: []string{"Squeeze", "missing axes"}},
		{name: "cast of a computed tensor", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Cast", []string{x}, num("to", int(onnx.TensorProto_INT64)))
			})
		}, want: []string{"Cast", "to INT64 is not supported"}},
		{name: "constant reshaped by the batch size", model: func() *onnx.ModelProto {
			return single([]int{4}, func(b *modelgen.Builder, x string) string {
				target := b.Node("Concat", []string{b.Node("Shape", []string{x}, num("end", 1)), b.Int64s("m", []int64{-1}, 1)}, num("axis", 0))
				return b.Node("Add", []string{x, b.Node("Reshape", []string{b.Const("c", []float32{1, 2, 3, 4}, 4), target})})
			})
		}, want: []string{"Reshape", "reshapes a constant to a shape that depends on the batch size"}},
		{name: "transpose perm repeats an axis", model: func() *onnx.ModelProto {
			return single([]int{2, 3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Transpose", []string{x}, ints("perm", 0, 1, 1))
			})
		}, want: []string{"Transpose", "perm [0 1 1] is not a permutation of the axes of a rank-3 input"}},
		{name: "transpose perm of another rank", model: func() *onnx.ModelProto {
			return single([]int{2, 3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Transpose", []string{x}, ints("perm", 0, 1))
			})
		}, want: []string{"Transpose", "perm [0 1] for an input of rank 3"}},
		{name: "pad of three axes", model: func() *onnx.ModelProto {
			return single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Pad", []string{x, b.Int64s("p", []int64{0, 1, 1, 1, 0, 0, 0, 0}, 8)})
			})
		}, want: []string{"Pad", "pads [0 1 1 1 0 0 0 0] of [1 2 3 3]: only two axes, with none but axes of size 1 between them, can be padded"}},
		{name: "pad of axes apart", model: func() *onnx.ModelProto {
			return single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Pad", []string{x, b.Int64s("p", []int64{0, 1, 0, 0, 0, 0, 0, 2}, 8)})
			})
		}, want: []string{"Pad", "only two axes, with none but axes of size 1 between them"}},
		{name: "pad of the batch axis", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Pad", []string{x, b.Int64s("p", []int64{1, 0, 0, 0}, 4)})
			})
		}, want: []string{"Pad", "pads [1 0 0 0] pad the batch axis"}},
		{name: "pad of the batch axis moved", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				t := b.Node("Transpose", []string{x}, modelgen.Ints("perm", 1, 0))
				return b.Node("Pad", []string{t, b.Int64s("p", []int64{0, 1, 0, 1}, 4)})
			})
		}, want: []string{"Pad", "pads [0 1 0 1] pad axis 1 of [3 1], the batch axis"}},
		{name: "pad reflecting", model: func() *onnx.ModelProto {
			return single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Pad", []string{x, b.Int64s("p", []int64{0, 0, 1, 1, 0, 0, 1, 1}, 8)}, modelgen.String("mode", "reflect"))
			})
		}, want: []string{"Pad", `mode "reflect" is not supported`}},
		{name: "pad with ones", model: func() *onnx.ModelProto {
			return single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Pad", []string{x, b.Int64s("p", []int64{0, 0, 1, 1, 0, 0, 1, 1}, 8), b.Const("one", []float32{1})})
			})
		}, want: []string{"Pad", "padding with 1 is not supported"}},
		{name: "pad cropping", model: func() *onnx.ModelProto {
			return single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Pad", []string{x, b.Int64s("p", []int64{0, 0, -1, 0, 0, 0, 0, 0}, 8)})
			})
		}, want: []string{"Pad", "negative pads"}},
		{name: "layernorm before opset 17", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("LayerNormalization", []string{x, b.Const("s", []float32{1, 1, 1}, 3)})
			})
		}, want: []string{"LayerNormalization", "opset 17", "imports opset 14"}},
		{name: "layernorm over the batch axis", model: func() *onnx.ModelProto {
			return opset(17, single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("LayerNormalization", []string{x, b.Const("s", []float32{1, 1, 1}, 3)}, modelgen.Int("axis", 0))
			}))
		}, want: []string{"LayerNormalization", "over the batch axis"}},
		{name: "layernorm scale size", model: func() *onnx.ModelProto {
			return opset(17, single([]int{2, 3}, func(b *modelgen.Builder, x string) string {
				return b.Node("LayerNormalization", []string{x, b.Const("s", []float32{1, 1}, 2)})
			}))
		}, want: []string{"LayerNormalization", "input 1 has shape [2], want 3 elements"}},
		{name: "layernorm computed scale", model: func() *onnx.ModelProto {
			return opset(17, single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("LayerNormalization", []string{x, x})
			}))
		}, want: []string{"LayerNormalization", "must be a constant initializer"}},
		{name: "layernorm negative epsilon", model: func() *onnx.ModelProto {
			return opset(17, single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("LayerNormalization", []string{x, b.Const("s", []float32{1, 1, 1}, 3)}, modelgen.Float("epsilon", -1))
			}))
		}, want: []string{"LayerNormalization", "epsilon -1 is not a finite number"}},
		{name: "layernorm mean output", model: func() *onnx.ModelProto {
			return opset(17, single([]int{3}, func(b *modelgen.Builder, x string) string {
				b.NodeOuts("LayerNormalization", []string{"y", "mean"}, []string{x, b.Const("s", []float32{1, 1, 1}, 3)})
				return b.Node("Add", []string{"y", "mean"})
			}))
		}, want: []string{`"mean"`, "output 1 of LayerNormalization"}},
		{name: "matmul of a vector", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("MatMul", []string{b.Normal("a", 0, 1, 3), b.Node("Relu", []string{x})})
			})
		}, want: []string{"MatMul", "only operands of rank ≥ 2"}},
		{name: "matmul batch broadcast", model: func() *onnx.ModelProto {
			return single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
				return b.Node("MatMul", []string{x, b.Node("Reshape", []string{x, b.Int64s("s", []int64{0, 1, 2, 3, 3}, 5)})})
			})
		}, want: []string{"MatMul", "only equal batch dimensions, or one side's all 1"}},
		{name: "comparison with the batch size", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				n := b.Node("Gather", []string{b.Node("Shape", []string{x}), b.Int64s("zero", []int64{0}, 1)})
				two := b.Int64s("two", []int64{2}, 1)
				s := b.Node("Where", []string{b.Node("Equal", []string{n, two}), two, b.Int64s("three", []int64{3}, 1)})
				return b.Node("Reshape", []string{x, b.Node("Concat", []string{n, s}, modelgen.Int("axis", 0))})
			})
		}, want: []string{"Equal", "a comparison whose result depends on the batch size"}},
		{name: "expand to a smaller shape", model: func() *onnx.ModelProto {
			return single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Expand", []string{x, b.Int64s("s", []int64{1, 2}, 2)})
			})
		}, want: []string{"Expand", "shape [1 3] does not expand to [1 2]"}},
		{name: "resize 1-D by four scales", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("Resize", []string{x, "", b.Const("s", []float32{1, 1, 11, 11}, 4)})
			})
		}, want: []string{"Resize", "scales [1 1 11 11] for an input of rank 3"}},
		{name: "resize mode", model: func() *onnx.ModelProto {
			return single([]int{1, 2, 2}, func(b *modelgen.Builder, x string) string {
				return b.Node("Resize", []string{x, "", b.Const("s", []float32{1, 1, 2, 2}, 4)}, modelgen.String("mode", "lanczos"))
			})
		}, want: []string{"Resize", `mode "lanczos" is not supported (nearest, linear and cubic)`}},
		{name: "resize cubic too large", model: func() *onnx.ModelProto {
			return single([]int{1, 2, 3000}, func(b *modelgen.Builder, x string) string {
				return b.Node("Resize", []string{x, "", b.Const("s", []float32{1, 1, 1, 2}, 4)}, modelgen.String("mode", "cubic"))
			})
		}, want: []string{"Resize", "resizing 3000 elements to 6000 takes a matrix of more than 4194304 elements"}},
		{name: "resize channels", model: func() *onnx.ModelProto {
			return single([]int{1, 2, 2}, func(b *modelgen.Builder, x string) string {
				return b.Node("Resize", []string{x, "", b.Const("s", []float32{1, 2, 2, 2}, 4)})
			})
		}, want: []string{"Resize", "only the spatial axes may be resized"}},
		{name: "resize1d of the channels", model: func() *onnx.ModelProto {
			return single([]int{2, 5}, func(b *modelgen.Builder, x string) string {
				return b.Node("Resize", []string{x, "", b.Const("s", []float32{1, 2, 2}, 3)})
			})
		}, want: []string{"Resize", "scales [1 2 2]: only the spatial axes may be resized"}},
		{name: "resize of a 5-D input", model: func() *onnx.ModelProto {
			return single([]int{2, 2, 2, 2}, func(b *modelgen.Builder, x string) string {
				return b.Node("Resize", []string{x, "", b.Const("s", []float32{1, 1, 2, 2, 2}, 5)})
			})
		}, want: []string{"Resize", "only [N, C, H, W] and [N, C, L] are supported"}},
		{name: "resize1d sizes of four", model: func() *onnx.ModelProto {
			return single([]int{2, 5}, func(b *modelgen.Builder, x string) string {
				return b.Node("Resize", []string{x, "", "", b.Int64s("z", []int64{1, 2, 1, 10}, 4)})
			})
		}, want: []string{"Resize", "the sizes must be a constant int64 tensor of 3 elements"}},
		{name: "resize crop", model: func() *onnx.ModelProto {
			return single([]int{1, 2, 2}, func(b *modelgen.Builder, x string) string {
				return b.Node("Resize", []string{x, "", b.Const("s", []float32{1, 1, 2, 2}, 4)}, modelgen.String("coordinate_transformation_mode", "tf_crop_and_resize"))
			})
		}, want: []string{"Resize", `coordinate_transformation_mode "tf_crop_and_resize" is not supported`}},
		{name: "resize scales and sizes", model: func() *onnx.ModelProto {
			return single([]int{1, 2, 2}, func(b *modelgen.Builder, x string) string {
				return b.Node("Resize", []string{x, "", b.Const("s", []float32{1, 1, 2, 2}, 4), b.Int64s("z", []int64{1, 1, 4, 4}, 4)})
			})
		}, want: []string{"Resize", "exactly one of scales and sizes"}},
		{name: "instancenorm computed scale", model: func() *onnx.ModelProto {
			return single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
				g := b.Node("GlobalAveragePool", []string{x})
				s := b.Node("Reshape", []string{g, b.Int64s("s", []int64{-1}, 1)})
				return b.Node("InstanceNormalization", []string{x, s, b.Const("b", []float32{0, 0}, 2)})
			})
		}, want: []string{"InstanceNormalization", "must be a constant"}},
		{name: "instancenorm of a matrix", model: func() *onnx.ModelProto {
			return single([]int{2}, func(b *modelgen.Builder, x string) string {
				return b.Node("InstanceNormalization", []string{x, b.Const("s", []float32{1, 1}, 2), b.Const("b", []float32{0, 0}, 2)})
			})
		}, want: []string{"InstanceNormalization", "axis 2 out of range for rank 2"}},
		{name: "gelu approximation", model: func() *onnx.ModelProto {
			return single([]int{4}, func(b *modelgen.Builder, x string) string {
				return b.Node("Gelu", []string{x}, modelgen.String("approximate", "erf"))
			})
		}, want: []string{"Gelu", `approximate "erf" (want none or tanh)`}},
		{name: "celu alpha 0", model: func() *onnx.ModelProto {
			return single([]int{4}, func(b *modelgen.Builder, x string) string {
				return b.Node("Celu", []string{x}, modelgen.Float("alpha", 0))
			})
		}, want: []string{"Celu", "alpha 0"}},
		{name: "prelu computed slope", model: func() *onnx.ModelProto {
			return single([]int{4}, func(b *modelgen.Builder, x string) string {
				return b.Node("PRelu", []string{x, b.Node("Relu", []string{x})})
			})
		}, want: []string{"PRelu", "must be a constant"}},
		{name: "prelu slope not broadcasting", model: func() *onnx.ModelProto {
			return single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("PRelu", []string{x, b.Const("s", []float32{1, 2, 3}, 3)})
			})
		}, want: []string{"PRelu", "do not broadcast"}},
		{name: "convtranspose 3-D", model: func() *onnx.ModelProto {
			return single([]int{2, 5, 5, 5}, func(b *modelgen.Builder, x string) string {
				return b.Node("ConvTranspose", []string{x, b.Normal("w", 0, 1, 2, 2, 3, 3, 3)})
			})
		}, want: []string{"ConvTranspose", "only 1-D and 2-D transposed convolutions"}},
		{name: "convtranspose 1-D output shape", model: func() *onnx.ModelProto {
			return single([]int{2, 5}, func(b *modelgen.Builder, x string) string {
				return b.Node("ConvTranspose", []string{x, b.Normal("w", 0, 1, 2, 2, 3)}, modelgen.Ints("output_shape", 7, 7))
			})
		}, want: []string{"ConvTranspose", "output_shape [7 7]: give L"}},
		{name: "convtranspose output padding", model: func() *onnx.ModelProto {
			return single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
				return b.Node("ConvTranspose", []string{x, b.Normal("w", 0, 1, 2, 2, 3, 3)}, modelgen.Ints("strides", 2, 2), modelgen.Ints("output_padding", 2, 0))
			})
		}, want: []string{"ConvTranspose", "output_padding [2 0] must be less than the stride or the dilation"}},
		{name: "raw data size", model: func() *onnx.ModelProto {
			m := single([]int{3}, func(b *modelgen.Builder, x string) string {
				return b.Node("Mul", []string{x, b.Const("c", []float32{1, 2, 3}, 3)})
			})
			m.Graph.Initializer[0].RawData = m.Graph.Initializer[0].RawData[:11]
			return m
		}, want: []string{`"c"`, "raw_data holds 11 bytes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.data
			if tc.model != nil {
				var err error
				if data, err = proto.Marshal(tc.model()); err != nil {
					t.Fatal(err)
				}
			}
			m, err := engine.Import(data, tc.opts)
			if err == nil {
				_, err = m.Plan(1)
			}
			var e *engine.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want an *engine.Error", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestFusion(t *testing.T) {
	t.Run("conv-bn-add-relu", func(t *testing.T) {
		m := single([]int{4, 6, 6}, func(b *modelgen.Builder, x string) string {
			c := b.Node("Conv", []string{x, b.Normal("w", 0, 1, 4, 4, 3, 3)}, ints("pads", 1, 1, 1, 1))
			p := b.Const("p", []float32{1, 2, 3, 4}, 4)
			n := b.Node("BatchNormalization", []string{c, p, p, p, p})
			return b.Node("Relu", []string{b.Node("Add", []string{x, n})})
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 2)
		if len(p.Ops) != 1 {
			t.Fatalf("%d ops, want one fused Conv: %v", len(p.Ops), p.Ops)
		}
		c, ok := p.Ops[0].(*engine.Conv)
		if !ok || !c.B.Present() || !c.Z.Present() || c.Z.Region != engine.IO || c.Z.Offset != 0 || c.Act.Kind != engine.ActRelu || c.Y.Region != engine.IO {
			t.Errorf("fused op %+v", p.Ops[0])
		}
		if strings.Count(c.Source(), "+") != 3 {
			t.Errorf("source %q does not name the four fused nodes", c.Source())
		}
	})
	// Max of a tensor and a constant scalar is a Clip, which fuses into
	// the Conv before it (Min's too, its constant of rank 2 adding no
	// axes); of two computed tensors it is a Binary max.
	t.Run("max-min-scalar-clip", func(t *testing.T) {
		m := single([]int{4, 6, 6}, func(b *modelgen.Builder, x string) string {
			c := b.Node("Conv", []string{x, b.Normal("w", 0, 1, 4, 4, 3, 3)}, ints("pads", 1, 1, 1, 1))
			clipped := b.Node("Min", []string{b.Const("six", []float32{6}, 1, 1), b.Node("Max", []string{c, b.Const("zero", []float32{0})})})
			return b.Node("Max", []string{clipped, x})
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 2)
		if len(p.Ops) != 2 {
			t.Fatalf("%d ops, want a Conv and a Binary: %v", len(p.Ops), p.Ops)
		}
		if c, ok := p.Ops[0].(*engine.Conv); !ok || c.Act.Kind != engine.ActClip || c.Act.Min != 0 || c.Act.Max != 6 {
			t.Errorf("fused op %+v, want a Conv clipped to [0, 6]", p.Ops[0])
		}
		if b, ok := p.Ops[1].(*engine.Binary); !ok || b.Op != engine.Max {
			t.Errorf("op %+v, want a Binary max", p.Ops[1])
		}
	})
	// Two 3-D convolutions with a ReLU between: the first's transpose back
	// (the ReLU fused) and the second's transpose in undo each other, so
	// an Activate of the first's sum replaces both. A Transpose of a
	// Transpose is one Transpose.
	t.Run("transposes-composed", func(t *testing.T) {
		m := single([]int{2, 3, 4, 4}, func(b *modelgen.Builder, x string) string {
			c1 := b.Node("Conv", []string{x, b.Normal("w1", 0, 1, 2, 2, 1, 3, 3)}, ints("pads", 0, 1, 1, 0, 1, 1))
			c2 := b.Node("Conv", []string{b.Node("Relu", []string{c1}), b.Normal("w2", 0, 1, 2, 2, 1, 3, 3)}, ints("pads", 0, 1, 1, 0, 1, 1))
			t := b.Node("Transpose", []string{b.Node("Transpose", []string{c2}, ints("perm", 0, 2, 3, 4, 1))}, ints("perm", 0, 4, 1, 2, 3))
			return b.Node("Transpose", []string{t}, ints("perm", 0, 1, 3, 4, 2))
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 2)
		k := kinds(p)
		// Transpose in, Conv, Activate, Conv, one Transpose for the last
		// four (the 3-D conv's back and the model's three, composed).
		if len(p.Ops) != 5 || k[engine.KindBinary] != 2 || k[engine.KindConv] != 2 || k[engine.KindActivate] != 1 {
			t.Fatalf("%d ops %v, want 2 Binary, 2 Conv and 1 Activate", len(p.Ops), k)
		}
		if a := p.Ops[2].(*engine.Activate); a.Act.Kind != engine.ActRelu {
			t.Errorf("op 2: %s, want the ReLU", a.Act.Kind)
		}
	})
	// An activation after a strided copy (Transpose, Slice, Expand: Binary
	// ops) fuses into it, as into any Binary.
	t.Run("strided-copy-activation", func(t *testing.T) {
		m := single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
			t := b.Node("Relu", []string{b.Node("Transpose", []string{x}, ints("perm", 0, 2, 1))})
			s := b.Node("Sigmoid", []string{b.Node("Slice", []string{x, b.Int64s("s", []int64{1}, 1), b.Int64s("e", []int64{4}, 1), b.Int64s("a", []int64{2}, 1)})})
			return b.Node("Concat", []string{b.Node("Flatten", []string{t}), b.Node("Flatten", []string{s})}, num("axis", 1))
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 2)
		if k := kinds(p); k[engine.KindBinary] != 2 || k[engine.KindActivate] != 0 {
			t.Fatalf("ops %v, want 2 Binary and no Activate", k)
		}
		for i, want := range []engine.ActKind{engine.ActRelu, engine.ActSigmoid} {
			if b := p.Ops[i].(*engine.Binary); b.Act.Kind != want {
				t.Errorf("op %d: %s, want %s fused", i, b.Act.Kind, want)
			}
		}
	})
	// SiLU as PyTorch exports it, Mul(x, Sigmoid(x)), is one activation,
	// fused into the convolution (in either operand order); a Mul of a
	// Sigmoid of another tensor is not.
	t.Run("silu", func(t *testing.T) {
		m := single([]int{4, 6, 6}, func(b *modelgen.Builder, x string) string {
			c := b.Node("Conv", []string{x, b.Normal("w", 0, 1, 4, 4, 3, 3)}, ints("pads", 1, 1, 1, 1))
			s := b.Node("Mul", []string{b.Node("Sigmoid", []string{c}), c})
			return b.Node("Mul", []string{s, b.Node("Sigmoid", []string{x})})
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 2)
		if len(p.Ops) != 3 {
			t.Fatalf("%d ops %v, want a Conv, an Activate and a Binary", len(p.Ops), kinds(p))
		}
		if c, ok := p.Ops[0].(*engine.Conv); !ok || c.Act.Kind != engine.ActSilu {
			t.Errorf("op 0: %+v, want a Conv with SiLU", p.Ops[0])
		}
		if a, ok := p.Ops[1].(*engine.Activate); !ok || a.Act.Kind != engine.ActSigmoid {
			t.Errorf("op 1: %+v, want the Sigmoid of x", p.Ops[1])
		}
	})
	// Einsum: attention's scores are one batched MatMul (reading K
	// transposed, or not, as it is laid out); a Linear by a constant one
	// Gemm, the weights transposed at import; with the constant first the
	// product is transposed to the output's order. (A product viewed with
	// the output's labels is the model's output here, so it is copied
	// out.)
	t.Run("einsum", func(t *testing.T) {
		relu := func(b *modelgen.Builder, x string) []string { return []string{x, b.Node("Relu", []string{x})} }
		for _, tc := range []struct {
			eq     string
			inputs func(b *modelgen.Builder, x string) []string
			want   []engine.OpKind
			transB bool
		}{
			{"bhqd,bhkd->bhqk", relu, []engine.OpKind{engine.KindActivate, engine.KindBatchMatMul, engine.KindCopy}, true},
			{"bhqd,bhdk->bhqk", relu, []engine.OpKind{engine.KindActivate, engine.KindBatchMatMul, engine.KindCopy}, false},
			{"bcij,kj->bcik", func(b *modelgen.Builder, x string) []string { return []string{x, b.Normal("w", 0, 1, 3, 4)} },
				[]engine.OpKind{engine.KindGemm, engine.KindCopy}, false},
			{"kj,bcij->bkci", func(b *modelgen.Builder, x string) []string { return []string{b.Normal("w", 0, 1, 3, 4), x} },
				[]engine.OpKind{engine.KindGemm, engine.KindBinary}, false},
		} {
			m := single([]int{2, 4, 4}, func(b *modelgen.Builder, x string) string {
				return b.Node("Einsum", tc.inputs(b, x), modelgen.String("equation", tc.eq))
			})
			p := mustPlan(t, mustImport(t, m, engine.Options{}), 2)
			var got []engine.OpKind
			for _, op := range p.Ops {
				got = append(got, op.Kind())
				if bmm, ok := op.(*engine.BatchMatMul); ok && bmm.TransB != tc.transB {
					t.Errorf("%s: TransB %v, want %v", tc.eq, bmm.TransB, tc.transB)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: ops %v, want %v", tc.eq, got, tc.want)
			}
		}
	})
	// An LSTM unrolled over 3 steps: the input's part of the gates is one
	// Gemm; a step is a strided copy of its part, the Gemm by R (none at
	// the first, the state being zeros), four strided copies of the gates
	// (activations fused), three Binary ops for c, an Activate and a Mul
	// for h (at the last step h(c) fuses into c's Add, c being read by
	// nothing else); Y is a Concat of the steps' states, moved batch
	// first.
	t.Run("lstm-unrolled", func(t *testing.T) {
		m := single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
			x = b.Node("Transpose", []string{x}, ints("perm", 1, 0, 2))
			b.NodeOuts("LSTM", []string{"y"}, []string{x, b.Normal("W", 0, 1, 1, 20, 4), b.Normal("R", 0, 1, 1, 20, 5)}, num("hidden_size", 5))
			return b.Node("Transpose", []string{"y"}, ints("perm", 2, 0, 1, 3))
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 2)
		k := kinds(p)
		want := map[engine.OpKind]int{engine.KindBinary: 1 + 3*9 + 1, engine.KindGemm: 1 + 2, engine.KindActivate: 2, engine.KindConcat: 1}
		if !maps.Equal(k, want) {
			t.Errorf("ops %v, want %v", k, want)
		}
		for _, op := range p.Ops {
			if g, ok := op.(*engine.Gemm); ok && g.K == 5 && (!g.TransB || !g.C.Present() || g.Act.Kind != engine.ActNone) {
				t.Errorf("step Gemm %+v: want R read transposed, the input's part as C, no activation", g)
			}
		}
	})
	// A Concat of Concats along the same axis (Inception v3's last blocks)
	// is one Concat; along another axis, or read twice, they stay.
	t.Run("concat-of-concats", func(t *testing.T) {
		m := single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
			r, s := b.Node("Relu", []string{x}), b.Node("Sigmoid", []string{x})
			inner := b.Node("Concat", []string{r, s}, num("axis", 1))  // [N, 4, 3, 3]
			other := b.Node("Concat", []string{r, s}, num("axis", -1)) // [N, 2, 3, 6]
			twice := b.Node("Concat", []string{x, r}, num("axis", -3)) // [N, 4, 3, 3]
			flat := b.Node("Concat", []string{x, inner, twice}, num("axis", 1))
			wide := b.Node("Concat", []string{twice, twice}, num("axis", 3)) // [N, 4, 3, 6]
			mix := b.Node("Concat", []string{other, wide}, num("axis", 1))
			return b.Node("Concat", []string{b.Node("Flatten", []string{flat}), b.Node("Flatten", []string{mix})}, num("axis", 1))
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 2)
		var arity []int
		for _, op := range p.Ops {
			if c, ok := op.(*engine.Concat); ok {
				arity = append(arity, len(c.Xs))
			}
		}
		// inner goes into flat (x, r, s, twice); twice, read three times,
		// and other and wide, along other axes than mix's, stay.
		if !slices.Equal(arity, []int{2, 2, 4, 2, 2, 2}) {
			t.Errorf("Concats of %v inputs, want 2, 2, 4, 2, 2 and 2", arity)
		}
	})
	// A convolution whose weights are larger than a page is split by
	// output channels into convolutions whose weights fit one, each with
	// its bias and activation, concatenated; one with a residual adds it
	// (and activates) after the Concat (TestImportErrors: what is not
	// split).
	t.Run("split-large-conv", func(t *testing.T) {
		conv := func(b *modelgen.Builder, x, name string) string {
			w, bias := b.Normal(name+".w", 0, 1, 16, 8, 3, 3), b.Normal(name+".b", 0, 1, 16)
			return b.Node("Conv", []string{x, w, bias}, ints("pads", 1, 1, 1, 1))
		}
		m := single([]int{8, 5, 5}, func(b *modelgen.Builder, x string) string {
			y := b.Node("Relu", []string{conv(b, x, "c1")})
			r := b.Node("Relu", []string{b.Node("Add", []string{conv(b, b.Node("Slice", []string{y, b.Int64s("s", []int64{0}, 1),
				b.Int64s("e", []int64{8}, 1), b.Int64s("a", []int64{1}, 1)}), "c2"), y})})
			return r
		})
		// 8·3·3 floats (288 bytes) an output channel: 3 in a page of 1 KiB.
		p := mustPlan(t, mustImport(t, m, engine.Options{PageSize: 1024}), 2)
		k := kinds(p)
		if k[engine.KindConv] != 12 || k[engine.KindConcat] != 2 || k[engine.KindBinary] != 2 {
			t.Fatalf("ops %v, want 12 Conv, 2 Concat and 2 Binary (the Slice, the residual)", k)
		}
		var outs []int
		for _, op := range p.Ops[:6] {
			c := op.(*engine.Conv)
			outs = append(outs, c.W.Shape[0])
			if c.Act.Kind != engine.ActRelu || !c.B.Present() || c.Z.Present() {
				t.Errorf("%s: act %s, bias %v, residual %v; want ReLU and bias", c.Source(), c.Act.Kind, c.B.Present(), c.Z.Present())
			}
		}
		if !slices.Equal(outs, []int{3, 3, 3, 3, 3, 1}) {
			t.Errorf("parts of %v output channels, want 3, 3, 3, 3, 3, 1", outs)
		}
		for _, op := range p.Ops[8:14] {
			if c := op.(*engine.Conv); c.Act.Kind != engine.ActNone || c.Z.Present() {
				t.Errorf("%s: act %s, residual %v; want neither before the Concat", c.Source(), c.Act.Kind, c.Z.Present())
			}
		}
		if add, ok := p.Ops[15].(*engine.Binary); !ok || add.Op != engine.Add || add.Act.Kind != engine.ActRelu {
			t.Errorf("last op %+v, want the residual Add with ReLU", p.Ops[15])
		}
	})
	// A 3-D convolution of depth 3, padded in depth, is a transpose, a
	// Pad, and for each depth a strided copy of the frames and a 2-D Conv
	// (the sum so far its residual), then a transpose back; a 3-D pool is
	// two 2-D pools and views (a view the output is copied out, as for any
	// model whose output is a view).
	t.Run("conv3d-pool3d", func(t *testing.T) {
		m := single([]int{2, 4, 5, 5}, func(b *modelgen.Builder, x string) string {
			c := b.Node("Conv", []string{x, b.Normal("w", 0, 1, 3, 2, 3, 3, 3), b.Normal("b", 0, 1, 3)}, ints("pads", 1, 1, 1, 1, 1, 1))
			return b.Node("MaxPool", []string{c}, ints("kernel_shape", 2, 2, 2), ints("strides", 2, 2, 2))
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 2)
		k := kinds(p)
		if len(p.Ops) != 12 || k[engine.KindBinary] != 5 || k[engine.KindPad] != 1 || k[engine.KindConv] != 3 || k[engine.KindPool] != 2 || k[engine.KindCopy] != 1 {
			t.Fatalf("%d ops %v, want 5 Binary, 1 Pad, 3 Conv, 2 Pool and 1 Copy", len(p.Ops), k)
		}
		for i, op := range p.Ops[2:8] {
			if c, ok := op.(*engine.Conv); ok && c.B.Present() != (i == 1) || ok && c.Z.Present() != (i > 1) {
				t.Errorf("Conv %d: bias %v, residual %v; want the bias on the first, the sum so far on the others", i, c.B.Present(), c.Z.Present())
			}
		}
	})
	// A 1-D block plans as the 2-D one of height 1: one fused Conv on
	// [N, C, 1, L] tensors and weights [M, C, 1, k], then the pool.
	t.Run("conv1d-bn-add-relu-pool", func(t *testing.T) {
		m := single([]int{4, 9}, func(b *modelgen.Builder, x string) string {
			c := b.Node("Conv", []string{x, b.Normal("w", 0, 1, 4, 4, 3)}, ints("pads", 1, 1))
			p := b.Const("p", []float32{1, 2, 3, 4}, 4)
			n := b.Node("BatchNormalization", []string{c, p, p, p, p})
			r := b.Node("Relu", []string{b.Node("Add", []string{x, n})})
			return b.Node("MaxPool", []string{r}, ints("kernel_shape", 2), ints("strides", 2))
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 2)
		if len(p.Ops) != 2 {
			t.Fatalf("%d ops, want a fused Conv and a Pool: %v", len(p.Ops), p.Ops)
		}
		c, ok := p.Ops[0].(*engine.Conv)
		if !ok || !c.B.Present() || !c.Z.Present() || c.Act.Kind != engine.ActRelu || c.KernelH != 1 || c.KernelW != 3 ||
			c.PadLeft != 1 || c.PadRight != 1 || c.PadTop != 0 || !slices.Equal(c.X.Shape, []int{2, 4, 1, 9}) ||
			!slices.Equal(c.W.Shape, []int{4, 4, 1, 3}) || !slices.Equal(c.Z.Shape, []int{2, 4, 1, 9}) {
			t.Errorf("fused op %+v", p.Ops[0])
		}
		if pool, ok := p.Ops[1].(*engine.Pool); !ok || pool.KernelH != 1 || pool.StrideH != 1 || pool.StrideW != 2 ||
			!slices.Equal(pool.Y.Shape, []int{2, 4, 1, 4}) || !slices.Equal(p.Outputs[0].Shape, []int{2, 4, 4}) {
			t.Errorf("pool %+v, output %v", p.Ops[1], p.Outputs[0].Shape)
		}
	})
	t.Run("causal conv1d pad folded", func(t *testing.T) {
		m := single([]int{3, 12}, func(b *modelgen.Builder, x string) string {
			p := b.Node("Pad", []string{x, b.Int64s("causal", []int64{0, 0, 4, 0, 0, 0}, 6)})
			return b.Node("Conv", []string{p, b.Normal("w", 0, 1, 3, 3, 3)}, ints("dilations", 2))
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 1)
		if c, ok := p.Ops[0].(*engine.Conv); len(p.Ops) != 1 || !ok || c.PadLeft != 4 || c.PadRight != 0 || c.PadTop != 0 || c.PadBottom != 0 {
			t.Errorf("ops %+v", p.Ops)
		}
	})
	t.Run("shared conv output is not fused", func(t *testing.T) {
		m := single([]int{2, 4, 4}, func(b *modelgen.Builder, x string) string {
			c := b.Node("Conv", []string{x, b.Normal("w", 0, 1, 2, 2, 1, 1)})
			r := b.Node("Relu", []string{c})
			return b.Node("Add", []string{r, c})
		})
		k := kinds(mustPlan(t, mustImport(t, m, engine.Options{}), 1))
		if k[engine.KindConv] != 1 || k[engine.KindActivate] != 1 || k[engine.KindBinary] != 1 {
			t.Errorf("ops %v", k)
		}
	})
	t.Run("dead branch", func(t *testing.T) {
		m := single([]int{2, 4, 4}, func(b *modelgen.Builder, x string) string {
			b.Node("Conv", []string{x, b.Normal("unused", 0, 1, 2, 2, 1, 1)})
			return b.Node("Relu", []string{x})
		})
		em := mustImport(t, m, engine.Options{})
		if p := mustPlan(t, em, 1); len(p.Ops) != 1 || len(em.Weights.Tensors) != 0 {
			t.Errorf("ops %v, weights %v", p.Ops, em.Weights.Tensors)
		}
	})
	t.Run("matmul bias", func(t *testing.T) {
		m := single([]int{6}, func(b *modelgen.Builder, x string) string {
			y := b.Node("MatMul", []string{x, b.Normal("w", 0, 1, 6, 3)})
			return b.Node("Relu", []string{b.Node("Add", []string{b.Normal("c", 0, 1, 3), y})})
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 1)
		g, ok := p.Ops[0].(*engine.Gemm)
		if len(p.Ops) != 1 || !ok || !g.C.Present() || g.Beta != 1 || g.CRowStride != 0 || g.CColStride != 1 || g.Act.Kind != engine.ActRelu {
			t.Errorf("ops %v", p.Ops)
		}
	})
	t.Run("gelu", func(t *testing.T) {
		// A Linear and nn.GELU as PyTorch exports them: one Gemm.
		m := single([]int{6}, func(b *modelgen.Builder, x string) string {
			y := b.Node("Add", []string{b.Node("MatMul", []string{x, b.Normal("w", 0, 1, 6, 3)}), b.Normal("c", 0, 1, 3)})
			return b.Gelu(y)
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 1)
		g, ok := p.Ops[0].(*engine.Gemm)
		if len(p.Ops) != 1 || !ok || !g.C.Present() || g.Act.Kind != engine.ActGelu || strings.Count(g.Source(), "+") != 6 {
			t.Errorf("ops %v", p.Ops)
		}
	})
	t.Run("attention scale and transposed key", func(t *testing.T) {
		m := single([]int{2, 3, 4}, func(b *modelgen.Builder, x string) string {
			s := b.Const("s", []float32{0.5})
			q := b.Node("Mul", []string{x, s})
			kt := b.Node("Mul", []string{b.Node("Transpose", []string{x}, ints("perm", 0, 1, 3, 2)), s})
			return b.Node("MatMul", []string{q, kt})
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 2)
		mm, ok := p.Ops[0].(*engine.BatchMatMul)
		if len(p.Ops) != 1 || !ok || !mm.TransB || mm.Alpha != 0.25 || mm.M != 3 || mm.N != 3 || mm.K != 4 || mm.Batch != 4 {
			t.Errorf("ops %v", p.Ops)
		}
	})
	t.Run("transpose of other axes stays", func(t *testing.T) {
		m := single([]int{3, 3, 3}, func(b *modelgen.Builder, x string) string {
			return b.Node("MatMul", []string{x, b.Node("Transpose", []string{x}, ints("perm", 0, 2, 1, 3))})
		})
		if k := kinds(mustPlan(t, mustImport(t, m, engine.Options{}), 3)); k[engine.KindBinary] != 1 || k[engine.KindBatchMatMul] != 1 {
			t.Errorf("ops %v", k)
		}
	})
	t.Run("layer norm exported before opset 17", func(t *testing.T) {
		// With a ReduceMax in either mean's place, no LayerNorm.
		for _, reduce := range [][2]string{{"ReduceMax", "ReduceMean"}, {"ReduceMean", "ReduceMax"}} {
			m := single([]int{3, 6}, func(b *modelgen.Builder, x string) string {
				d := b.Node("Sub", []string{x, b.Node(reduce[0], []string{x}, ints("axes", -1))})
				v := b.Node(reduce[1], []string{b.Node("Pow", []string{d, b.Const("two", []float32{2})})}, ints("axes", -1))
				return b.Node("Div", []string{d, b.Node("Sqrt", []string{b.Node("Add", []string{b.Const("eps", []float32{1e-5}), v})})})
			})
			if k := kinds(mustPlan(t, mustImport(t, m, engine.Options{}), 2)); k[engine.KindLayerNorm] != 0 || k[engine.KindGlobalPool] != 2 {
				t.Errorf("%v: ops %v", reduce, k)
			}
		}
		for _, affine := range []bool{true, false} {
			m := single([]int{3, 6}, func(b *modelgen.Builder, x string) string {
				d := b.Node("Sub", []string{x, b.Node("ReduceMean", []string{x}, ints("axes", -1))})
				v := b.Node("ReduceMean", []string{b.Node("Pow", []string{d, b.Const("two", []float32{2})})}, ints("axes", -1))
				n := b.Node("Div", []string{d, b.Node("Sqrt", []string{b.Node("Add", []string{b.Const("eps", []float32{1e-5}), v})})})
				if !affine {
					return n
				}
				return b.Node("Add", []string{b.Node("Mul", []string{b.Uniform("w", 0.5, 1.5, 6), n}), b.Normal("b", 0, 0.3, 1, 6)})
			})
			p := mustPlan(t, mustImport(t, m, engine.Options{}), 2)
			ln, ok := p.Ops[0].(*engine.LayerNorm)
			if len(p.Ops) != 1 || !ok || ln.Epsilon != 1e-5 || ln.Len != 6 || ln.Outer != 6 || !ln.Scale.Present() || ln.Bias.Present() != affine {
				t.Errorf("affine %v: ops %v", affine, p.Ops)
			}
		}
	})
	t.Run("gelu of another constant", func(t *testing.T) {
		m := single([]int{6}, func(b *modelgen.Builder, x string) string {
			d := b.Node("Div", []string{x, b.Const("c", []float32{1.5})})
			e := b.Node("Add", []string{b.Node("Erf", []string{d}), b.Const("one", []float32{1})})
			return b.Node("Mul", []string{b.Node("Mul", []string{x, e}), b.Const("half", []float32{0.5})})
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 1)
		// The Erf folds into the Mul by 1/1.5 before it.
		if k := kinds(p); len(p.Ops) != 4 || k[engine.KindBinary] != 4 || p.Ops[0].(*engine.Binary).Act.Kind != engine.ActErf {
			t.Errorf("ops %v", p.Ops)
		}
	})
	t.Run("pads", func(t *testing.T) {
		m := single([]int{3, 6, 6}, func(b *modelgen.Builder, x string) string {
			p1 := b.Node("Pad", []string{x, b.Int64s("p1", []int64{0, 0, 2, 1, 0, 0, 1, 0}, 8)})
			c := b.Node("Conv", []string{p1, b.Normal("w", 0, 1, 3, 3, 3, 3)}, ints("pads", 1, 1, 1, 1))
			p2 := b.Node("Pad", []string{c, b.Int64s("p2", []int64{0, 0, 1, 1, 0, 0, 1, 1}, 8)})
			a := b.Node("AveragePool", []string{p2}, ints("kernel_shape", 2, 2), num("count_include_pad", 1), modelgen.String("auto_pad", "VALID"))
			p3 := b.Node("Pad", []string{a, b.Int64s("p3", []int64{0, 0, 0, 1, 0, 0, 0, 0}, 8)})
			return b.Node("AveragePool", []string{p3}, ints("kernel_shape", 2, 2)) // pads excluded: not folded
		})
		p := mustPlan(t, mustImport(t, m, engine.Options{}), 1)
		if len(p.Ops) != 4 {
			t.Fatalf("ops %v, want Conv, Pool, Pad, Pool", p.Ops)
		}
		c, ok1 := p.Ops[0].(*engine.Conv)
		a, ok2 := p.Ops[1].(*engine.Pool)
		pad, ok3 := p.Ops[2].(*engine.Pad)
		if !ok1 || !ok2 || !ok3 {
			t.Fatalf("ops %v, want Conv, Pool, Pad, Pool", p.Ops)
		}
		if c.PadTop != 3 || c.PadLeft != 2 || c.PadBottom != 2 || c.PadRight != 1 || c.Source() != "Pad_1+Conv_1" {
			t.Errorf("conv pads %d %d %d %d from %q, want 3 2 2 1 from Pad_1+Conv_1", c.PadTop, c.PadLeft, c.PadBottom, c.PadRight, c.Source())
		}
		if a.PadTop != 1 || a.PadLeft != 1 || a.PadBottom != 1 || a.PadRight != 1 || !a.CountIncludePad {
			t.Errorf("average pool pads %d %d %d %d", a.PadTop, a.PadLeft, a.PadBottom, a.PadRight)
		}
		if pad.Top != 0 || pad.Left != 1 || pad.Bottom != 0 || pad.Right != 0 {
			t.Errorf("pad %+v", pad)
		}
	})
	for _, tc := range []struct {
		model string
		want  map[engine.OpKind]int
	}{
		{"resnet18", map[engine.OpKind]int{engine.KindConv: 20, engine.KindPool: 1, engine.KindGlobalPool: 1, engine.KindGemm: 1}},
		{"mobilenet_v2", map[engine.OpKind]int{engine.KindConv: 52, engine.KindGlobalPool: 1, engine.KindGemm: 1}},
		{"squeezenet1_1", map[engine.OpKind]int{engine.KindConv: 26, engine.KindPool: 3, engine.KindGlobalPool: 1, engine.KindConcat: 8, engine.KindCopy: 1}},
		// Its 16 channel shuffles' Transposes and 13 Splits' halves are
		// strided copies (Binary); the Reshapes around them are views.
		{"shufflenet_v2_x1_0", map[engine.OpKind]int{engine.KindConv: 56, engine.KindBinary: 16 + 2*13, engine.KindConcat: 16, engine.KindPool: 1, engine.KindGlobalPool: 1, engine.KindGemm: 1}},
		// transform_input: a Gather, Mul and Add per channel.
		{"googlenet", map[engine.OpKind]int{engine.KindConv: 57, engine.KindBinary: 9, engine.KindConcat: 10, engine.KindPool: 13, engine.KindGlobalPool: 1, engine.KindGemm: 1}},
		// Per block: the depthwise Conv, a LayerNorm, two Gemms (GELU
		// fused into the first), two Transposes, the layer scale's Mul and
		// the residual Add; LayerNorm2d (stem, downsamples, head) is a
		// LayerNorm between two Transposes.
		{"convnext_tiny", map[engine.OpKind]int{engine.KindConv: 1 + 18 + 3, engine.KindLayerNorm: 18 + 5, engine.KindGemm: 2*18 + 1,
			engine.KindBinary: 4*18 + 2*5, engine.KindGlobalPool: 1}},
		// Per layer: the in- and out-projections and the MLP's two Linears
		// (Gemm), Q·Kᵀ (the scale and Kᵀ folded in) and P·V, and 12
		// strided copies and elementwise ops (the moves of the batch axis,
		// q, k and v from the packed projection, the heads split and
		// merged, two residuals); then the patches' transpose, the class
		// token's Expand, the position embedding and the class token's
		// row.
		{"vit_b_16", map[engine.OpKind]int{engine.KindConv: 1, engine.KindGemm: 4*12 + 1, engine.KindBatchMatMul: 2 * 12, engine.KindSoftmax: 12,
			engine.KindLayerNorm: 2*12 + 1, engine.KindBinary: 12*12 + 4, engine.KindConcat: 1}},
		// Four Conv1d blocks (the batch norm folded, the ReLU fused) with
		// their pools, the global one, the Transpose to channels last (a
		// strided copy), the Linear and the LogSoftmax.
		{"m5", map[engine.OpKind]int{engine.KindConv: 4, engine.KindPool: 5, engine.KindBinary: 1, engine.KindGemm: 1, engine.KindSoftmax: 1}},
		// SiLU fused into every convolution but the projections and the
		// squeeze-and-excitation gates (a Sigmoid fused), the residuals
		// into the projections; left are each block's mean and its
		// scaling Mul.
		{"efficientnet_b0", map[engine.OpKind]int{engine.KindConv: 81, engine.KindGlobalPool: 16 + 1, engine.KindBinary: 16, engine.KindGemm: 1}},
		// Two max pools in the stem, one in each reduction block, an
		// average pool in each of the eleven others; a Concat a block,
		// InceptionE's two inner ones flattened into it.
		{"inception_v3", map[engine.OpKind]int{engine.KindConv: 94, engine.KindPool: 2 + 2 + 9, engine.KindConcat: 11,
			engine.KindGlobalPool: 1, engine.KindGemm: 1}},
		{"densenet121", map[engine.OpKind]int{engine.KindConv: 121 - 1, engine.KindAffine: 58 + 3 + 1, engine.KindConcat: 54 + 4, engine.KindPool: 4, engine.KindGlobalPool: 1, engine.KindGemm: 1}},
	} {
		t.Run(tc.model, func(t *testing.T) {
			if testing.Short() {
				t.Skip("generates a large model")
			}
			got := kinds(mustPlan(t, mustImport(t, zoo(t, tc.model), engine.Options{}), 1))
			for k, n := range tc.want {
				if got[k] != n {
					t.Errorf("%d %s ops, want %d (all: %v)", got[k], k, n, got)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("op kinds %v, want %v", got, tc.want)
			}
		})
	}
}

// weightValues reads a weight tensor from the host pages.
func weightValues(m *engine.Model, name string) []float32 {
	for _, w := range m.Weights.Tensors {
		if w.Name != name {
			continue
		}
		n := 1
		for _, d := range w.Shape {
			n *= d
		}
		out := make([]float32, n)
		page := m.Weights.Pages[w.Page][w.Offset:]
		for i := range out {
			out[i] = math.Float32frombits(uint32(page[4*i]) | uint32(page[4*i+1])<<8 | uint32(page[4*i+2])<<16 | uint32(page[4*i+3])<<24)
		}
		return out
	}
	return nil
}

func TestBatchNormFolding(t *testing.T) {
	w := []float32{1, 2, 3, 4, 5, 6, 7, 8} // [2, 2, 1, 2]
	bias := []float32{0.5, -1}
	gamma, beta, mean, vr := []float32{2, 3}, []float32{0.1, 0.2}, []float32{1, -1}, []float32{4, 0.25}
	const eps = 1e-5
	m := single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
		c := b.Node("Conv", []string{x, b.Const("w", w, 2, 2, 1, 2), b.Const("b", bias, 2)})
		b.NodeOut("BatchNormalization", "bn", []string{c, b.Const("g", gamma, 2), b.Const("be", beta, 2),
			b.Const("mu", mean, 2), b.Const("var", vr, 2)}, modelgen.Float("epsilon", eps))
		return "bn"
	})
	em := mustImport(t, m, engine.Options{})
	p := mustPlan(t, em, 1)
	if len(p.Ops) != 1 || p.Ops[0].Kind() != engine.KindConv {
		t.Fatalf("ops %v, want one Conv", p.Ops)
	}
	gotW, gotB := weightValues(em, "w+bn"), weightValues(em, "bn.bias")
	for o := range 2 {
		s := float64(gamma[o]) / math.Sqrt(float64(vr[o])+eps)
		for j := range 4 {
			if want := float64(w[o*4+j]) * s; math.Abs(float64(gotW[o*4+j])-want) > 1e-6*math.Abs(want) {
				t.Errorf("folded w[%d] = %g, want %g", o*4+j, gotW[o*4+j], want)
			}
		}
		if want := (float64(bias[o])-float64(mean[o]))*s + float64(beta[o]); math.Abs(float64(gotB[o])-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("folded b[%d] = %g, want %g", o, gotB[o], want)
		}
	}

	// A batch norm after something other than a conv stays, as Affine.
	m = single([]int{2, 3, 3}, func(b *modelgen.Builder, x string) string {
		r := b.Node("Relu", []string{x})
		return b.Node("BatchNormalization", []string{r, b.Const("g", gamma, 2), b.Const("be", beta, 2),
			b.Const("mu", mean, 2), b.Const("var", vr, 2)})
	})
	k := kinds(mustPlan(t, mustImport(t, m, engine.Options{}), 1))
	if k[engine.KindAffine] != 1 || k[engine.KindActivate] != 1 {
		t.Errorf("ops %v, want Activate and Affine", k)
	}
}

func TestIOLayout(t *testing.T) {
	m := mustImport(t, zoo(t, "tinycnn"), engine.Options{})
	if got := m.InputSize(); got != 3*32*32*4 {
		t.Errorf("input size %d", got)
	}
	if got := m.OutputSize(); got != 10*4 {
		t.Errorf("output size %d", got)
	}
	for _, b := range []int{1, 2, 5, 16} {
		p := mustPlan(t, m, b)
		if p.Inputs[0].Offset != 0 || p.Inputs[0].Region != engine.IO || p.Inputs[0].Shape[0] != b {
			t.Errorf("b%d: input %v", b, p.Inputs[0])
		}
		if p.InputBytes != int64(b)*m.InputSize() || p.OutputBytes != int64(b)*m.OutputSize() || p.IOBytes != p.InputBytes+p.OutputBytes {
			t.Errorf("b%d: io sizes %d + %d = %d", b, p.InputBytes, p.OutputBytes, p.IOBytes)
		}
		if o := p.Outputs[0]; o.Offset != p.InputBytes || o.Bytes() != p.OutputBytes {
			t.Errorf("b%d: output %v", b, o)
		}
		if last := p.Ops[len(p.Ops)-1].Writes(); last.Region != engine.IO || last.Offset != p.InputBytes {
			t.Errorf("b%d: last op writes %v, not the output", b, last)
		}
	}
	if _, err := m.Plan(0); err == nil {
		t.Error("Plan(0) succeeded")
	}
}

// TestBatchDimension accepts a leading dimension that is symbolic, 1 or
// unknown, and plans any batch size from it.
func TestBatchDimension(t *testing.T) {
	for name, dim := range map[string]*onnx.TensorShapeProto_Dimension{
		"symbolic": {Value: &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "batch"}},
		"one":      {Value: &onnx.TensorShapeProto_Dimension_DimValue{DimValue: 1}},
		"unknown":  {},
	} {
		m := single([]int{3, 4}, func(b *modelgen.Builder, x string) string {
			return b.Node("Softmax", []string{b.Node("Flatten", []string{x})})
		})
		m.Graph.Input[0].Type.GetTensorType().Shape.Dim[0] = dim
		em := mustImport(t, m, engine.Options{})
		if got := em.Inputs[0].Shape; len(got) != 2 || got[0] != 3 || got[1] != 4 {
			t.Errorf("%s: item shape %v", name, got)
		}
		if p := mustPlan(t, em, 4); p.Outputs[0].Shape[0] != 4 || p.Outputs[0].Shape[1] != 12 {
			t.Errorf("%s: output %v at batch 4", name, p.Outputs[0])
		}
	}
}

// rnnNode adds an LSTM, GRU or RNN of 2 hidden units over x, [N, 3, 4]
// moved to [3, N, 4], and returns its Y_h moved batch first; more (if not
// nil) changes its inputs.
func rnnNode(b *modelgen.Builder, x, op string, more func([]string) []string, attrs ...*onnx.AttributeProto) string {
	gates := map[string]int{"LSTM": 4, "GRU": 3, "RNN": 1}[op]
	in := []string{b.Node("Transpose", []string{x}, ints("perm", 1, 0, 2)), b.Normal("W", 0, 1, 1, 2*gates, 4), b.Normal("R", 0, 1, 1, 2*gates, 2)}
	if more != nil {
		in = more(in)
	}
	b.NodeOuts(op, []string{"", "rnn"}, in, append(attrs, num("hidden_size", 2))...)
	return b.Node("Transpose", []string{"rnn"}, ints("perm", 1, 0, 2))
}
