package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestWorkerCPUsAndAwake: a worker started with --cpus runs every thread
// on those CPUs, with --awake it keeps a SCHED_IDLE thread spinning on
// each, and it serves; a bad list ends it at start with the reason.
func TestWorkerCPUsAndAwake(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	last := fmt.Sprint(runtime.NumCPU() - 1)
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

	bad := start(t, nil, "worker_dummy", "-p", "0", "--cpus", "3-1")
	select {
	case <-bad.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("a worker with --cpus 3-1 did not end")
	}
	if code := bad.Cmd.ProcessState.ExitCode(); code != 1 || !bad.has(`^Invalid --cpus: bad CPU list "3-1"`) {
		t.Errorf("--cpus 3-1: exit %d, output:\n%s", code, bad.Output())
	}
}
