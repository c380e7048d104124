//go:build linux && cgo

package awake

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/affinity"
)

// TestStart: while Spinners run, the process has, per CPU given, a
// thread of policy SCHED_IDLE allowed on that CPU alone, which runs (its
// CPU time grows); after Stop, none.
func TestStart(t *testing.T) {
	cpus, err := affinity.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(cpus)
	if err != nil {
		t.Fatal(err)
	}
	first := idleThreads(t)
	for _, c := range cpus {
		if _, ok := first[c]; !ok {
			t.Errorf("no SCHED_IDLE thread pinned to CPU %d", c)
		}
	}
	// A thread of the lowest priority gets a sliver of a busy CPU: wait
	// until each has run, for as long as a loaded machine may need.
	ran := map[int]bool{}
	for deadline := time.Now().Add(10 * time.Second); len(ran) < len(first) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		for c, rt := range idleThreads(t) {
			if rt > first[c] {
				ran[c] = true
			}
		}
	}
	for c := range first {
		if !ran[c] {
			t.Errorf("the SCHED_IDLE thread on CPU %d did not run in 10 s", c)
		}
	}
	s.Stop()
	s.Stop() // a second Stop does nothing
	left := idleThreads(t)
	for deadline := time.Now().Add(10 * time.Second); len(left) > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		left = idleThreads(t)
	}
	if len(left) > 0 {
		t.Errorf("10 s after Stop, SCHED_IDLE threads on CPUs %v", left)
	}
}

func TestStartFails(t *testing.T) {
	if _, err := Start(nil); err == nil {
		t.Error("Start(nil) succeeded")
	}
	if _, err := Start([]int{-1}); err == nil {
		t.Error("Start on CPU -1 succeeded")
	}
	if s, err := Start([]int{1023}); err == nil { // no machine here has it
		s.Stop()
		t.Error("Start on CPU 1023 succeeded")
	} else if !strings.Contains(err.Error(), "CPU 1023") {
		t.Errorf("Start on CPU 1023: %v, want it named", err)
	}
}

// idleThreads maps the CPU of each SCHED_IDLE thread of the process
// (pinned to one CPU) to the CPU time it has had (ns, from schedstat).
func idleThreads(t *testing.T) map[int]int64 {
	got := map[int]int64{}
	tasks, _ := filepath.Glob("/proc/self/task/*")
	for _, task := range tasks {
		f := stat(t, task)
		if f == nil || f[41] != "5" { // gone, or policy not SCHED_IDLE
			continue
		}
		status, err := os.ReadFile(task + "/status")
		sched, err2 := os.ReadFile(task + "/schedstat")
		if err != nil || err2 != nil {
			continue
		}
		allowed := ""
		for l := range strings.Lines(string(status)) {
			if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
				allowed = strings.TrimSpace(v)
			}
		}
		cpu, err := strconv.Atoi(allowed)
		if err != nil {
			t.Errorf("a SCHED_IDLE thread may run on CPUs %q, want one", allowed)
			continue
		}
		rt, err := strconv.ParseInt(strings.Fields(string(sched))[0], 10, 64)
		if err != nil {
			t.Fatalf("%s/schedstat: %q", task, sched)
		}
		got[cpu] = rt
	}
	return got
}

// stat is a task's /proc stat up to its policy (field 41), numbered from
// 1 as proc(5) does (f[0] is empty; the command, which may hold spaces,
// is one field); nil if the task ended.
func stat(t *testing.T, task string) []string {
	b, err := os.ReadFile(task + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := append([]string{"", s[:strings.IndexByte(s, ' ')], s[strings.IndexByte(s, '(') : i+1]}, strings.Fields(s[i+1:])...)
	if len(f) < 42 {
		t.Fatalf("%s/stat has %d fields", task, len(f)-1)
	}
	return f[:42]
}
