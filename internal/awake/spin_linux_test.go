package awake

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/affinity"
)

const childEnv = "AWAKE_TEST_CHILD"

// TestMain makes the test binary the spinning child when childEnv is set.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		cpus, err := affinity.Allowed()
		if err == nil {
			err = Spin(cpus)
		}
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println(Ready, len(cpus))
		bufio.NewReader(os.Stdin).ReadString('\n') // until the test ends
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSpin: a process running Spin has, per CPU it may run on, a thread
// of policy SCHED_IDLE allowed on that CPU alone, running.
func TestSpin(t *testing.T) {
	cpus, err := affinity.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close() // the child ends
		if err := cmd.Wait(); err != nil {
			t.Errorf("child: %v", err)
		}
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if want := fmt.Sprintln(Ready, len(cpus)); line != want || err != nil {
		t.Fatalf("child said %q (%v), want %q", line, err, want)
	}
	time.Sleep(50 * time.Millisecond) // the spinners' CPU time grows
	spinning := map[int]bool{}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", cmd.Process.Pid))
	for _, task := range tasks {
		f := stat(t, task)
		if f[41] != "5" { // policy: not SCHED_IDLE
			continue
		}
		status, err := os.ReadFile(task + "/status")
		if err != nil {
			t.Fatal(err)
		}
		allowed := ""
		for l := range strings.Lines(string(status)) {
			if v, ok := strings.CutPrefix(l, "Cpus_allowed_list:"); ok {
				allowed = strings.TrimSpace(v)
			}
		}
		cpu, err := strconv.Atoi(allowed)
		if err != nil {
			t.Errorf("an idle thread may run on CPUs %q, want one", allowed)
			continue
		}
		if utime, _ := strconv.Atoi(f[14]); utime == 0 && f[3] != "R" {
			t.Errorf("the idle thread on CPU %d neither ran nor runs (state %s)", cpu, f[3])
		}
		spinning[cpu] = true
	}
	for _, c := range cpus {
		if !spinning[c] {
			t.Errorf("no SCHED_IDLE thread pinned to CPU %d (threads: %d)", c, len(tasks))
		}
	}
}

// stat is a task's /proc stat up to its policy (field 41), split into
// fields numbered from 1 as proc(5) does (f[0] is empty): the command
// name, which may hold spaces, is one field.
func stat(t *testing.T, task string) []string {
	b, err := os.ReadFile(task + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := append([]string{"", s[:strings.IndexByte(s, ' ')], s[strings.IndexByte(s, '(') : i+1]}, strings.Fields(s[i+1:])...)
	if len(f) < 42 {
		t.Fatalf("%s/stat has %d fields", task, len(f)-1)
	}
	return f[:42]
}
