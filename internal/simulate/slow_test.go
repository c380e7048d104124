package simulate

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/bench"
	simrt "github.com/clockwork-go/clockwork/internal/runtime/sim"
)

// TestSlowExecs: with 1 % of the execs 4–10 % slow, as on the H200, the
// original estimate's p99 prediction error lands where the H200's did
// (7–8 %); bench.Replay of the run's own estimate gives the run's
// predictions back, and a run with Estimates(20, 0.9) stays under 5 %, as
// its replay on the first run's log said it would.
func TestSlowExecs(t *testing.T) {
	z := zoo(t)
	run := func(window int, p float64) []bench.ActionRow {
		res, err := Run(context.Background(), Config{
			Controller: Controller{Type: "INFER5", EstimateWindow: window, EstimatePercentile: p},
			SlowExecs:  simrt.SlowExecs{Share: 0.01, Min: 0.04, Max: 0.10},
			Workload:   "comparison_experiment2", Args: []string{"3", "4"},
			ModelDir: z, Duration: 20 * time.Second, LogDir: t.TempDir(), Seed: 3,
		})
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(res.ActionLog)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var rows []bench.ActionRow
		if err := bench.ReadActionLog(f, func(r bench.ActionRow) { rows = append(rows, r) }); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	original := run(10, 0.99)
	live := bench.Predictions(original)
	if live.Infers < 2000 || live.P99 < 0.06 || live.P99 > 0.10 {
		t.Errorf("the original estimate: %+v; want p99 between 6 and 10 %% over thousands of Infers", live)
	}
	if replay := bench.Replay(original, bench.Estimate{Size: 10, P: 0.99}); replay != live {
		t.Errorf("replaying the run's own estimate: %+v, want the run's %+v", replay, live)
	}
	replay := bench.Replay(original, bench.Estimate{Size: 20, P: 0.9})
	other := bench.Predictions(run(20, 0.9))
	if replay.P99 >= 0.05 || other.P99 >= 0.05 {
		t.Errorf("estimates of 20 at 0.9: replayed p99 %.2f %%, run %.2f %%; want both under 5 %%", 100*replay.P99, 100*other.P99)
	}
	t.Logf("p99: original %.2f %%; 20 at 0.9 replayed %.2f %%, run %.2f %%", 100*live.P99, 100*replay.P99, 100*other.P99)
}
