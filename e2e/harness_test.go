// Package e2e runs Clockwork's real binaries as separate processes on
// loopback and checks what they do together and what they print.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/model"
	"github.com/clockwork-go/clockwork/internal/modelgen"
	process "github.com/clockwork-go/clockwork/internal/proc"
)

// bin is the directory holding the binaries built for this test run.
var bin string

// zoo is a simulated model zoo written for this test run.
var zoo string

// models holds small ONNX models (mlp, tinycnn) for the real worker.
var models string

// root is the test run's temporary directory.
var root string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "clockwork-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	root = dir
	bin = filepath.Join(dir, "bin")
	zoo = filepath.Join(dir, "zoo")
	build := exec.Command("go", "build", "-o", bin+"/", "../cmd/worker_dummy", "../cmd/worker", "../cmd/controller", "../cmd/client",
		"../cmd/gpucheck", "../cmd/genmodels")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the binaries:", err)
		os.Exit(1)
	}
	if _, err := model.WriteSimulatedZoo(zoo); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	models = filepath.Join(dir, "models")
	for _, name := range []string{"mlp", "tinycnn"} {
		if _, err := modelgen.Write(models, name); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running binary (see internal/proc) bound to a test.
type proc struct {
	*process.Proc
	t *testing.T
}

// start runs binary name with args and extra environment; it is stopped
// when the test ends, and its output logged if the test failed.
func start(t *testing.T, env []string, name string, args ...string) *proc {
	t.Helper()
	p, err := process.Start(t.TempDir(), filepath.Join(bin, name), env, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("--- output of %s:\n%s", name, p.Output())
		}
	})
	return &proc{p, t}
}

// waitFor waits until a line matches re and returns its submatches.
func (p *proc) waitFor(re string, timeout time.Duration) []string {
	p.t.Helper()
	m, err := p.WaitFor(context.Background(), regexp.MustCompile(re), timeout)
	if err != nil {
		p.t.Fatal(err)
	}
	return m
}

// has reports whether any line so far matches re.
func (p *proc) has(re string) bool { return p.Has(regexp.MustCompile(re)) }

// startWorker starts worker_dummy on a free port and returns it and its port.
func startWorker(t *testing.T, args ...string) (*proc, string) {
	return startBinary(t, "worker_dummy", args...)
}

// startBinary starts a worker binary on a free port.
func startBinary(t *testing.T, name string, args ...string) (*proc, string) {
	w := start(t, nil, name, append([]string{"-p", "0"}, args...)...)
	port := w.waitFor(`IO service thread listening on 0\.0\.0\.0:(\d+)`, 10*time.Second)[1]
	return w, port
}

// startController starts a controller of the given type for the worker
// ports, on a free client port, logging to a temp dir.
func startController(t *testing.T, typ string, workerPorts []string, extra ...string) (*proc, string) {
	var addrs []string
	for _, p := range workerPorts {
		addrs = append(addrs, "localhost:"+p)
	}
	args := append([]string{"-port", "0", typ, strings.Join(addrs, ",")}, extra...)
	c := start(t, []string{"CLOCKWORK_LOG_DIR=" + t.TempDir()}, "controller", args...)
	port := c.waitFor(`IO service thread listening for clients on 0\.0\.0\.0:(\d+)`, 10*time.Second)[1]
	return c, port
}

// schedulerTypes are the controller types that run real workloads.
var schedulerTypes = []string{"INFER5", "INFER4", "BASELINE", "ECHO"}
