package modelgen_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/clockwork-go/clockwork/internal/model"
	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/onnx"
)

func TestNames(t *testing.T) {
	want := []string{"alexnet", "convnext_tiny", "densenet121", "densenet161", "densenet169", "densenet201", "efficientnet_b0",
		"efficientnet_b4", "googlenet", "inception_v3", "m5", "mlp", "mnasnet1_0", "mobilenet_v2", "mobilenet_v3_large",
		"mobilenet_v3_small", "regnet_y_800mf", "resnet101", "resnet152", "resnet18", "resnet34", "resnet50", "resnext101_32x8d",
		"resnext50_32x4d", "shufflenet_v2_x1_0", "squeezenet1_0", "squeezenet1_1", "tinycnn", "vgg11", "vgg13", "vgg16",
		"vgg16_bn", "vgg19", "vit_b_16", "wide_resnet50_2"}
	if got := modelgen.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if _, err := modelgen.Generate("lenet"); err == nil {
		t.Error("unknown model generated")
	}
	if _, err := modelgen.Skeleton("lenet"); err == nil {
		t.Error("unknown model's skeleton built")
	}
}

func TestDeterministic(t *testing.T) {
	for _, name := range []string{"mlp", "tinycnn"} {
		a, err := modelgen.Generate(name)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := modelgen.Generate(name)
		da, _ := proto.Marshal(a)
		db, _ := proto.Marshal(b)
		if !bytes.Equal(da, db) {
			t.Errorf("%s: two generations differ", name)
		}
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	prefix, err := modelgen.Write(dir, "tinycnn")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "tinycnn", "model"); prefix != want {
		t.Errorf("prefix %q, want %q", prefix, want)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "tinycnn"))
	if err != nil || len(entries) != 1 || entries[0].Name() != "model.onnx" {
		t.Fatalf("directory holds %v (%v), want model.onnx only", entries, err)
	}
	data, err := os.ReadFile(prefix + ".onnx")
	if err != nil {
		t.Fatal(err)
	}
	var m onnx.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	// What onnxruntime and onnx.checker need: IR version, opset, typed and
	// shaped inputs and outputs with a symbolic batch, named nodes.
	if m.IrVersion < 7 || len(m.OpsetImport) != 1 || m.OpsetImport[0].Version != modelgen.Opset {
		t.Errorf("ir_version %d, opset %v", m.IrVersion, m.OpsetImport)
	}
	g := m.Graph
	for _, vi := range append(slices.Clone(g.Input), g.Output...) {
		tt := vi.GetType().GetTensorType()
		if tt.GetElemType() != int32(onnx.TensorProto_FLOAT) || tt.GetShape().GetDim()[0].GetDimParam() != modelgen.BatchParam {
			t.Errorf("%s: type %v", vi.Name, vi.Type)
		}
	}
	names := map[string]bool{}
	for _, n := range g.Node {
		if n.Name == "" || names[n.Name] {
			t.Errorf("node name %q empty or repeated", n.Name)
		}
		names[n.Name] = true
	}
	ops := map[string]bool{}
	for _, n := range g.Node {
		ops[n.OpType] = true
	}
	for _, op := range []string{"Conv", "BatchNormalization", "Relu", "Clip", "Add", "Mul", "MaxPool", "AveragePool",
		"GlobalAveragePool", "Reshape", "Gemm", "Concat", "HardSigmoid", "HardSwish"} {
		if !ops[op] {
			t.Errorf("tinycnn has no %s", op)
		}
	}
}

// TestZooParameters checks that every model of the measured profiles is
// generated with torchvision's architecture: its parameters and batch-norm
// statistics take the bytes of the profile's state_dict (float32 tensors,
// and each batch norm's int64 num_batches_tracked), to the byte.
func TestZooParameters(t *testing.T) {
	profiled, err := model.SimulatedZoo()
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, p := range profiled {
		if !strings.Contains(p.Spec.Source, "PyTorch") {
			continue // the original's V100 models
		}
		checked++
		m, err := modelgen.Skeleton(p.Name)
		if err != nil {
			t.Errorf("%s: %v", p.Name, err)
			continue
		}
		if got := stateDictBytes(m); got != p.Spec.WeightsSize {
			t.Errorf("%s: state_dict of %d bytes, profile %d (%+d)", p.Name, got, p.Spec.WeightsSize, int64(got)-int64(p.Spec.WeightsSize))
		}
		in := m.Graph.Input[0].Type.GetTensorType().Shape.Dim[1:]
		var shape []int
		for _, d := range in {
			shape = append(shape, int(d.GetDimValue()))
		}
		if !slices.Equal(shape, p.Spec.InputShape) {
			t.Errorf("%s: input %v, profile %v", p.Name, shape, p.Spec.InputShape)
		}
	}
	if checked != 32 {
		t.Errorf("%d PyTorch-profiled models, want 32", checked)
	}
}

// stateDictBytes is what PyTorch's state_dict of m's network holds: its
// float32 initializers but the scalar constants an export adds, and 8
// bytes for each BatchNormalization's num_batches_tracked.
func stateDictBytes(m *onnx.ModelProto) uint64 {
	var n uint64
	for _, t := range m.Graph.Initializer {
		elems := uint64(1)
		for _, d := range t.Dims {
			elems *= uint64(d)
		}
		if t.DataType == int32(onnx.TensorProto_FLOAT) && elems > 1 {
			n += 4 * elems
		}
	}
	for _, nd := range m.Graph.Node {
		if nd.OpType == "BatchNormalization" {
			n += 8
		}
	}
	return n
}

// TestSkeleton checks that a skeleton is its model without the random
// values: the same nodes, and initializers of the same names, types and
// shapes, those of random values empty (constants keep theirs).
func TestSkeleton(t *testing.T) {
	for _, name := range []string{"tinycnn", "mobilenet_v3_small", "googlenet"} {
		full, err := modelgen.Generate(name)
		if err != nil {
			t.Fatal(err)
		}
		sk, err := modelgen.Skeleton(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(full.Graph.Node) != len(sk.Graph.Node) {
			t.Fatalf("%s: %d nodes, skeleton %d", name, len(full.Graph.Node), len(sk.Graph.Node))
		}
		for i, n := range full.Graph.Node {
			if !proto.Equal(n, sk.Graph.Node[i]) {
				t.Errorf("%s: node %d %v, skeleton's %v", name, i, n, sk.Graph.Node[i])
			}
		}
		if len(full.Graph.Initializer) != len(sk.Graph.Initializer) {
			t.Fatalf("%s: %d initializers, skeleton %d", name, len(full.Graph.Initializer), len(sk.Graph.Initializer))
		}
		empty := 0
		for i, f := range full.Graph.Initializer {
			s := sk.Graph.Initializer[i]
			if f.Name != s.Name || f.DataType != s.DataType || !slices.Equal(f.Dims, s.Dims) {
				t.Errorf("%s: initializer %s %v, skeleton's %s %v", name, f.Name, f.Dims, s.Name, s.Dims)
			}
			if len(s.RawData) > 0 && !bytes.Equal(s.RawData, f.RawData) {
				t.Errorf("%s: skeleton initializer %s holds other values", name, s.Name)
			}
			if len(s.RawData) == 0 && len(f.RawData) > 0 {
				empty++
			}
		}
		if empty == 0 {
			t.Errorf("%s: the skeleton holds every value", name)
		}
	}
}
