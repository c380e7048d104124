package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/clockwork-go/clockwork/internal/affinity"
	"github.com/clockwork-go/clockwork/internal/awake"
)

// -awake keeps every CPU of the machine from idling while gpucheck runs:
// a child process of gpucheck spins one SCHED_IDLE thread on each
// (internal/awake). Where the end-to-end tails come from virtual CPUs
// that halt when idle and wake late, they shrink with it.

// awakeEnv, set in a gpucheck process's environment, makes it the
// spinning child: it spins on every CPU it may run on until its
// standard input ends.
const awakeEnv = "GPUCHECK_AWAKE"

// awakeChild is the child's main; its exit status.
func awakeChild() int {
	cpus, err := affinity.Allowed()
	if err == nil {
		err = awake.Spin(cpus)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gpucheck -awake:", err)
		return 1
	}
	fmt.Println(awake.Ready, len(cpus))
	io.Copy(io.Discard, os.Stdin) // until gpucheck ends, or closes it
	return 0
}

// startAwake starts the spinning child and returns a function that ends
// it.
func startAwake() (stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), awakeEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop = func() {
		in.Close()
		cmd.Wait()
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	n, ok := strings.CutPrefix(strings.TrimSpace(line), awake.Ready+" ")
	if err != nil || !ok {
		cmd.Process.Kill()
		stop()
		return nil, fmt.Errorf("-awake: the spinning child did not start (%q)", strings.TrimSpace(line))
	}
	fmt.Printf("awake: a SCHED_IDLE thread spins on each of the %s CPUs (-awake): no CPU idles\n", n)
	return stop, nil
}
