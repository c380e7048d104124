package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workload"
)

// runClient runs the program with args and returns its exit status and
// output.
func runClient(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestHelpListsEveryWorkload(t *testing.T) {
	for _, h := range []string{"-h", "-help", "--help"} {
		code, out, _ := runClient(h)
		if code != 0 {
			t.Fatalf("%s: exit %d", h, code)
		}
		for _, d := range workload.Defs() {
			if !strings.Contains(out, "  "+d.Synopsis()+"\n") {
				t.Errorf("%s: help lacks %q", h, d.Synopsis())
			}
		}
		for _, s := range []string{"-summary-period", "-duration", "-seed", "gen-trace", "trace-stats",
			"CLOCKWORK_MODEL_DIR", "AZURE_TRACE_DIR", "CLOCKWORK_DISABLE_INPUTS", "[num_workers=1]"} {
			if !strings.Contains(out, s) {
				t.Errorf("%s: help lacks %q", h, s)
			}
		}
	}
}

func TestBadCommandLines(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "need <host:port> and <workload>"},
		{[]string{"localhost:12346"}, "need <host:port> and <workload>"},
		{[]string{"localhost", "simple"}, `address "localhost" is not host:port`},
		{[]string{"localhost:12346", "nosuch"}, "Unknown workload nosuch"},
		{[]string{"localhost:12346", "simple", "3"}, "takes at most 0 arguments"},
		{[]string{"localhost:12346", "simple", "-duration", "1s"}, "takes at most 0 arguments"},
		{[]string{"localhost:12346", "slo-exp-1", "resnet50_v2", "4", "poisson"}, "missing argument rate"},
		{[]string{"localhost:12346", "slo-exp-1", "resnet50_v2", "4", "poisson", "100", "two", "32", "2", "mul", "7"}, `slo-start: "two" is not a number`},
		{[]string{"localhost:12346", "azure", "trace=20"}, `"20" is not one of 1..14`},
		{[]string{"-bogus", "localhost:12346", "simple"}, "flag provided but not defined: -bogus"},
		{[]string{"-duration", "-1s", "localhost:12346", "simple"}, "-duration not negative"},
		{[]string{"gen-trace"}, "gen-trace: need -dir"},
		{[]string{"gen-trace", "-dir", "x", "-days", "0"}, "-days between 1 and 99"},
	}
	for _, tt := range tests {
		code, out, errOut := runClient(tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) || !strings.Contains(errOut, "client -h") {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, code, errOut, tt.want)
		}
		if out != "" {
			t.Errorf("%q: printed %q before failing", tt.args, out)
		}
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	code, out, errOut := runClient(addr, "simple")
	if code != 1 || !strings.Contains(errOut, "connection refused") || !strings.Contains(errOut, addr) {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if !strings.HasPrefix(out, "Running workload `simple` on "+addr+"\n") || !strings.Contains(out, "Connecting to clockwork @ "+addr) {
		t.Errorf("stdout %q", out)
	}
}

func TestMissingModelDir(t *testing.T) {
	t.Setenv("CLOCKWORK_MODEL_DIR", "")
	fc := startFake(t, 0)
	code, _, errOut := runClient(fc.addr, "simple")
	if code != 1 || errOut != "CLOCKWORK_MODEL_DIR variable not set, exiting\n" {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if fc.loads() != 0 {
		t.Error("loaded models without a zoo")
	}
}

func TestUnknownModelAndMissingTrace(t *testing.T) {
	t.Setenv("CLOCKWORK_MODEL_DIR", zoo(t, "resnet50_v2", "vgg16"))
	t.Setenv("AZURE_TRACE_DIR", t.TempDir())
	fc := startFake(t, 0)
	code, _, errOut := runClient(fc.addr, "spam", "resnet9000")
	if code != 1 || !strings.Contains(errOut, "Unknown model resnet9000\nValid models: resnet50_v2 vgg16") {
		t.Errorf("unknown model: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runClient(fc.addr, "azure")
	if code != 1 || !strings.Contains(errOut, "invocations_per_function_md.anon.d01.csv") {
		t.Errorf("missing trace: exit %d, stderr %q", code, errOut)
	}
	t.Setenv("AZURE_TRACE_DIR", "")
	code, _, errOut = runClient(fc.addr, "azure_small")
	if code != 1 || errOut != "AZURE_TRACE_DIR variable not set, exiting\n" {
		t.Errorf("no trace dir: exit %d, stderr %q", code, errOut)
	}
	if fc.loads() != 0 {
		t.Error("loaded models before failing")
	}
}

func TestRunAgainstFakeController(t *testing.T) {
	dir := zoo(t, "resnet50_v2", "vgg16")
	t.Setenv("CLOCKWORK_MODEL_DIR", dir)
	t.Setenv("CLOCKWORK_DISABLE_INPUTS", "1")
	fc := startFake(t, 1)
	code, out, errOut := runClient("-summary-period", "300ms", "-duration", "1s", fc.addr, "poisson-open-loop", "2", "200")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := []string{
		"Running workload `poisson-open-loop` on " + fc.addr,
		"Client inputs are DISABLED.  Set CLOCKWORK_DISABLE_INPUTS=0 to enable inputs.",
		"Connecting to clockwork @ " + fc.addr,
		"Connection established",
		"Found 2 models in " + dir,
		"Loading 2 resnet50_v2 models",
		"Cumulative request rate across models: 200 requests/seconds",
		"Adding a PoissonOpenLoop Workload (100 requests/second) for each model",
		"Clockwork initializing, retrying Controller initializing",
		"throughput=",
	}
	lines := strings.Split(out, "\n")
	for i, w := range want {
		if i >= len(lines) || !strings.HasPrefix(lines[i], w) {
			t.Fatalf("line %d: want %q; output:\n%s", i+1, w, out)
		}
	}
	// The rate itself is checked in virtual time (internal/workload's
	// TestPoissonRate); in wall time a loaded machine only sends fewer
	// (52 once, with -race beside a busy fakecuda worker on 2 cores), never
	// more.
	if n := fc.infers(); n == 0 || n > 400 {
		t.Errorf("controller saw %d requests in 1 s at 200 r/s", n)
	}
	if !fc.sawEmptyInputs() {
		t.Error("requests carried inputs with CLOCKWORK_DISABLE_INPUTS=1")
	}
}

func TestWorkloadThatEndsByItself(t *testing.T) {
	t.Setenv("CLOCKWORK_MODEL_DIR", zoo(t, "resnet50_v2"))
	t.Setenv("CLOCKWORK_DISABLE_INPUTS", "0")
	fc := startFake(t, 0)
	code, out, errOut := runClient(fc.addr, "slo-exp-1", "resnet50_v2", "2", "fixed-rate", "100", "1", "4", "2", "mul", "0.2")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.Contains(out, "Client is sending inputs with requests.") ||
		!strings.Contains(out, "Updating slo_factor to 2\nUpdating slo_factor to 4\nTerminating engine\n") {
		t.Errorf("output:\n%s", out)
	}
	if fc.sawEmptyInputs() {
		t.Error("a request carried no input")
	}
}

func TestControllerGoesAway(t *testing.T) {
	t.Setenv("CLOCKWORK_MODEL_DIR", zoo(t, "resnet50_v2"))
	fc := startFake(t, 0)
	fc.dropAfter = 50
	code, _, errOut := runClient("-duration", "20s", fc.addr, "simple")
	if code != 1 || !strings.Contains(errOut, "connection to the controller lost") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestGenTraceAndStats(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "trace")
	code, out, errOut := runClient("gen-trace", "-dir", dir, "-functions", "50", "-days", "2", "-seed", "9")
	if code != 0 || errOut != "" || strings.Count(out, "\n") != 2 {
		t.Fatalf("gen-trace: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = runClient("trace-stats", dir)
	if code != 0 || errOut != "" {
		t.Fatalf("trace-stats: exit %d, stderr %q", code, errOut)
	}
	for _, s := range []string{"anon.d01.csv", "anon.d02.csv", "functions: 50", "top 1% of functions", "top 18.6%", "peak-to-mean minute rate"} {
		if !strings.Contains(out, s) {
			t.Errorf("trace-stats output lacks %q:\n%s", s, out)
		}
	}
	if code, _, errOut := runClient("trace-stats", t.TempDir()); code != 1 || !strings.Contains(errOut, "no invocations_per_function_md") {
		t.Errorf("empty dir: exit %d, stderr %q", code, errOut)
	}
	if code, out, _ := runClient("gen-trace", "-h"); code != 0 || !strings.Contains(out, "-functions") {
		t.Errorf("gen-trace -h: exit %d, %q", code, out)
	}
}

func zoo(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.MkdirAll(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n, "model.measurements"), []byte("b1 = 1L;\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeController answers the client protocol: loads get consecutive ids,
// LS says "initializing" a given number of times, infers succeed at once.
type fakeController struct {
	addr      string
	dropAfter int // close connections after this many infers (0: never)

	mu           sync.Mutex
	initializing int
	nextID       uint32
	nLoads       int
	nInfers      int
	emptyInputs  bool
}

func startFake(t *testing.T, initializing int) *fakeController {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	fc := &fakeController{addr: ln.Addr().String(), initializing: initializing}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go fc.serve(wire.NewConn(nc))
		}
	}()
	return fc
}

func (fc *fakeController) serve(c *wire.Conn) {
	defer c.Close()
	for {
		msg, err := c.Receive()
		if err != nil {
			return
		}
		req, err := clientapi.DecodeRequest(msg)
		if err != nil {
			return
		}
		head := clientapi.ResponseHeader{UserRequestID: req.Head().UserRequestID}
		var rsp clientapi.Response
		fc.mu.Lock()
		switch r := req.(type) {
		case *clientapi.LoadModelRequest:
			fc.nLoads++
			rsp = &clientapi.LoadModelResponse{ResponseHeader: head, ModelID: fc.nextID, InputSize: 602112,
				OutputSize: 4000, CopiesCreated: r.Copies}
			fc.nextID += uint32(r.Copies)
		case *clientapi.LSRequest:
			if fc.initializing > 0 {
				fc.initializing--
				head.Status, head.Message = clientapi.StatusInitializing, clientapi.MessageControllerInitializing
			}
			rsp = &clientapi.LSResponse{ResponseHeader: head}
		case *clientapi.InferRequest:
			fc.nInfers++
			fc.emptyInputs = fc.emptyInputs || len(r.Input) == 0
			if fc.dropAfter > 0 && fc.nInfers >= fc.dropAfter {
				fc.mu.Unlock()
				return
			}
			rsp = &clientapi.InferResponse{ResponseHeader: head, ModelID: r.ModelID, BatchSize: 1}
		}
		fc.mu.Unlock()
		out, err := clientapi.EncodeResponse(rsp, msg.ID)
		if err != nil || c.Send(out) != nil {
			return
		}
	}
}

func (fc *fakeController) loads() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.nLoads
}

func (fc *fakeController) infers() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.nInfers
}

func (fc *fakeController) sawEmptyInputs() bool {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.emptyInputs
}
