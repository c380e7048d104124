//go:build linux && cgo

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/affinity"
)

// TestGPUCheckOnFakeCUDA runs scripts/gpu-check.sh's harness, gpucheck,
// through every part of its main mode on fakecuda with one small model:
// the table, the tail anatomy with the stall probe's stalls and the
// steal time, INFER5 with another estimate, its anatomy and replay, the
// target lines, and flags passed to its workers. GPU hosts, where its figures mean
// something, are lent rarely; this keeps the harness working between
// them. (Its timings are the fake's, so targets fail and it exits 1.)
func TestGPUCheckOnFakeCUDA(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command(filepath.Join(bin, "gpucheck"), "-fakecuda", "-bin", bin, "-models", "tinycnn", "-batches", "1",
		"-n", "10", "-reload", "2", "-infer5", "3s", "-infer5-model", "tinycnn", "-infer5-estimate", "100:0.95",
		"-profile", "../internal/model/profiles/zoo_profile_h200.json", "-netbase-beside", "-worker-flags", "--awake --cpus "+firstCPU(t))
	choices := filepath.Join(out, "choices.json")
	cmd.Env = append(os.Environ(), "OUT="+out, "CLOCKWORK_CUDA_CHOICES="+choices)
	b, err := cmd.CombinedOutput()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatal(err)
	}
	report := string(b)
	for _, want := range []string{
		`(?m)^tinycnn +1 \|.*, steal \d+ ms(, |$)`,
		`(?m)^stall probe: threads on CPUs \[-?\d+( -?\d+)?\] sleeping 1ms at a time; the machine alone for 2s: \d+ wakes later than 200µs$`,
		`(?m)^End-to-end tails: \d+ of 10 timed inferences`,
		`(?m)^  machine stalls \(a probe thread on CPU .* \d+ in 2\.0 s before the worker started; \d+ while inferences were timed`,
		`(?m)^  steal time \(/proc/stat, all CPUs: a virtual CPU ready to run, the hypervisor running another\): \d+ ms over the [\d.]+ s watched$`,
		`(?m)^  slow inferences that met a stall: \d+ of \d+ .*; of all timed inferences: \d+ of 10$`,
		`(?m)^INFER5 \(3s\): [1-9]\d* Infers, \d+ errors?( \(status [^)]+\))?;`,
		`(?m)^INFER5 the same execs predicted again from the last N at percentile P \(bench\.Replay\): 10 at 0\.99: p99 `,
		`(?m)^PASS outputs \(CPU 1e-4, reload identical, stable\)`,
		`(?m)^(PASS|FAIL) INFER5 prediction error p99 <= 5%`,
		// The worker's GPU is not the profile's H200: exec p50 is not judged.
		`(?m)^SKIP exec p50 <= 1\.10 x PyTorch p50 +the PyTorch figures are NVIDIA H200's; this GPU is Fake GPU \(fakecuda\)$`,
		`(?m)^netbase beside the worker: [1-9]\d* round trips of 602112 bytes there and 4000 back, one every 2ms while the worker loaded and served the models: ms p50 [\d.]+ .*p99\.9-p50 [\d.]+ ms$`,
	} {
		if !regexp.MustCompile(want).MatchString(report) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
	if st, err := os.ReadFile(filepath.Join(out, "stalls.csv")); err != nil || !strings.HasPrefix(string(st), "at_us,late_us,queued_us,cpu,idle\n") {
		t.Errorf("stalls.csv: %v\n%.200s", err, st)
	}
	// The workers took the choices file from the environment, as
	// gpu-check.sh has them: the first timed tinycnn's choices into it.
	if c, err := os.ReadFile(choices); err != nil || !strings.Contains(string(c), `"format": "clockwork cuda choices 1"`) ||
		!strings.Contains(string(c), `"conv x[1 `) {
		t.Errorf("choices file: %v\n%.300s", err, c)
	}
	// -worker-flags reach every worker it starts.
	for _, log := range []string{"worker.log", "infer5-worker.log"} {
		if w, err := os.ReadFile(filepath.Join(out, log)); err != nil || !regexp.MustCompile(`(?m)^Keeping CPUs [\d,-]+ awake: a SCHED_IDLE thread spins on each$`).Match(w) {
			t.Errorf("%s: %v; the worker did not take -worker-flags --awake", log, err)
		}
	}
	ctl, err := os.ReadFile(filepath.Join(out, "infer5-controller.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^Estimating exec and weights times as the 0\.95 percentile of the last 100 measurements \(the original: 0\.99 of the last 10\)$`).Match(ctl) {
		t.Errorf("the controller did not take -infer5-estimate:\n%s", ctl)
	}
}

// TestGPUCheckLZ4OnFakeCUDA runs gpucheck's main mode with its inputs as a
// client sends them (-lz4): image-like items, LZ4-compressed, which the
// worker decompresses. Its outputs must still equal the CPU runtime's on
// the same images, and stay equal across the reload.
func TestGPUCheckLZ4OnFakeCUDA(t *testing.T) {
	cmd := exec.Command(filepath.Join(bin, "gpucheck"), "-fakecuda", "-bin", bin, "-models", "tinycnn", "-batches", "1,2",
		"-n", "10", "-reload", "2", "-infer5", "0", "-stalls=false", "-lz4",
		"-profile", "../internal/model/profiles/zoo_profile_h200.json")
	cmd.Env = append(os.Environ(), "OUT="+t.TempDir())
	b, err := cmd.CombinedOutput()
	if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		t.Fatal(err)
	}
	for _, want := range []string{
		`(?m)^gpucheck: models \[tinycnn\], batch sizes \[1 2\], .*, image-like inputs, LZ4-compressed; logs in `,
		`(?m)^tinycnn +2 \|.*reload identical$`,
		`(?m)^PASS outputs \(CPU 1e-4, reload identical, stable\) +\d+ checked$`,
	} {
		if !regexp.MustCompile(want).Match(b) {
			t.Errorf("the report lacks %q:\n%s", want, b)
		}
	}
}

// firstCPU is the first CPU the tests may use.
func firstCPU(t *testing.T) string {
	cpus, err := affinity.Allowed()
	if err != nil {
		t.Fatal(err)
	}
	return strconv.Itoa(cpus[0])
}
