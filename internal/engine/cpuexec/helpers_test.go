package cpuexec_test

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/engine/cpuexec"
	"github.com/clockwork-go/clockwork/internal/engine/reference"
	"github.com/clockwork-go/clockwork/internal/onnx"
)

// tolerance is the agreement required with the reference, relative to
// max(1, |want|).
const tolerance = 1e-5

func randTensor(r *rand.Rand, shape ...int) reference.Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	t := reference.Tensor{Shape: shape, Data: make([]float32, n)}
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64())
	}
	return t
}

// runEngine imports mp, plans batch size batch and runs it with w on the
// given inputs (one per model input, batch first), returning the outputs.
func runEngine(t *testing.T, mp *onnx.ModelProto, opts engine.Options, w *cpuexec.Workers, inputs []reference.Tensor) ([][]float32, *engine.Plan) {
	t.Helper()
	m, err := engine.ImportProto(mp, opts)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	batch := inputs[0].Shape[0]
	p, err := m.Plan(batch)
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	e, err := cpuexec.New(p, m.Weights.Pages)
	if err != nil {
		t.Fatalf("executor: %v", err)
	}
	io := make([]byte, p.IOBytes)
	for i, in := range inputs {
		putFloats(io[p.Inputs[i].Offset:], in.Data)
	}
	// Poison the workspace: nothing may read bytes it did not write.
	ws := make([]byte, p.WorkspaceBytes)
	for i := range ws {
		ws[i] = 0xff
	}
	if err := e.Run(w, cpuexec.Memory{IO: io, Workspace: ws, Pages: m.Weights.Pages}); err != nil {
		t.Fatalf("run: %v", err)
	}
	var outs [][]float32
	for _, o := range p.Outputs {
		outs = append(outs, getFloats(io[o.Offset:], o.Elems()))
	}
	return outs, p
}

// runReference evaluates mp with the reference interpreter.
func runReference(t *testing.T, mp *onnx.ModelProto, inputs []reference.Tensor) []reference.Tensor {
	t.Helper()
	in := map[string]reference.Tensor{}
	for i, vi := range mp.GetGraph().GetInput() {
		in[vi.GetName()] = inputs[i]
	}
	res, err := reference.Run(mp, in)
	if err != nil {
		t.Fatalf("reference: %v", err)
	}
	var outs []reference.Tensor
	for _, o := range mp.GetGraph().GetOutput() {
		outs = append(outs, res[o.GetName()])
	}
	return outs
}

func putFloats(b []byte, f []float32) {
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
}

func getFloats(b []byte, n int) []float32 {
	f := make([]float32, n)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return f
}

// compare checks got against want within tolerance.
func compare(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) || math.Abs(g-w) > tolerance*math.Max(1, math.Abs(w)) {
			if bad < 5 {
				t.Errorf("%s: [%d] = %g, want %g", what, i, g, w)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values differ", what, bad, len(got))
	}
}

// checkModel runs mp on the engine and the reference at the given batch
// sizes and compares every output.
func checkModel(t *testing.T, mp *onnx.ModelProto, opts engine.Options, batches ...int) {
	t.Helper()
	r := rand.New(rand.NewPCG(7, uint64(len(batches))))
	workers := cpuexec.NewWorkers(0)
	defer workers.Close()
	odd := cpuexec.NewWorkers(3)
	defer odd.Close()
	for _, b := range batches {
		var inputs []reference.Tensor
		for _, vi := range mp.GetGraph().GetInput() {
			shape := []int{b}
			for _, d := range vi.GetType().GetTensorType().GetShape().GetDim()[1:] {
				shape = append(shape, int(d.GetDimValue()))
			}
			inputs = append(inputs, randTensor(r, shape...))
		}
		want := runReference(t, mp, inputs)
		for _, w := range []*cpuexec.Workers{workers, odd} {
			got, p := runEngine(t, mp, opts, w, inputs)
			for i := range want {
				name := mp.GetGraph().GetOutput()[i].GetName()
				if !slices.Equal(p.Outputs[i].Shape, want[i].Shape) {
					t.Errorf("%s at batch size %d: shape %v, want %v", name, b, p.Outputs[i].Shape, want[i].Shape)
				}
				compare(t, name, got[i], want[i].Data)
			}
		}
	}
}
