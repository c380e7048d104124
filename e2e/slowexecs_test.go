package e2e

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/bench"
)

// TestDummySlowExecs runs worker_dummy with a fifth of its execs half as
// long again as profiled, behind INFER5 estimating from the median of the
// last 20: the action log shows the slow execs, and the predictions keep
// to the usual time rather than following them. The slow execs fall at
// random, and a median of 20 moves where 10 of them are slow (in about 5 %
// of runs; the test counted predictions off the usual time and failed
// past 5 % of them, about one run in 50): a prediction must be the usual
// time where at most 8 of the 21 execs before it were slow, which leaves
// the median the usual time whichever 20 of them the estimate held.
func TestDummySlowExecs(t *testing.T) {
	logs := t.TempDir()
	_, wport := startWorker(t, "-n", "1", "--slow_execs", "20%:50%-50%")
	c := start(t, nil, "controller", "-port", "0", "-log-dir", logs, "INFER5", "localhost:"+wport,
		"-estimate-window", "20", "-estimate-percentile", "0.5")
	cport := c.waitFor(`IO service thread listening for clients on 0\.0\.0\.0:(\d+)`, 10*time.Second)[1]
	ms := loadAndServe(t, cport, filepath.Join(zoo, "resnet50_v2", "model"), 1)
	serve(t, ms, 90)
	c.Stop()

	f, err := os.Open(filepath.Join(logs, "clockwork_action_log.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []bench.ActionRow
	if err := bench.ReadActionLog(f, func(r bench.ActionRow) {
		if r.PredictedInfer() && r.Batch == 1 {
			rows = append(rows, r)
		}
	}); err != nil {
		t.Fatal(err)
	}
	usual := rows[0].Expected // the profile's b1
	isSlow := make([]bool, len(rows))
	for i, r := range rows {
		switch r.Actual {
		case usual:
		case usual + usual/2:
			isSlow[i] = true
		default:
			t.Fatalf("an exec of %d ns, profiled %d", r.Actual, usual)
		}
	}
	slow, checked, followed := 0, 0, 0
	for i, r := range rows {
		if isSlow[i] {
			slow++
		}
		if i < 21 {
			continue
		}
		before := 0
		for _, s := range isSlow[i-21 : i] {
			if s {
				before++
			}
		}
		if before <= 8 {
			checked++
			if r.Expected != usual {
				followed++
			}
		}
	}
	if len(rows) < 90 || slow < len(rows)/10 || slow > len(rows)*3/10 {
		t.Errorf("%d of %d b1 execs slow, want about a fifth", slow, len(rows))
	}
	if checked < 40 || followed > 0 {
		t.Errorf("%d of %d predictions with at most 8 slow execs among the 21 before off the usual %d ns: the median of the last 20 followed the slow execs",
			followed, checked, usual)
	}
}
