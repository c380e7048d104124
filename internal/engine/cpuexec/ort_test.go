package cpuexec_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/engine/cpuexec"
	"github.com/clockwork-go/clockwork/internal/engine/reference"
	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/onnx"
)

// ortDiffers are the operators' cases where onnxruntime 1.20 computes
// otherwise than the engine, which follows PyTorch, whose exports they
// are: with ceil_mode, PyTorch drops a last window that would start in
// the right padding, and with count_include_pad divides a window that
// runs past the padding by its part within the padded input;
// onnxruntime keeps the window and divides by the whole kernel. (ONNX's
// text leaves it open: onnx/onnx#3314.)
var ortDiffers = map[string]string{
	"avgpool-ceil-include-pad": "ceil-mode windows past the padding divided by the whole kernel",
	"pool3d-max-avg":           "a ceil-mode window starting in the right padding kept",
}

// onnxruntimeNode is node and the environment that finds onnxruntime-node,
// or a reason to skip.
func onnxruntimeNode(tb testing.TB) (node string, env []string) {
	dir := os.Getenv("CLOCKWORK_ORT_DIR")
	if dir == "" {
		tb.Skip("CLOCKWORK_ORT_DIR is unset (.ci/run sets it where npm installed onnxruntime-node)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		tb.Skip("no node")
	}
	return node, append(os.Environ(), "NODE_PATH="+filepath.Join(dir, "node_modules"))
}

// TestOnnxruntime runs TestOperators' and TestRecurrent's graphs, and two
// of the zoo's models, in onnxruntime, an implementation of ONNX that
// shares nothing with ours, and checks that the engine's outputs agree
// with its at batch size 2 as they must with the reference's. It needs
// node and the npm package onnxruntime-node (installed with
// --ignore-scripts, its CPU library alone) in $CLOCKWORK_ORT_DIR/node_modules,
// which .ci/run installs; without them it skips. A model onnxruntime
// refuses (it runs no LSTM of layout 1) is logged, not failed, but most
// must run.
func TestOnnxruntime(t *testing.T) {
	node, env := onnxruntimeNode(t)
	type tensor struct {
		Name string    `json:"name,omitempty"`
		Dims []int     `json:"dims"`
		Data []float32 `json:"data"`
	}
	type ortCase struct {
		Model   string   `json:"model"`
		Inputs  []tensor `json:"inputs"`
		Outputs []string `json:"outputs"`
	}
	named := map[string]*onnx.ModelProto{}
	opts := map[string]engine.Options{}
	for _, g := range operatorGraphs() {
		if _, differs := ortDiffers[g.name]; !differs {
			named[g.name], opts[g.name] = g.model(), g.opts
		}
	}
	for name, c := range recurrentCases() {
		named[name] = recurrentModel(c)
	}
	for _, name := range []string{"mobilenet_v3_small", "efficientnet_b0"} {
		var err error
		if named[name], err = modelgen.Generate(name); err != nil {
			t.Fatal(err)
		}
	}
	names := slices.Sorted(maps.Keys(named))
	tmp := t.TempDir()
	w := cpuexec.NewWorkers(0)
	defer w.Close()
	r := rand.New(rand.NewPCG(11, 2))
	var cases []ortCase
	engineOuts := map[string][][]float32{}
	for i, name := range names {
		mp := named[name]
		data, err := proto.Marshal(mp)
		if err != nil {
			t.Fatal(err)
		}
		c := ortCase{Model: filepath.Join(tmp, fmt.Sprintf("%d.onnx", i))}
		if err := os.WriteFile(c.Model, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var inputs []reference.Tensor
		for _, vi := range mp.GetGraph().GetInput() {
			shape := []int{2}
			for _, d := range vi.GetType().GetTensorType().GetShape().GetDim()[1:] {
				shape = append(shape, int(d.GetDimValue()))
			}
			x := randTensor(r, shape...)
			inputs = append(inputs, x)
			c.Inputs = append(c.Inputs, tensor{Name: vi.GetName(), Dims: shape, Data: x.Data})
		}
		for _, o := range mp.GetGraph().GetOutput() {
			c.Outputs = append(c.Outputs, o.GetName())
		}
		engineOuts[name], _ = runEngine(t, mp, opts[name], w, inputs)
		cases = append(cases, c)
	}
	js, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	in, out := filepath.Join(tmp, "cases.json"), filepath.Join(tmp, "results.json")
	if err := os.WriteFile(in, js, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "testdata/ort.js", in, out)
	cmd.Env = env
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node testdata/ort.js: %v\n%s", err, msg)
	}
	var results []struct {
		Outputs []tensor `json:"outputs"`
		Error   string   `json:"error"`
	}
	if js, err = os.ReadFile(out); err == nil {
		err = json.Unmarshal(js, &results)
	}
	if err != nil || len(results) != len(names) {
		t.Fatalf("results of %d cases (%v), want %d", len(results), err, len(names))
	}
	refused := 0
	for i, name := range names {
		res := results[i]
		if res.Error != "" {
			refused++
			t.Logf("%s: onnxruntime refused it: %s", name, res.Error)
			continue
		}
		for j, o := range res.Outputs {
			compare(t, fmt.Sprintf("%s output %d against onnxruntime", name, j), engineOuts[name][j], o.Data)
		}
	}
	t.Logf("%d models, %d run by onnxruntime", len(names), len(names)-refused)
	if refused > len(names)/10 {
		t.Errorf("onnxruntime refused %d of %d models", refused, len(names))
	}
}

// BenchmarkVersusOnnxruntime times zoo models at batch size 1 in the engine
// and in onnxruntime 1.20 (onnxruntime-node, as TestOnnxruntime finds it)
// on as many threads, in turns. Compare their ms/inference: the ns/op of
// an onnxruntime row also counts starting node and loading the model.
func BenchmarkVersusOnnxruntime(b *testing.B) {
	node, env := onnxruntimeNode(b)
	for _, name := range []string{"resnet18", "resnet50", "mobilenet_v2", "efficientnet_b0", "convnext_tiny", "vit_b_16"} {
		b.Run(name+"/engine", func(b *testing.B) { runPlan(b, benchModel(b, name), 1) })
		b.Run(name+"/onnxruntime", func(b *testing.B) {
			mp, err := modelgen.Generate(name)
			if err != nil {
				b.Fatal(err)
			}
			data, err := proto.Marshal(mp)
			if err != nil {
				b.Fatal(err)
			}
			file := filepath.Join(b.TempDir(), name+".onnx")
			if err := os.WriteFile(file, data, 0o644); err != nil {
				b.Fatal(err)
			}
			dims := []string{"1"}
			for _, d := range mp.GetGraph().GetInput()[0].GetType().GetTensorType().GetShape().GetDim()[1:] {
				dims = append(dims, strconv.FormatInt(d.GetDimValue(), 10))
			}
			cmd := exec.Command(node, "testdata/ort-bench.js", file, strings.Join(dims, ","),
				strconv.Itoa(runtime.GOMAXPROCS(0)), "1", strconv.Itoa(b.N))
			cmd.Env = env
			out, err := cmd.Output()
			var ms []float64
			if err == nil {
				err = json.Unmarshal(out, &ms)
			}
			if err != nil || len(ms) != b.N {
				b.Fatalf("node testdata/ort-bench.js: %v, %d times of %d (%s)", err, len(ms), b.N, out)
			}
			var sum float64
			for _, v := range ms {
				sum += v
			}
			b.ReportMetric(sum/float64(b.N), "ms/inference")
		})
	}
}
