package main

import (
	"bufio"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// infer5Result is the outcome of the INFER5 run: the p99 relative error
// of the controller's exec predictions over Infer actions.
type infer5Result struct {
	skipped string // why it did not run; empty if it ran
	err     error
	rows    int     // successful Infer rows in the action log
	errs    int     // Infer rows with an error status
	p50     float64 // |expected − actual| / actual
	p99     float64
	byBatch string // count, p50 and p99 per batch size
	anatomy []string
}

// runInfer5 serves the client's workload through `controller INFER5` on a
// fresh GPU worker for o.infer5 and reads the controller's action log
// (spec/controller.md §8.2: expected_exec_duration is column 9,
// worker_exec_duration column 10).
func runInfer5(o *options, tmp, models string) infer5Result {
	for _, b := range []string{"controller", "client"} {
		if _, err := os.Stat(filepath.Join(o.bin, b)); err != nil {
			return infer5Result{skipped: fmt.Sprintf("no %s binary in %s", b, o.bin)}
		}
	}
	zoo, err := infer5Zoo(o, tmp, models)
	if err != nil {
		return infer5Result{err: err}
	}
	w, err := startWorker(o.bin, filepath.Join(o.logDir, "infer5-worker.log"))
	if err != nil {
		return infer5Result{err: err}
	}
	defer w.stop()
	if rt := w.runtimeName(); !strings.HasPrefix(rt, "cuda") {
		return infer5Result{err: fmt.Errorf("the worker runs on %q, not on a GPU", rt)}
	}
	port, err := freePort()
	if err != nil {
		return infer5Result{err: err}
	}
	logs := filepath.Join(o.logDir, "infer5-telemetry")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return infer5Result{err: err}
	}
	ctl, err := startLogged(filepath.Join(o.logDir, "infer5-controller.log"), []string{"CLOCKWORK_LOG_DIR=" + logs},
		filepath.Join(o.bin, "controller"), "-port", strconv.Itoa(port), "INFER5", w.addr)
	if err != nil {
		return infer5Result{err: err}
	}
	// The controller starts by asking the worker for its state; give it a
	// moment, then make sure it took INFER5.
	time.Sleep(2 * time.Second)
	if !alive(ctl) {
		return infer5Result{skipped: "`controller INFER5` exited at start-up (see infer5-controller.log): INFER5 not available"}
	}
	cli, err := startLogged(filepath.Join(o.logDir, "infer5-client.log"), []string{"CLOCKWORK_MODEL_DIR=" + zoo},
		filepath.Join(o.bin, "client"), fmt.Sprintf("127.0.0.1:%d", port), "comparison_experiment2", "3", "4")
	if err != nil {
		interrupt(ctl)
		return infer5Result{err: err}
	}
	// The controller loads the models before it serves: start the clock
	// when the client reports its first throughput.
	ready := min(3*time.Minute, o.budget/2)
	if !waitFor(filepath.Join(o.logDir, "infer5-client.log"), "throughput=", ready) {
		interrupt(cli)
		interrupt(ctl)
		return infer5Result{err: fmt.Errorf("the client got no answers within %v (see infer5-*.log)", ready)}
	}
	fmt.Printf("INFER5: serving; running for %v\n", o.infer5)
	time.Sleep(o.infer5)
	interrupt(cli)
	interrupt(ctl)
	return readActionLog(filepath.Join(logs, "clockwork_action_log.tsv"))
}

// infer5Zoo is a model directory with resnet50_v2, the model the client's
// comparison workloads use: our generated o.infer5Model (resnet50) under
// that name.
func infer5Zoo(o *options, tmp, models string) (string, error) {
	zoo := filepath.Join(tmp, "infer5-zoo")
	dir := filepath.Join(zoo, "resnet50_v2")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	src := filepath.Join(models, o.infer5Model, "model.onnx")
	if _, err := os.Stat(src); err != nil {
		if err := generate(o, zoo, o.infer5Model); err != nil {
			return "", err
		}
		src = filepath.Join(zoo, o.infer5Model, "model.onnx")
	}
	return zoo, os.Symlink(src, filepath.Join(dir, "model.onnx"))
}

// waitFor waits until the file contains s.
func waitFor(path, s string, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), s) {
			return true
		}
	}
	return false
}

// startLogged starts a command with its output in logPath.
func startLogged(logPath string, env []string, name string, args ...string) (*exec.Cmd, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	go func() {
		cmd.Wait()
		log.Close()
	}()
	return cmd, nil
}

// alive reports whether the process still runs.
func alive(cmd *exec.Cmd) bool { return cmd.Process.Signal(syscall.Signal(0)) == nil }

// interrupt sends SIGINT and waits up to 20 s before killing.
func interrupt(cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	for deadline := time.Now().Add(20 * time.Second); alive(cmd) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if alive(cmd) {
		cmd.Process.Kill()
	}
	time.Sleep(100 * time.Millisecond) // let the waiter reap it
}

// readActionLog computes the prediction error of the Infer rows.
func readActionLog(path string) infer5Result {
	f, err := os.Open(path)
	if err != nil {
		return infer5Result{err: err}
	}
	defer f.Close()
	var res infer5Result
	var rel []float64
	var execs []infer5Exec
	batches := map[int][]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		col := strings.Split(sc.Text(), "\t")
		if len(col) < 10 || col[2] != "2" {
			continue // header, or not an Infer
		}
		if col[3] != "0" {
			res.errs++
			continue
		}
		batch, err0 := strconv.Atoi(col[7])
		expected, err1 := strconv.ParseFloat(col[8], 64)
		actual, err2 := strconv.ParseFloat(col[9], 64)
		if err0 != nil || err1 != nil || err2 != nil || actual <= 0 {
			continue
		}
		x := infer5Exec{batch: batch, expected: expected, actual: actual}
		e := relErr(x)
		rel = append(rel, e)
		batches[batch] = append(batches[batch], e)
		if len(col) >= 19 && parseExec(col, &x) {
			execs = append(execs, x)
		}
	}
	if err := sc.Err(); err != nil {
		return infer5Result{err: err}
	}
	res.rows = len(rel)
	if res.rows == 0 {
		res.err = errors.New("no successful Infer in the action log")
		return res
	}
	res.p50, res.p99 = percentile(rel, 0.5), percentile(rel, 0.99)
	var parts []string
	for _, b := range slices.Sorted(maps.Keys(batches)) {
		v := batches[b]
		parts = append(parts, fmt.Sprintf("b%d %d rows p50 %.2f%% p99 %.2f%%", b, len(v), 100*percentile(v, 0.5), 100*percentile(v, 0.99)))
	}
	res.byBatch = strings.Join(parts, ", ")
	res.anatomy = infer5Anatomy(execs)
	return res
}

// parseExec fills in x's GPU, model, clocks and end from an Infer row of
// the action log: the exec ended worker_exec_complete after the action
// was sent, which was controller_result_enqueue before t.
func parseExec(col []string, x *infer5Exec) bool {
	var v [8]int64
	for i, c := range []int{0, 4, 5, 6, 11, 13, 14, 18} {
		n, err := strconv.ParseInt(col[c], 10, 64)
		if err != nil {
			return false
		}
		v[i] = n
	}
	x.gpu = [2]int{int(v[1]), int(v[2])}
	x.model = int(v[3])
	x.end = float64(v[0] - v[7] + v[4])
	x.clockBefore, x.clock = int(v[5]), int(v[6])
	return true
}
