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
// thread of policy SCHED_IDLE allowed on that CPU alone that runs; after
// Stop it has none.
func TestStart(t *testing.T) {
	cpus, err := affinity.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(cpus)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the spinners' CPU time grows
	got := idleThreads(t)
	for _, c := range cpus {
		if ran, ok := got[c]; !ok {
			t.Errorf("no SCHED_IDLE thread pinned to CPU %d", c)
		} else if !ran {
			t.Errorf("the SCHED_IDLE thread on CPU %d neither ran nor runs", c)
		}
	}
	s.Stop()
	s.Stop() // a second Stop does nothing
	if got := idleThreads(t); len(got) > 0 {
		t.Errorf("after Stop, SCHED_IDLE threads on CPUs %v", got)
	}
}

func TestStartFails(t *testing.T) {
	if _, err := Start(nil); err == nil {
		t.Error("Start(nil) succeeded")
	}
	if s, err := Start([]int{1023}); err == nil { // no machine here has it
		s.Stop()
		t.Error("Start on CPU 1023 succeeded")
	} else if !strings.Contains(err.Error(), "CPU 1023") {
		t.Errorf("Start on CPU 1023: %v, want it named", err)
	}
}

// idleThreads maps the CPU of each SCHED_IDLE thread of the process
// (pinned to one CPU) to whether it ran or runs.
func idleThreads(t *testing.T) map[int]bool {
	got := map[int]bool{}
	tasks, _ := filepath.Glob("/proc/self/task/*")
	for _, task := range tasks {
		f := stat(t, task)
		if f == nil || f[41] != "5" { // gone, or policy not SCHED_IDLE
			continue
		}
		status, err := os.ReadFile(task + "/status")
		if err != nil {
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
		utime, _ := strconv.Atoi(f[14])
		got[cpu] = utime > 0 || f[3] == "R"
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
