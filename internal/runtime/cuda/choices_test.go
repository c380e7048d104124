//go:build linux && cgo

package cuda

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	cu "github.com/clockwork-go/clockwork/internal/cuda"
	onnxref "github.com/clockwork-go/clockwork/internal/engine/reference"
	"github.com/clockwork-go/clockwork/internal/runtime"
)

// TestChoicesRoundTrip writes choices as the file has them and reads them
// back: all but the workspace size (asked of cuDNN again) survive, and
// what this build does not know is counted and left out.
func TestChoicesRoundTrip(t *testing.T) {
	c := newChoices()
	c.setConv("a", convChoice{algo: cu.AlgoWinogradNonfused, mode: convFused, ws: 4096, ms: 0.25,
		short: []cu.ConvFwdAlgo{cu.AlgoFFT, cu.AlgoGemm}, shortNeed: 1 << 20, room: 1 << 19})
	c.setConv("b", convChoice{mode: convDepthwise, ms: 0.5, room: 7})
	c.setConv("c", convChoice{algo: cu.AlgoImplicitPrecompGemm, mode: convFusedThenAct})
	c.setGemm("g", gemmRows4)
	f := fingerprint{GPU: "G", CC: "9.0", SMs: 132, Driver: "1", CUDNN: 2, CUBLAS: 3, Kernels: "k"}
	doc := &choicesDoc{Format: choicesFormat}
	c.put(doc.section(f))
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var back choicesDoc
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	back.GPUs[0].Conv["d"] = savedConv{Algo: "NOT_AN_ALGO", Mode: "fused"}
	back.GPUs[0].Conv["e"] = savedConv{Mode: "fused"} // a cuDNN mode without its algorithm
	back.GPUs[0].Gemm["x"] = "warp drive"
	if back.section(f) != back.GPUs[0] || len(back.GPUs) != 1 {
		t.Fatalf("the fingerprint did not find its section: %s", b)
	}
	got := newChoices()
	took, bad := got.seed(back.GPUs[0])
	if took != 4 || bad != 3 {
		t.Errorf("seed took %d, left out %d; want 4 and 3", took, bad)
	}
	want := c.conv["a"]
	want.ws = 0
	a := got.conv["a"]
	if a.algo != want.algo || a.mode != want.mode || a.ws != 0 || a.ms != want.ms || a.shortNeed != want.shortNeed ||
		a.room != want.room || len(a.short) != 2 || a.short[0] != cu.AlgoFFT || a.short[1] != cu.AlgoGemm {
		t.Errorf("conv a = %+v, want %+v", a, want)
	}
	if got.conv["b"].mode != convDepthwise || got.conv["b"].room != 7 || got.conv["c"].mode != convFusedThenAct || got.conv["c"].algo != cu.AlgoImplicitPrecompGemm {
		t.Errorf("conv b, c = %+v, %+v", got.conv["b"], got.conv["c"])
	}
	if got.gemm["g"] != gemmRows4 {
		t.Errorf("gemm g = %v", got.gemm["g"])
	}
	if got.added {
		t.Error("seeding counts as choosing")
	}
	other := f
	other.CUDNN++
	if back.section(other) == back.GPUs[0] || len(back.GPUs) != 2 {
		t.Error("another cuDNN found the first section")
	}
}

// TestGPUChoicesFile runs workers' runtimes one after another on one
// choices file: the first times every choice and writes them, the next
// reuses them all and computes the same outputs; a choice edited in the
// file is taken where it computes the op and timed again where it does
// not; a file of another GPU or libraries, or not a choices file, costs
// only the timing.
func TestGPUChoicesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "choices.json")
	model := zoo(t, "tinycnn")
	// run opens a runtime on the file, loads tinycnn at batch sizes 1 and
	// 2, runs batch size 2 on GPU 0 and closes it all; it returns the log,
	// the choices timed and reused, and the output.
	run := func() (string, int, int, []byte) {
		t.Helper()
		var log bytes.Buffer
		cfg := smallConfig(&log)
		cfg.WorkspacePoolSize, cfg.Verbose, cfg.ChoicesFile = 64<<20, true, path
		rt, err := New(cfg)
		if err != nil {
			t.Skipf("no CUDA runtime: %v", err)
		}
		defer func() {
			if err := rt.Close(); err != nil {
				t.Error(err)
			}
		}()
		m, err := rt.Load(model, runtime.LoadOptions{MaxBatch: 2, MaxExec: math.MaxUint64, PageSize: testPage})
		if err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
		defer m.Close()
		out, err := infer(m, 0, 2, 2, randomInput(3, 2*m.Info().InputSize), resident(t, m))
		if err != nil {
			t.Fatal(err)
		}
		line := regexp.MustCompile(`cuda: Load gpu=0 .*choices_timed=(\d+) choices_reused=(\d+)`).FindStringSubmatch(log.String())
		if line == nil {
			t.Fatalf("no verbose Load line for GPU 0:\n%s", log.String())
		}
		timed, _ := strconv.Atoi(line[1])
		reused, _ := strconv.Atoi(line[2])
		return log.String(), timed, reused, out
	}
	read := func() *choicesDoc {
		t.Helper()
		doc, err := readChoices(path)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}

	log, timed, _, first := run()
	if !strings.Contains(log, "cuda: GPU 0: no choices in "+path+" for ") || timed == 0 {
		t.Fatalf("the first runtime timed %d choices:\n%s", timed, log)
	}
	doc := read()
	if len(doc.GPUs) != 1 || len(doc.GPUs[0].Conv) == 0 {
		t.Fatalf("the file has %d sections, conv choices %v", len(doc.GPUs), doc.GPUs)
	}
	sec := doc.GPUs[0]
	if sec.CUDNN != cu.CUDNNVersion() || sec.Kernels != kernelsHash() || sec.GPU == "" || sec.SMs == 0 {
		t.Errorf("fingerprint %v", sec.fingerprint)
	}
	saved := len(sec.Conv) + len(sec.Gemm)

	log, timed, reused, second := run()
	if timed != 0 || reused == 0 || !strings.Contains(log, "choices of ways to compute convolutions and Gemms from "+path) {
		t.Errorf("the second runtime timed %d choices and reused %d:\n%s", timed, reused, log)
	}
	if !bytes.Equal(first, second) {
		t.Error("the same choices computed other outputs")
	}
	if n := len(read().GPUs[0].Conv) + len(read().GPUs[0].Gemm); n != saved {
		t.Errorf("the file has %d choices after the second runtime, %d before", n, saved)
	}

	// Every convolution computed the plain way with IMPLICIT_GEMM (cuDNN
	// takes any geometry so), but one 3×3 convolution of one group given
	// the runtime's depthwise kernel, which cannot compute it: it is
	// timed again.
	doc = read()
	var wrong string
	for k := range doc.GPUs[0].Conv {
		doc.GPUs[0].Conv[k] = savedConv{Algo: "IMPLICIT_GEMM", Mode: "conv+epilogue"}
		if wrong == "" && strings.Contains(k, " 3 3] ") && strings.Contains(k, "groups1 ") {
			wrong = k
			doc.GPUs[0].Conv[k] = savedConv{Mode: "depthwise"}
		}
	}
	if wrong == "" {
		t.Fatalf("tinycnn has no 3×3 convolution with one group: %v", doc.GPUs[0].Conv)
	}
	doc.GPUs[0].Gemm["gemm from another build"] = "warp drive"
	if err := writeChoices(path, doc); err != nil {
		t.Fatal(err)
	}
	log, timed, _, third := run()
	if timed != 1 || !strings.Contains(log, "(1 more not understood, left out)") {
		t.Errorf("with a wrong choice in the file, %d were timed:\n%s", timed, log)
	}
	if !strings.Contains(log, "IMPLICIT_GEMM/conv+epilogue×") {
		t.Errorf("the file's choices were not taken:\n%s", log)
	}
	if e := onnxref.RelErr(third, first); e > chooseTol {
		t.Errorf("the plain IMPLICIT_GEMM way differs from the chosen ways by %.2g", e)
	}
	if c := read().GPUs[0].Conv[wrong]; c.Mode == "depthwise" {
		t.Errorf("the wrong choice was not replaced in the file: %+v", c)
	}

	// Another cuDNN: a section of its own, timed anew.
	doc = read()
	doc.GPUs[0].CUDNN++
	if err := writeChoices(path, doc); err != nil {
		t.Fatal(err)
	}
	if log, timed, reused, _ := run(); timed == 0 || !strings.Contains(log, "no choices in "+path) {
		t.Errorf("choices of another cuDNN were used (timed %d, reused %d):\n%s", timed, reused, log)
	}
	if n := len(read().GPUs); n != 2 {
		t.Errorf("the file has %d sections, want 2", n)
	}

	// Not a choices file: left alone.
	if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if log, timed, _, _ := run(); timed == 0 || !strings.Contains(log, "not used (not a choices file") {
		t.Errorf("timed %d:\n%s", timed, log)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Errorf("the file is now %q", b)
	}
}
