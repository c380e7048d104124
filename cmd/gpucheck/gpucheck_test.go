package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pierrec/lz4/v4"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

func TestParseLoadLine(t *testing.T) {
	w := &workerProc{loads: map[string][]loadLine{}}
	w.parse("cuda: LoadWeights gpu=0 model=/z/resnet18/model pages=[4 5 6] bytes=46738944 copy_ms=0.862 gbps=54.2 map_ms=0.041 total_ms=4.698", nil)
	w.parse("cuda: LoadWeights gpu=0 model=/z/resnet18/model pages=[4 5 6] bytes=46738944 copy_ms=0.862 gbps=54.2 map_ms= total_ms=0.900", nil)
	l, ok := w.waitLoad("/z/resnet18/model", 0)
	if !ok || l.pages != "4 5 6" || l.gbps != 54.2 || l.copyMs != 0.862 || l.totalMs != 4.698 ||
		l.mapMs != 0.041 || !l.mapped {
		t.Errorf("line 0 = %+v, %v", l, ok)
	}
	if l, ok := w.waitLoad("/z/resnet18/model", 1); !ok || l.mapped || l.totalMs != 0.9 {
		t.Errorf("line 1 = %+v, %v", l, ok)
	}
	port := make(chan string, 1)
	w.parse("IO service thread listening on 0.0.0.0:40265", port)
	if p := <-port; p != "40265" {
		t.Errorf("port %q", p)
	}
}

func TestReadActionLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clockwork_action_log.tsv")
	rest := strings.Repeat("\t0", 13) // expected_exec_complete to copies_loaded
	rows := []string{
		actionHeader,
		"1\t1\t1\t0\t0\t0\t0\t1\t9000000\t9500000" + rest, // a LoadWeights
		"2\t2\t2\t0\t0\t0\t0\t1\t2000000\t2000000" + rest,
		"3\t3\t2\t0\t0\t0\t0\t4\t3300000\t3000000" + rest,
		"4\t4\t2\t81\t0\t0\t0\t4\t3300000\t0" + rest,
	}
	if err := os.WriteFile(path, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := readActionLog(path, 10)
	if r.err != nil || r.rows != 2 || r.errors() != "1 error (status 81 ×1)" || r.p50 != 0 || math.Abs(r.p99-0.1) > 1e-9 ||
		r.byBatch != "b1 1 rows p50 0.00% p99 0.00%, b4 1 rows p50 10.00% p99 10.00%" {
		t.Errorf("result %+v", r)
	}
}

// TestInfer5Anatomy reads a made-up action log of five execs on one GPU
// and checks what the anatomy says of its one slow exec and its largest
// errors.
func TestInfer5Anatomy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clockwork_action_log.tsv")
	// An exec ending at end (ms) is received 0.5 ms later, 0.7 ms after
	// its action was sent.
	row := func(id, model, batch int, expected, actual, end float64, clockBefore int) string {
		ns := func(ms float64) int64 { return int64(ms * 1e6) }
		return fmt.Sprintf("%d\t%d\t2\t0\t0\t0\t%d\t%d\t%d\t%d\t0\t200000\t1980\t%d\t1980\t0\t0\t0\t700000",
			ns(end+0.5), id, model, batch, ns(expected), ns(actual), clockBefore)
	}
	rows := []string{
		actionHeader,
		row(1, 0, 1, 1.0, 1.0, 10, 1980),
		row(2, 1, 2, 2.0, 2.0, 12.01, 1980), // 0.01 ms after
		row(3, 0, 1, 1.0, 1.1, 13.12, 1980), // slow, 0.01 ms after the other model's b2
		row(4, 0, 1, 1.1, 1.0, 20, 1980),    // over-predicted after the slow one
		row(5, 0, 1, 1.1, 1.0, 21.5, 1755),  // as over-predicted, at a lower clock
	}
	if err := os.WriteFile(path, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := readActionLog(path, 10)
	want := []string{
		"INFER5 slow execs (over 1.03 × the p50 of their model and batch size): b1 1 of 4 (25.0 %); b2 0 of 1 (0.0 %)",
		"INFER5 slow by what ran before on the GPU: b1 after other model b2 1 of 1 (100.0 %); b1 after same model b1 0 of 2 (0.0 %); b2 after other model b1 0 of 1 (0.0 %); nothing 0 of 1 (0.0 %)",
		"INFER5 slow by the GPU's idle time before: 0.05-1 ms 0 of 1 (0.0 %); first on its GPU 0 of 1 (0.0 %); over 1 ms 0 of 1 (0.0 %); under 0.05 ms 1 of 2 (50.0 %)",
		"INFER5 slow by SM clock (highest seen 1980 MHz): at 1980 MHz throughout 1 of 4 (25.0 %); below it or changing 0 of 1 (0.0 %)",
		"INFER5 the 2 largest errors (10.00 % and over): 2 over-predicted, 2 of them with a slow exec among the last 10 of the same model and batch size; 0 under-predicted, 0 of them slow execs; 1 with a clock below 1980 MHz read around them or one of the last 10",
		// Replayed, the slow exec is predicted from one measurement, and the
		// next two from the slow one and one or two usual ones: with the
		// original's estimate 1.099 ms (9.9 %) and 1.098; at the median 1.05
		// and 1.0, which leaves the slow exec itself the largest, 1/1.1.
		"INFER5 the same execs predicted again from the last N at percentile P (bench.Replay): " +
			"10 at 0.99: p99 9.90% (20.00% of the execs over theirs by more than 1%); " +
			"20 at 0.9: p99 9.09% (20.00% of the execs over theirs by more than 1%); " +
			"100 at 0.95: p99 9.50% (20.00% of the execs over theirs by more than 1%); " +
			"10 at 0.5: p99 9.09% (20.00% of the execs over theirs by more than 1%)",
	}
	if r.err != nil || r.rows != 5 || !slices.Equal(r.anatomy, want) {
		t.Errorf("err %v, %d rows; anatomy:\n%s\nwant:\n%s", r.err, r.rows, strings.Join(r.anatomy, "\n"), strings.Join(want, "\n"))
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 1000; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	d := summarize(ds)
	if d.n != 1000 || d.p50 != 500 || d.p99 != 990 || d.p999 != 999 || d.max != 1000 || d.tail() != 999.0/500 {
		t.Errorf("summary %+v", d)
	}
}

// TestIOModel checks the -overhead mode's model: ImageNet's input and
// output sizes, runnable by the CPU runtime.
func TestIOModel(t *testing.T) {
	dir := t.TempDir()
	if err := writeIOModel(dir); err != nil {
		t.Fatal(err)
	}
	out, err := cpuOutput(filepath.Join(dir, ioModel, "model"), false)
	if err != nil || len(out) != 4000 {
		t.Fatalf("CPU output of %d bytes, %v", len(out), err)
	}
}

func TestInferInput(t *testing.T) {
	raw := inferInput(3, 2, 602112, false)
	lz := inferInput(3, 2, 602112, true)
	if raw.ModelID != 3 || raw.BatchSize != 2 || len(raw.Input) != 2*602112 || raw.InputSizes != nil {
		t.Fatalf("raw input %d bytes, sizes %v", len(raw.Input), raw.InputSizes)
	}
	if len(lz.InputSizes) != 2 || int(lz.InputSizes[0]+lz.InputSizes[1]) != len(lz.Input) {
		t.Fatalf("compressed input %d bytes, sizes %v", len(lz.Input), lz.InputSizes)
	}
	// Compressed, the items are image-like: about 95 KB each, as a
	// client's; the random floats would not shrink.
	if lz.InputSizes[0] > 150_000 || lz.InputSizes[1] > 150_000 {
		t.Errorf("compressed items of %v bytes, want about 95 KB", lz.InputSizes)
	}
	item := make([]byte, 602112)
	if n, err := lz4.UncompressBlock(lz.Input[lz.InputSizes[0]:], item); err != nil || n != len(item) ||
		!bytes.Equal(item, input(2, 602112, true)[602112:]) {
		t.Fatalf("item 1 decompresses to %d bytes, %v", n, err)
	}
	if bytes.Equal(raw.Input[:602112], input(1, 602112, true)) || !bytes.Equal(raw.Input[:602112], input(1, 602112, false)) {
		t.Errorf("raw inputs are not input's random floats")
	}
}

func TestSampleLog(t *testing.T) {
	dir := t.TempDir()
	l, err := openSampleLog(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := &workerapi.InferResult{
		ActionReceived: 1_005_000,
		CopyInput:      workerapi.Timing{Begin: 1_010_000, End: 1_100_000},
		Exec:           workerapi.Timing{Begin: 1_100_000, End: 2_500_000, Duration: 1_350_000},
		CopyOutput:     workerapi.Timing{Begin: 2_500_000, End: 2_520_000}, ResultSent: 2_530_000,
		GPUClockBefore: 1980, GPUClock: 1980,
	}
	l.add("resnet50", 1, 0, &sample{sent: 1_000_000, written: 1_004_000, arrived: 2_600_000, r: r})
	l.add("resnet50", 1, 1, &sample{sent: 3_000_000, arrived: 4_000_000, r: &workerapi.InferResult{}}) // no stamps: empty fields
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "samples.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	want := []string{
		"resnet50,1,0,0.0,5.0,10.0,100.0,100.0,1500.0,1500.0,1520.0,1530.0,1600.0,1350.0,1980,1980,4.0",
		"resnet50,1,1,2000.0,,,,,,,,,3000.0,0.0,0,0,",
	}
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "model,batch,i,sent_us,") || lines[1] != want[0] || lines[2] != want[1] {
		t.Errorf("samples.csv:\n%s", b)
	}
}

// actionHeader is the controller's action-log header (telemetry.ActionLog).
const actionHeader = "t\taction_id\taction_type\tstatus\tworker_id\tgpu_id\tmodel_id\tbatch_size\t" +
	"expected_exec_duration\tworker_exec_duration\texpected_exec_complete\tworker_exec_complete\t" +
	"expected_gpu_clock\tworker_gpu_clock_before\tworker_gpu_clock\tworker_copy_output_complete\t" +
	"worker_action_received\tworker_result_sent\tcontroller_result_enqueue\tcontroller_action_duration\t" +
	"goodput\trequests_queued\tcopies_loaded"
