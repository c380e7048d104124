//go:build linux && cgo

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/affinity"
)

// TestWorkerCPUsAndAwake: a worker started with --cpus runs every thread
// on those CPUs, with --awake it keeps a SCHED_IDLE thread spinning on
// each, and it serves; a bad list, or CPUs it cannot have, end it at
// start with the reason.
func TestWorkerCPUsAndAwake(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	cpus, err := affinity.Allowed() // under a cpuset, not 0 to NumCPU-1
	if err != nil {
		t.Fatal(err)
	}
	last := fmt.Sprint(cpus[len(cpus)-1])
	w, port := startWorker(t, "-n", "1", "--cpus", last, "--awake")
	w.waitFor(`^Running on CPUs `+last+`$`, time.Second)
	w.waitFor(`^Keeping CPUs `+last+` awake: a SCHED_IDLE thread spins on each$`, time.Second)
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", w.Cmd.Process.Pid))
	idle := 0
	for _, task := range tasks {
		status, err := os.ReadFile(task + "/status")
		stat, err2 := os.ReadFile(task + "/stat")
		if err != nil || err2 != nil {
			continue // ended meanwhile
		}
		if !strings.Contains(string(status), "\nCpus_allowed_list:\t"+last+"\n") {
			t.Errorf("thread %s may run on other CPUs than %s:\n%s", filepath.Base(task), last, status)
		}
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) > 38 && f[38] == "5" { // policy, the 41st field: SCHED_IDLE
			idle++
		}
	}
	if idle != 1 {
		t.Errorf("%d SCHED_IDLE threads among %d, want 1", idle, len(tasks))
	}
	_, cport := startController(t, "INFER5", []string{port})
	ms := loadAndServe(t, cport, filepath.Join(zoo, "resnet50_v2", "model"), 1)
	serve(t, ms, 10)

	for list, want := range map[string]string{
		"3-1":  `^Invalid --cpus: bad CPU list "3-1"`,
		"1023": `^Cannot run on CPUs 1023: sched_setaffinity: invalid argument \(the worker runs on CPUs [\d,-]+\)$`, // no machine here has it
	} {
		bad := start(t, nil, "worker_dummy", "-p", "0", "--cpus", list)
		select {
		case <-bad.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("a worker with --cpus %s did not end", list)
		}
		if code := bad.Cmd.ProcessState.ExitCode(); code != 1 || !bad.has(want) {
			t.Errorf("--cpus %s: exit %d, output:\n%s", list, code, bad.Output())
		}
	}
}
