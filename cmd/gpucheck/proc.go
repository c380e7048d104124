package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/clockwork-go/clockwork/internal/clock"
)

// workerProc is a real worker started by gpucheck, with the lines of its
// console that gpucheck reads: its address, its runtime, and the CUDA
// runtime's verbose LoadWeights lines (CLOCKWORK_CUDA_VERBOSE).
type workerProc struct {
	cmd  *exec.Cmd
	addr string

	mu      sync.Mutex
	runtime string
	loads   map[string][]loadLine // by model path, in order
	started int64                 // clock.Now just before the start: its runtime's time 0, within about a ms
	gcs     []gcEvent             // the worker's garbage collections (GODEBUG=gctrace=1)
	exited  chan struct{}
}

// loadLine is one "cuda: LoadWeights" line.
type loadLine struct {
	pages   string
	bytes   float64
	copyMs  float64
	gbps    float64
	mapMs   float64 // pages mapped into a graph set: the rebind of every batch size
	mapped  bool    // whether there was a mapping
	totalMs float64
}

var (
	listenRE = regexp.MustCompile(`IO service thread listening on \S*:(\d+)`)
	loadRE   = regexp.MustCompile(`cuda: LoadWeights gpu=\d+ model=(\S+) pages=\[([^\]]*)\] bytes=(\d+) copy_ms=([\d.]+) gbps=([\d.]+) map_ms=([\d.]*) total_ms=([\d.]+)`)
)

// startWorker runs bin/worker on a free port, with flags, its console in
// logPath, and waits until it listens.
func startWorker(bin, logPath string, flags []string) (*workerProc, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	w := &workerProc{loads: map[string][]loadLine{}, exited: make(chan struct{})}
	w.cmd = exec.Command(bin+"/worker", append([]string{"-p", "0"}, flags...)...)
	w.cmd.Env = append(withGCTrace(os.Environ()), "CLOCKWORK_CUDA_VERBOSE=1", "CLOCKWORK_CUDA_PROFILE_OPS=1")
	pr, pw := io.Pipe()
	w.cmd.Stdout, w.cmd.Stderr = pw, pw
	w.started = clock.Now()
	if err := w.cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	port := make(chan string, 1)
	go func() {
		defer log.Close()
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(log, line)
			w.parse(line, port)
		}
	}()
	go func() {
		w.cmd.Wait()
		pw.Close()
		close(w.exited)
	}()
	select {
	case p := <-port:
		w.addr = "127.0.0.1:" + p
		return w, nil
	case <-w.exited:
		return nil, fmt.Errorf("the worker exited at start-up (see %s)", logPath)
	case <-time.After(3 * time.Minute):
		w.stop()
		return nil, fmt.Errorf("the worker did not listen within 3 minutes (see %s)", logPath)
	}
}

// withGCTrace adds gctrace=1 to GODEBUG in env: the worker's garbage
// collections, one line each, for the report's tail anatomy.
func withGCTrace(env []string) []string {
	for i, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GODEBUG="); ok {
			out := slices.Clone(env)
			out[i] = "GODEBUG=gctrace=1," + v // the caller's setting wins
			return out
		}
	}
	return append(slices.Clone(env), "GODEBUG=gctrace=1")
}

func (w *workerProc) parse(line string, port chan<- string) {
	if g, ok := parseGC(line, w.started); ok {
		w.mu.Lock()
		w.gcs = append(w.gcs, g)
		w.mu.Unlock()
		return
	}
	if m := listenRE.FindStringSubmatch(line); m != nil {
		select {
		case port <- m[1]:
		default:
		}
		return
	}
	if rt, ok := strings.CutPrefix(line, "Runtime: "); ok {
		w.mu.Lock()
		w.runtime = rt
		w.mu.Unlock()
		return
	}
	m := loadRE.FindStringSubmatch(line)
	if m == nil {
		return
	}
	l := loadLine{pages: m[2]}
	l.bytes, _ = strconv.ParseFloat(m[3], 64)
	l.copyMs, _ = strconv.ParseFloat(m[4], 64)
	l.gbps, _ = strconv.ParseFloat(m[5], 64)
	l.totalMs, _ = strconv.ParseFloat(m[7], 64)
	if v, err := strconv.ParseFloat(m[6], 64); err == nil {
		l.mapMs, l.mapped = v, true
	}
	w.mu.Lock()
	w.loads[m[1]] = append(w.loads[m[1]], l)
	w.mu.Unlock()
}

// gcEvents are the worker's garbage collections so far.
func (w *workerProc) gcEvents() []gcEvent {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.gcs)
}

// runtimeName is the runtime the worker reported.
func (w *workerProc) runtimeName() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.runtime
}

// loadCount is the number of LoadWeights lines of the model so far.
func (w *workerProc) loadCount(path string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.loads[path])
}

// waitLoad returns the model's LoadWeights line number n (from 0), waiting
// a little for the console to catch up with the protocol.
func (w *workerProc) waitLoad(path string, n int) (loadLine, bool) {
	for deadline := time.Now().Add(3 * time.Second); ; {
		w.mu.Lock()
		ls := w.loads[path]
		w.mu.Unlock()
		if len(ls) > n {
			return ls[n], true
		}
		if time.Now().After(deadline) {
			return loadLine{}, false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop interrupts the worker and waits for it to exit.
func (w *workerProc) stop() {
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(20 * time.Second):
		w.cmd.Process.Kill()
		<-w.exited
	}
}

// freePort returns a TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
