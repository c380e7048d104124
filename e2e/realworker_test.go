package e2e

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/clockwork-go/clockwork/client"
	"github.com/clockwork-go/clockwork/internal/engine/reference"
	"github.com/clockwork-go/clockwork/internal/onnx"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// TestRealWorkerEndToEnd runs the real worker on the CPU behind the INFER5
// controller and checks the outputs clients get against a reference
// computed here by a plain interpreter of the same ONNX files.
func TestRealWorkerEndToEnd(t *testing.T) {
	_, wport := startBinary(t, "worker", "--device", "cpu")
	checkOutputs(t, wport)
}

// checkOutputs serves the mlp and tinycnn models (two copies each) from
// the worker on wport behind INFER5, round robin over the four, and checks
// every output against the reference interpreter.
func checkOutputs(t *testing.T, wport string) {
	// The runtimes under the race detector, on a loaded 2-core machine,
	// can take more than the default 100 ms SLO: this test is about
	// outputs, not latency.
	_, cport := startController(t, "INFER5", []string{wport}, "-default-slo", "10s")
	cl, err := client.Connect("localhost:" + cport)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	names := []string{"mlp", "tinycnn"}
	loaded := map[string][]*client.Model{} // two copies each
	for _, name := range names {
		ms, err := cl.LoadRemoteModels(filepath.Join(models, name, "model"), 2)
		if err != nil {
			t.Fatalf("loading %s: %v", name, err)
		}
		loaded[name] = ms
	}
	bad := filepath.Join(t.TempDir(), "bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "model.onnx"), []byte("not an onnx file"), 0o644)
	if _, err := cl.LoadRemoteModel(filepath.Join(bad, "model")); client.StatusOf(err) != client.StatusFailed {
		t.Fatalf("malformed model: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cl.AwaitReady(ctx, nil); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 7))
	protos := map[string]*onnx.ModelProto{}
	firsts := map[string][]float32{}
	for _, name := range names {
		protos[name] = readModel(t, filepath.Join(models, name, "model.onnx"))
	}
	for i := 0; i < 12; i++ {
		// Round robin over the four model ids: a small cache evicts.
		name := names[i%2]
		m, mp, first := loaded[name][i/2%2], protos[name], firsts[name]
		in := make([]float32, m.InputSize()/4)
		for j := range in {
			in[j] = r.Float32()*2 - 1
		}
		out, err := inferInTime(t, m, floatBytes(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := bytesFloat(out)
		checkOutput(t, name, got, runReference(t, mp, in))
		if first == nil {
			firsts[name] = got
		} else if equalFloats(first, got) {
			t.Fatalf("%s: different inputs gave identical outputs", name)
		}
	}
}

// inferInTime runs an Infer, again (up to four more times) when it was
// answered too late to run: under the race detector, with other test
// packages on the same two cores, a stage can miss the 10 ms window
// INFER5 gives it, and this test is about outputs.
func inferInTime(t *testing.T, m *client.Model, input []byte) ([]byte, error) {
	t.Helper()
	for try := 1; ; try++ {
		out, err := m.Infer(input)
		switch client.StatusOf(err) {
		case workerapi.CopyInputTooLate, workerapi.ExecTooLate, workerapi.CopyOutputTooLate, client.StatusTimeout:
			if try < 5 {
				t.Logf("try %d: %v", try, err)
				continue
			}
		}
		return out, err
	}
}

// checkOutput fails the test unless got is the reference's want, within
// 1e-5 relative (absolute below 1).
func checkOutput(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d outputs, want %d", what, len(got), len(want))
	}
	for j := range want {
		if d := math.Abs(float64(got[j] - want[j])); d > 1e-5*math.Max(1, math.Abs(float64(want[j]))) {
			t.Fatalf("%s output %d: %g, reference %g", what, j, got[j], want[j])
		}
	}
}

func equalFloats(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func readModel(t *testing.T, path string) *onnx.ModelProto {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m onnx.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// runReference computes one item's output with the reference interpreter.
func runReference(t *testing.T, m *onnx.ModelProto, in []float32) []float32 {
	t.Helper()
	g := m.GetGraph()
	inits := map[string]bool{}
	for _, i := range g.GetInitializer() {
		inits[i.GetName()] = true
	}
	var name string
	var shape []int
	for _, vi := range g.GetInput() {
		if inits[vi.GetName()] {
			continue
		}
		name = vi.GetName()
		shape = []int{1}
		for _, d := range vi.GetType().GetTensorType().GetShape().GetDim()[1:] {
			shape = append(shape, int(d.GetDimValue()))
		}
		break
	}
	outs, err := reference.Run(m, map[string]reference.Tensor{name: {Shape: shape, Data: in}})
	if err != nil {
		t.Fatal(err)
	}
	return outs[g.GetOutput()[0].GetName()].Data
}

func floatBytes(f []float32) []byte {
	b := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

func bytesFloat(b []byte) []float32 {
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return f
}
