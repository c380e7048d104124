package main

import (
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

	logs "github.com/clockwork-go/clockwork/internal/bench"
	"github.com/clockwork-go/clockwork/internal/scheduler/infer5"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// defaultEstimateWindow is the controller's estimate window unless
// -infer5-estimate says otherwise.
const defaultEstimateWindow = infer5.DefaultEstimateWindow

// infer5Result is the outcome of the INFER5 run: the p99 relative error
// of the controller's exec predictions over Infer actions.
type infer5Result struct {
	skipped string // why it did not run; empty if it ran
	err     error
	rows    int           // successful Infer rows in the action log
	errs    map[int32]int // Infer rows with an error status, by status
	p50     float64       // |expected − actual| / actual
	p99     float64
	byBatch string // count, p50 and p99 per batch size
	anatomy []string
}

// errors says how many Infer rows failed, by status: "10 errors (status
// 81 ×7, 82 ×3)". Actions late at the worker (71, 81) follow whatever
// delays it, an exec predicted short or a machine that stalls; 82 is
// weights not there yet, a transfer predicted short.
func (r infer5Result) errors() string {
	n := 0
	for _, c := range r.errs {
		n += c
	}
	if n == 0 {
		return "0 errors"
	}
	parts := make([]string, 0, len(r.errs))
	for _, st := range slices.Sorted(maps.Keys(r.errs)) {
		parts = append(parts, fmt.Sprintf("%d ×%d", st, r.errs[st]))
	}
	noun := "errors"
	if n == 1 {
		noun = "error"
	}
	return fmt.Sprintf("%d %s (status %s)", n, noun, strings.Join(parts, ", "))
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
	w, err := startWorker(o.bin, filepath.Join(o.logDir, "infer5-worker.log"), o.workerFlags)
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
		filepath.Join(o.bin, "controller"), append([]string{"-port", strconv.Itoa(port), "INFER5", w.addr}, o.infer5Estimate...)...)
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
		filepath.Join(o.bin, "client"), "-summary-period", "1s", fmt.Sprintf("127.0.0.1:%d", port), "comparison_experiment2", "3", "4")
	if err != nil {
		interrupt(ctl)
		return infer5Result{err: err}
	}
	// The controller loads the models before it serves: start the clock
	// when the client reports its first throughput (every second here).
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
	return readActionLog(filepath.Join(logs, "clockwork_action_log.tsv"), o.infer5Window)
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
func readActionLog(path string, window int) infer5Result {
	f, err := os.Open(path)
	if err != nil {
		return infer5Result{err: err}
	}
	defer f.Close()
	var res infer5Result
	var rows []logs.ActionRow
	err = logs.ReadActionLog(f, func(r logs.ActionRow) {
		switch {
		case r.Type != workerapi.InferType:
		case r.Status != 0:
			if res.errs == nil {
				res.errs = map[int32]int{}
			}
			res.errs[r.Status]++
		case r.PredictedInfer():
			rows = append(rows, r)
		}
	})
	if err != nil {
		return infer5Result{err: err}
	}
	p := logs.Predictions(rows)
	res.rows, res.p50, res.p99 = p.Infers, p.P50, p.P99
	if res.rows == 0 {
		res.err = errors.New("no successful Infer in the action log")
		return res
	}
	batches := map[int][]float64{}
	execs := make([]infer5Exec, len(rows))
	for i := range rows {
		r := &rows[i]
		// The exec ended worker_exec_complete after the action was sent,
		// which was controller_result_enqueue before t.
		execs[i] = infer5Exec{
			gpu: [2]int{r.Worker, r.GPU}, model: r.Model, batch: r.Batch,
			expected: float64(r.Expected), actual: float64(r.Actual), err: r.PredictionError(),
			end:         float64(r.T - r.ResultEnqueue + r.ExecComplete),
			clockBefore: r.ClockBefore, clock: r.Clock,
		}
		batches[r.Batch] = append(batches[r.Batch], execs[i].err)
	}
	var parts []string
	for _, b := range slices.Sorted(maps.Keys(batches)) {
		v := batches[b]
		parts = append(parts, fmt.Sprintf("b%d %d rows p50 %.2f%% p99 %.2f%%", b, len(v), 100*percentile(v, 0.5), 100*percentile(v, 0.99)))
	}
	res.byBatch = strings.Join(parts, ", ")
	res.anatomy = append(infer5Anatomy(execs, window), replayLine(rows))
	return res
}

// replayLine says what INFER5's prediction error would have been on the
// same execs with other estimates (controller -estimate-window and
// -estimate-percentile): the window's size and percentile, and the p99.
func replayLine(rows []logs.ActionRow) string {
	var parts []string
	for _, e := range logs.Estimates {
		p := logs.Replay(rows, e)
		parts = append(parts, fmt.Sprintf("%d at %g: p99 %.2f%% (%.2f%% of the execs over theirs by more than 1%%)", e.Size, e.P, 100*p.P99, 100*p.Under))
	}
	return "INFER5 the same execs predicted again from the last N at percentile P (bench.Replay): " + strings.Join(parts, "; ")
}
