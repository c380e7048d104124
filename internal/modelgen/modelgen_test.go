package modelgen_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/onnx"
)

func TestNames(t *testing.T) {
	want := []string{"convnext_tiny", "densenet121", "googlenet", "m5", "mlp", "mobilenet_v2", "resnet152", "resnet18", "resnet50", "shufflenet_v2_x1_0",
		"squeezenet1_1", "tinycnn", "vgg16", "vit_b_16"}
	if got := modelgen.Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if _, err := modelgen.Generate("alexnet"); err == nil {
		t.Error("unknown model generated")
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
