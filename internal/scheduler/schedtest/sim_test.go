package schedtest

import (
	"testing"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

func TestSimRunsInfersOneAtATime(t *testing.T) {
	st := NewCluster(1, 1).Model(ResNet50(), 1).Resident(0, 0, 0).State()
	sim := NewSim(st)
	sim.Submit(0, 0, &workerapi.Infer{ID: 1, BatchSize: 3, Latest: workerapi.NoLatest, Input: []byte{1}})
	sim.Submit(0, 0, &workerapi.Infer{ID: 2, BatchSize: 1, Latest: uint64(Ms(5))})

	// The batch of 3 runs padded to 4; the second could only start after
	// it, past its latest start, and is rejected then.
	at, _, res := sim.Pop()
	r, ok := res.(*workerapi.InferResult)
	if !ok || at != Ms(7.495) || r.Exec.Duration != uint64(Ms(7.495)) || len(r.Output) != 3*4000 {
		t.Errorf("first result %v at %d, want the batch done at 7.495 ms with 3 outputs", res, at)
	}
	at, _, res = sim.Pop()
	if e, ok := res.(*workerapi.ErrorResult); !ok || e.Code != workerapi.ExecTooLate || at != Ms(7.495) {
		t.Errorf("second result %v at %d, want the late Infer rejected at 7.495 ms", res, at)
	}
}

func TestSimWeights(t *testing.T) {
	st := NewCluster(1, 1).Pages(10).Model(ResNet50(), 2).State()
	sim := NewSim(st)
	sim.SetClock(0, 0, 690)

	sim.Submit(0, 0, &workerapi.LoadWeights{ID: 1, ModelID: 0, Latest: workerapi.NoLatest})
	sim.Submit(0, 0, &workerapi.LoadWeights{ID: 2, ModelID: 1, Latest: workerapi.NoLatest}) // no room
	sim.Submit(0, 0, &workerapi.Infer{ID: 3, ModelID: 0, BatchSize: 1, Latest: workerapi.NoLatest})
	for range 3 {
		_, _, res := sim.Pop()
		switch res.ActionID() {
		case 1:
			if res.Status() != 0 || !sim.Resident(0, 0, 0) {
				t.Errorf("load: %v, want success", res)
			}
		case 2:
			if res.Status() != workerapi.LoadWeightsInsufficientCache {
				t.Errorf("second load: %v, want 53", res)
			}
		case 3:
			if res.Status() != workerapi.ExecWeightsMissing {
				t.Errorf("Infer before the load: %v, want 82", res)
			}
		}
	}

	sim.Submit(Ms(20), 0, &workerapi.Infer{ID: 4, ModelID: 0, BatchSize: 1, Latest: workerapi.NoLatest})
	sim.Submit(Ms(21), 0, &workerapi.EvictWeights{ID: 5, ModelID: 0, Latest: workerapi.NoLatest})
	_, _, evict := sim.Pop()
	_, _, infer := sim.Pop()
	if evict.Status() != 0 || infer.Status() != workerapi.ExecConcurrentWeightsModification {
		t.Errorf("evict during exec: %v then %v, want success then 84", evict, infer)
	}
}

func TestDriverTicksAtWakeTimes(t *testing.T) {
	var ticks []int64
	s := &fakeScheduler{wakes: []int64{Ms(3), Ms(7)}, ticked: &ticks}
	d := &Driver{S: s}
	d.Flush()
	d.RunUntil(Ms(10))
	if len(ticks) != 2 || ticks[0] != Ms(3) || ticks[1] != Ms(7) || d.Now != Ms(10) {
		t.Errorf("ticks %v, now %d; want ticks at 3 and 7 ms, now 10 ms", ticks, d.Now)
	}
}

// TestSimLoseAndRestart: losing worker 1 turns its pending result into
// the controller's error and leaves worker 0's alone; a restart empties
// its GPUs, and a GPU that breaks fails what it would have finished.
func TestSimLoseAndRestart(t *testing.T) {
	st := NewCluster(2, 1).Model(ResNet50(), 1).Resident(0, 0, 0).Resident(1, 0, 0).State()
	sim := NewSim(st)
	sim.Submit(0, 0, &workerapi.Infer{ID: 1, BatchSize: 1, Latest: workerapi.NoLatest})
	sim.Submit(0, 1, &workerapi.Infer{ID: 2, BatchSize: 1, Latest: workerapi.NoLatest})
	lost := sim.Lose(1)
	if len(lost) != 1 || lost[0].ActionID() != 2 || lost[0].Status() != workerapi.ErrRuntimeError {
		t.Errorf("lost %v, want action 2's error", lost)
	}
	if _, w, res := sim.Pop(); w != 0 || res.ActionID() != 1 || res.Status() != 0 {
		t.Errorf("worker %d's %v, want worker 0's action 1 done", w, res)
	}
	if _, ok := sim.Next(); ok {
		t.Error("a result is left")
	}
	sim.Restart(1, 2)
	if sim.Resident(1, 0, 0) || sim.Resident(1, 1, 0) {
		t.Error("worker 1 holds the model after its restart")
	}
	sim.Break(0, 0, Ms(1))
	sim.Submit(Ms(2), 0, &workerapi.Infer{ID: 3, BatchSize: 1, Latest: workerapi.NoLatest})
	if _, _, res := sim.Pop(); res.Status() != workerapi.ErrGPUUnusable {
		t.Errorf("an Infer on the broken GPU: %v, want status 14", res)
	}
}
