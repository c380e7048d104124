package cpuexec_test

import (
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/engine/cpuexec"
)

// TestProfile times a two-op plan by a clock whose readings are 0, 1, 3,
// 6, …: the reading after the kth is k further on, so op i's time in
// round r is 2(2r + i) + 1 ns, and over 4 rounds op 0 takes 1, 5, 9, 13
// (median 7) and op 1 3, 7, 11, 15 (median 9). The plan runs for real.
func TestProfile(t *testing.T) {
	x := engine.TensorRef{Region: engine.IO, Shape: []int{1, 4}}
	ws := engine.TensorRef{Region: engine.Workspace, Shape: []int{1, 4}}
	y := engine.TensorRef{Region: engine.IO, Offset: 16, Shape: []int{1, 4}}
	plan := &engine.Plan{Batch: 1, IOBytes: 32, WorkspaceBytes: 16, Ops: []engine.Op{
		&engine.Activate{Nodes: "neg", X: x, Y: ws, Act: engine.Activation{Kind: engine.ActNeg}},
		&engine.Activate{Nodes: "relu", X: ws, Y: y, Act: engine.Activation{Kind: engine.ActRelu}},
	}}
	e, err := cpuexec.New(plan, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := cpuexec.NewWorkers(2)
	defer w.Close()
	var reading, step int64
	now := func() int64 {
		r := reading
		step++
		reading += step
		return r
	}
	io := make([]byte, 32)
	putFloats(io, []float32{1, -2, 3, -4})
	mem := cpuexec.Memory{IO: io, Workspace: make([]byte, 16)}
	times, err := e.Profile(w, mem, 4, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		nodes        string
		best, median time.Duration
	}{{"neg", 1, 7}, {"relu", 3, 9}}
	if len(times) != len(want) {
		t.Fatalf("%d times for %d ops", len(times), len(want))
	}
	for i, w := range want {
		if got := times[i]; got.Op.Source() != w.nodes || got.Best != w.best || got.Median != w.median {
			t.Errorf("op %d: %s best %v median %v, want %s %v %v", i, got.Op.Source(), got.Best, got.Median, w.nodes, w.best, w.median)
		}
	}
	compare(t, "y", getFloats(io[16:], 4), []float32{0, 2, 0, 4})

	if _, err := e.Profile(w, mem, 0, now); err == nil {
		t.Error("a profile of 0 rounds succeeded")
	}
	if _, err := e.Profile(w, cpuexec.Memory{IO: io[:31], Workspace: make([]byte, 16)}, 1, now); err == nil {
		t.Error("a profile with a short IO buffer succeeded")
	}
}
