// Package proc runs Clockwork's binaries as child processes for the
// benchmarks and the end-to-end tests: it keeps each one's output, lets
// callers wait for a line, and stops processes as Ctrl-C would so that
// they exit cleanly (the controller flushes its telemetry).
package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// StopGrace is how long a process may take to exit after SIGINT before it
// is killed.
const StopGrace = 5 * time.Second

// Proc is a running binary. Its output (stdout and stderr) is copied to
// <dir>/<name>.out and kept in memory so that lines can be waited for.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and its output is read

	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced whenever a line arrives
}

// Start runs path with args and extra environment, in dir.
func Start(dir, path string, env []string, args ...string) (*Proc, error) {
	name := filepath.Base(path)
	f, err := os.Create(filepath.Join(dir, name+".out"))
	if err != nil {
		return nil, err
	}
	p := &Proc{Name: name, Cmd: exec.Command(path, args...), done: make(chan struct{}), changed: make(chan struct{})}
	p.Cmd.Env = append(os.Environ(), env...)
	p.Cmd.Dir = dir
	r, w := io.Pipe()
	p.Cmd.Stdout, p.Cmd.Stderr = w, w
	if err := p.Cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer f.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			fmt.Fprintln(f, sc.Text())
			p.add(sc.Text())
		}
		io.Copy(io.Discard, r) // an over-long line must not block the process
	}()
	go func() {
		p.Cmd.Wait()
		w.Close()
		<-read
		close(p.done)
	}()
	return p, nil
}

func (p *Proc) add(line string) {
	p.mu.Lock()
	p.lines = append(p.lines, line)
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// find looks for a line matching re from line from on; it returns the
// submatches, or where to look next time and a channel closed when more
// lines arrive.
func (p *Proc) find(re *regexp.Regexp, from int) (m []string, next int, changed <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for ; from < len(p.lines); from++ {
		if m := re.FindStringSubmatch(p.lines[from]); m != nil {
			return m, from, nil
		}
	}
	return nil, from, p.changed
}

// WaitFor waits until an output line matches re and returns its submatches.
func (p *Proc) WaitFor(ctx context.Context, re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for next := 0; ; {
		m, n, changed := p.find(re, next)
		if m != nil {
			return m, nil
		}
		next = n
		select {
		case <-changed:
		case <-p.done:
			// Every line was added before done: look once more.
			if m, _, _ := p.find(re, next); m != nil {
				return m, nil
			}
			return nil, fmt.Errorf("%s exited (%v) before printing %q:\n%s", p.Name, p.Cmd.ProcessState, re, p.Tail(20))
		case <-timer.C:
			return nil, fmt.Errorf("%s printed no line matching %q within %v:\n%s", p.Name, re, timeout, p.Tail(20))
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Tail returns the last n output lines.
func (p *Proc) Tail(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines[max(0, len(p.lines)-n):], "\n")
}

// Stop interrupts the process as Ctrl-C would, so that it exits cleanly
// (the controller flushes its logs), and kills it if it has not exited
// within StopGrace. It returns once the process is gone.
func (p *Proc) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	if err := p.Cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.Cmd.Process.Kill()
	}
	select {
	case <-p.done:
	case <-time.After(StopGrace):
		p.Cmd.Process.Kill()
		<-p.done
	}
}

// Done is closed once the process has exited and its output is read.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Output returns every output line so far.
func (p *Proc) Output() string { return p.Tail(1 << 30) }

// Has reports whether an output line so far matches re.
func (p *Proc) Has(re *regexp.Regexp) bool {
	m, _, _ := p.find(re, 0)
	return m != nil
}
