// Package e2e runs Clockwork's real binaries as separate processes on
// loopback and checks what they do together and what they print.
package e2e

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/model"
	"github.com/clockwork-go/clockwork/internal/modelgen"
)

// bin is the directory holding the binaries built for this test run.
var bin string

// zoo is a simulated model zoo written for this test run.
var zoo string

// models holds small ONNX models (mlp, tinycnn) for the real worker.
var models string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "clockwork-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "bin")
	zoo = filepath.Join(dir, "zoo")
	build := exec.Command("go", "build", "-o", bin+"/", "../cmd/worker_dummy", "../cmd/worker", "../cmd/controller", "../cmd/client")
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

// proc is a running binary whose output is collected line by line.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd

	mu    sync.Mutex
	lines []string
	cond  *sync.Cond
	done  bool
}

// start runs binary name with args and extra environment.
func start(t *testing.T, env []string, name string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, cmd: exec.Command(filepath.Join(bin, name), args...)}
	p.cond = sync.NewCond(&p.mu)
	p.cmd.Env = append(os.Environ(), env...)
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			p.cond.Broadcast()
			p.mu.Unlock()
		}
		p.mu.Lock()
		p.done = true
		p.cond.Broadcast()
		p.mu.Unlock()
	}()
	go func() {
		p.cmd.Wait()
		w.Close()
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- output of %s:\n%s", name, p.output())
		}
	})
	return p
}

// stop interrupts the process and waits for it to exit.
func (p *proc) stop() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(os.Interrupt)
	}
	deadline := time.Now().Add(5 * time.Second)
	p.mu.Lock()
	defer p.mu.Unlock()
	for !p.done {
		if time.Now().After(deadline) {
			p.cmd.Process.Kill()
			break
		}
		p.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		p.mu.Lock()
	}
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// waitFor waits until a line matches re and returns its submatches.
func (p *proc) waitFor(re string, timeout time.Duration) []string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 0; ; {
		for ; i < len(p.lines); i++ {
			if m := rx.FindStringSubmatch(p.lines[i]); m != nil {
				return m
			}
		}
		if p.done || time.Now().After(deadline) {
			p.t.Fatalf("%s: no line matching %q within %v", p.name, re, timeout)
		}
		p.cond.Wait()
	}
}

// has reports whether any line so far matches re.
func (p *proc) has(re string) bool {
	rx := regexp.MustCompile(re)
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if rx.MatchString(l) {
			return true
		}
	}
	return false
}

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
var schedulerTypes = []string{"INFER5", "BASELINE", "ECHO"}
