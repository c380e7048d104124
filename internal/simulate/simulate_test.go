package simulate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/bench"
	"github.com/clockwork-go/clockwork/internal/model"
)

// zoo writes the simulated model zoo once per test binary.
func zoo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "zoo")
	if _, err := model.WriteSimulatedZoo(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fig5 is a short Figure 5 run: 15 resnet50_v2 copies, 16 closed-loop
// requests each, on one simulated V100.
func fig5(zoo, logs, typ string, slo time.Duration) Config {
	return Config{
		Controller: Controller{Type: typ, DefaultSLO: int64(slo), ScheduleAhead: 10e6, MaxGPUs: 1, MaxBatch: 16},
		Workload:   "comparison_experiment2", Args: []string{"15", "16"},
		ModelDir: zoo, Duration: 5 * time.Second, LogDir: logs,
	}
}

func TestFig5Invariants(t *testing.T) {
	z := zoo(t)
	for _, tc := range []struct {
		typ string
		slo time.Duration
	}{{"INFER5", 100 * time.Millisecond}, {"INFER5", 25 * time.Millisecond}, {"BASELINE", 25 * time.Millisecond}} {
		t.Run(tc.typ+"-"+tc.slo.String(), func(t *testing.T) {
			logs := t.TempDir()
			res, err := Run(context.Background(), fig5(z, logs, tc.typ, tc.slo))
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests == 0 || res.Answered != res.Requests || res.Duplicates != 0 {
				t.Fatalf("requests %d, answered %d, duplicates %d", res.Requests, res.Answered, res.Duplicates)
			}
			f, err := os.Open(res.RequestLog)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, err := bench.Analyze(f, bench.Window{})
			if err != nil {
				t.Fatal(err)
			}
			if st.Answered != res.Answered {
				t.Errorf("request log has %d rows, %d answered", st.Answered, res.Answered)
			}
			// INFER5 may serve a request up to schedule_ahead + 5 ms after
			// its arrival whatever its SLO (spec/controller.md §4.5), so
			// only SLOs above that floor are never late.
			if tc.typ == "INFER5" && st.Late != 0 {
				t.Errorf("INFER5 answered %d requests successfully after their deadline", st.Late)
			}
			if st.Successes == 0 {
				t.Errorf("no successes: %+v", st)
			}
			t.Logf("%d requests, goodput %.0f r/s, throughput %.0f r/s, p99 %v", res.Requests, st.Goodput, st.Throughput, st.P99)
		})
	}
}

func TestDeterministic(t *testing.T) {
	z := zoo(t)
	var logs [2][]byte
	for i := range logs {
		dir := t.TempDir()
		cfg := fig5(z, dir, "INFER5", 25*time.Millisecond)
		cfg.Duration = 2 * time.Second
		cfg.Inputs = true
		if _, err := Run(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{RequestLogName, ActionLogName} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			logs[i] = append(logs[i], b...)
		}
	}
	if !bytes.Equal(logs[0], logs[1]) {
		t.Error("two runs with the same seed wrote different logs")
	}
}

// TestSmallCaches runs an open-loop workload on two workers of two GPUs
// whose weights caches hold two models each, so that weights are loaded
// and evicted while requests are served.
func TestSmallCaches(t *testing.T) {
	z := zoo(t)
	cfgFile := filepath.Join(t.TempDir(), "worker.cfg")
	if err := os.WriteFile(cfgFile, []byte("WorkerConfig: { memory_settings: { weights_cache_size = 268435456L; }; };"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{"INFER5", "BASELINE"} {
		t.Run(typ, func(t *testing.T) {
			res, err := Run(context.Background(), Config{
				Controller: Controller{Type: typ},
				Workers:    2, GPUs: 2, WorkerConfigFile: cfgFile,
				Workload: "comparison_experiment", Args: []string{"12", "600"},
				ModelDir: z, Duration: 3 * time.Second, LogDir: t.TempDir(), Seed: 7,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests == 0 || res.Answered != res.Requests {
				t.Fatalf("requests %d, answered %d", res.Requests, res.Answered)
			}
			f, err := os.Open(res.RequestLog)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, err := bench.Analyze(f, bench.Window{})
			if err != nil {
				t.Fatal(err)
			}
			if typ == "INFER5" && st.Late != 0 {
				t.Errorf("INFER5 answered %d requests successfully after their deadline", st.Late)
			}
			actions, err := os.ReadFile(res.ActionLog)
			if err != nil {
				t.Fatal(err)
			}
			if loads := bytes.Count(actions, []byte("\t1\t0\t")); loads <= 8 {
				t.Errorf("%d successful weight loads for 12 models on 4 GPUs of 2 slots", loads)
			}
			t.Logf("%d requests, goodput %.0f r/s, statuses %v", res.Requests, st.Goodput, st.Statuses)
		})
	}
}

// TestLostWorkers runs `simple` on two workers with a GPU each: worker 1
// is lost at 10 s and a new process rejoins at 20 s; worker 0 is lost at
// 25 s. Every request is answered once, and in the windows after each
// loss nearly all succeed: the lost worker's model loads onto the other
// GPU, and after the second loss the rejoined worker serves everything.
func TestLostWorkers(t *testing.T) {
	z := zoo(t)
	for _, typ := range []string{"INFER5", "BASELINE"} {
		t.Run(typ, func(t *testing.T) {
			var console bytes.Buffer
			res, err := Run(context.Background(), Config{
				Controller: Controller{Type: typ}, Workers: 2, Workload: "simple", ModelDir: z,
				Duration: 35 * time.Second, LogDir: t.TempDir(), Console: &console,
				Losses: []Loss{{Worker: 1, At: 10 * time.Second, Rejoin: 20 * time.Second}, {Worker: 0, At: 25 * time.Second}},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests == 0 || res.Answered != res.Requests || res.Duplicates != 0 {
				t.Fatalf("requests %d, answered %d, duplicates %d", res.Requests, res.Answered, res.Duplicates)
			}
			for _, want := range []string{"Lost connection to worker 1", "W1-GPU0 is down (connection to its worker lost)",
				"Worker 1 rejoined with 1 GPUs", "W1-GPU0 is back in service", "Lost connection to worker 0"} {
				if !bytes.Contains(console.Bytes(), []byte(want)) {
					t.Errorf("console lacks %q", want)
				}
			}
			for _, w := range []struct{ from, to time.Duration }{{11 * time.Second, 20 * time.Second}, {26 * time.Second, 35 * time.Second}} {
				f, err := os.Open(res.RequestLog)
				if err != nil {
					t.Fatal(err)
				}
				st, err := bench.Analyze(f, bench.Window{Warmup: w.from, End: res.Start + int64(w.to)})
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				if ok := float64(st.Successes) / float64(st.Answered); st.Answered == 0 || ok < 0.99 {
					t.Errorf("from %v to %v: %d of %d requests succeeded (statuses %v)", w.from, w.to, st.Successes, st.Answered, st.Statuses)
				}
				t.Logf("from %v to %v: %d of %d requests succeeded, %.0f r/s", w.from, w.to, st.Successes, st.Answered, st.Throughput)
			}
		})
	}
}
