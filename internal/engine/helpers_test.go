package engine_test

import (
	"math"
	"sync"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/onnx"
)

var (
	zooMu     sync.Mutex
	zooProtos = map[string]*onnx.ModelProto{}
)

// zoo generates a model of the zoo once per test binary.
func zoo(t testing.TB, name string) *onnx.ModelProto {
	t.Helper()
	zooMu.Lock()
	defer zooMu.Unlock()
	if m, ok := zooProtos[name]; ok {
		return m
	}
	m, err := modelgen.Generate(name)
	if err != nil {
		t.Fatal(err)
	}
	zooProtos[name] = m
	return m
}

func mustImport(t testing.TB, m *onnx.ModelProto, opts engine.Options) *engine.Model {
	t.Helper()
	em, err := engine.ImportProto(m, opts)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return em
}

func mustPlan(t testing.TB, m *engine.Model, batch int) *engine.Plan {
	t.Helper()
	p, err := m.Plan(batch)
	if err != nil {
		t.Fatalf("plan(%d): %v", batch, err)
	}
	return p
}

// single builds a model of one input [N, item...] and whatever build adds.
func single(item []int, build func(b *modelgen.Builder, x string) string) *onnx.ModelProto {
	b := modelgen.NewBuilder("test", 1)
	y := build(b, b.Input("x", item...))
	b.OutputAny(y)
	return b.Model()
}

// opset sets m's default-domain opset version.
func opset(v int64, m *onnx.ModelProto) *onnx.ModelProto {
	m.OpsetImport[0].Version = v
	return m
}

func kinds(p *engine.Plan) map[engine.OpKind]int {
	k := map[engine.OpKind]int{}
	for _, op := range p.Ops {
		k[op.Kind()]++
	}
	return k
}

func float32frombits(b uint32) float32 { return math.Float32frombits(b) }
