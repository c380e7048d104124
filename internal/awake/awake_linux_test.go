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
// thread of policy SCHED_IDLE allowed on that CPU alone, always runnable
// (it spins), with SIGINT and SIGTERM blocked, which gets CPU time; after
// Stop, each ends as soon as it runs. A thread of the lowest priority gets
// a sliver of a busy CPU: where the machine is too busy to tell within
// 10 s, the test says so and does not fail.
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
		th, ok := first[c]
		if !ok {
			t.Errorf("no SCHED_IDLE thread pinned to CPU %d", c)
			continue
		}
		const sigint, sigterm = 1 << (2 - 1), 1 << (15 - 1)
		if th.blocked&(sigint|sigterm) != sigint|sigterm {
			t.Errorf("the thread on CPU %d does not block SIGINT and SIGTERM (SigBlk %x)", c, th.blocked)
		}
	}
	ran := map[int]bool{}
	for deadline := time.Now().Add(10 * time.Second); len(ran) < len(first) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		for c, th := range idleThreads(t) {
			if th.state != "R" {
				t.Fatalf("the thread on CPU %d is in state %s, not spinning", c, th.state)
			}
			if th.runtime > first[c].runtime {
				ran[c] = true
			}
		}
	}
	for c := range first {
		if !ran[c] {
			t.Logf("the SCHED_IDLE thread on CPU %d did not run in 10 s (a busy machine)", c)
		}
	}
	s.Stop()
	s.Stop() // a second Stop does nothing
	atStop := idleThreads(t)
	left := atStop
	for deadline := time.Now().Add(10 * time.Second); len(left) > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		left = idleThreads(t)
	}
	for c, th := range left {
		// A thread that runs sees Stop within nanoseconds; the kernel
		// counts CPU time in ticks of a few milliseconds.
		if ran := time.Duration(th.runtime - atStop[c].runtime); ran > 100*time.Millisecond {
			t.Errorf("the thread on CPU %d ran %v after Stop and did not end", c, ran)
		} else {
			t.Logf("the thread on CPU %d did not run in the 10 s after Stop (a busy machine)", c)
		}
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

// idleThread is what /proc says of one SCHED_IDLE thread.
type idleThread struct {
	state   string // stat's third field
	runtime int64  // schedstat's CPU time (ns)
	blocked uint64 // SigBlk
}

// idleThreads maps the CPU of each SCHED_IDLE thread of the process
// (pinned to one CPU) to what /proc says of it.
func idleThreads(t *testing.T) map[int]idleThread {
	got := map[int]idleThread{}
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
		th := idleThread{state: f[3]}
		allowed := ""
		for l := range strings.Lines(string(status)) {
			if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
				allowed = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(l, "SigBlk:"); ok {
				th.blocked, _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			}
		}
		cpu, err := strconv.Atoi(allowed)
		if err != nil {
			t.Errorf("a SCHED_IDLE thread may run on CPUs %q, want one", allowed)
			continue
		}
		if th.runtime, err = strconv.ParseInt(strings.Fields(string(sched))[0], 10, 64); err != nil {
			t.Fatalf("%s/schedstat: %q", task, sched)
		}
		got[cpu] = th
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
