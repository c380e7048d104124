package infer5

import (
	"math/rand/v2"
	"testing"
)

func TestSLOsWorkedExample(t *testing.T) {
	// spec/controller.md §4.5: default SLO 100 ms, schedule_ahead 10 ms,
	// b1 3.3 ms, weights 8.4 ms.
	for _, tc := range []struct {
		factor                float32
		slo, exec, loadWeight int64
	}{
		{0, 100 * ms, 95 * ms, 25 * ms},
		{2, 6.6 * ms, 15 * ms, 15 * ms}, // floored at schedule_ahead + 5 ms
		{1e-9, 0, 15 * ms, 15 * ms},
	} {
		slo, exec, lw := slos(100*ms, 10*ms, 3.3*ms, 8.4*ms, tc.factor)
		if slo != tc.slo || exec != tc.exec || lw != tc.loadWeight {
			t.Errorf("factor %g: slo %d exec %d weights %d, want %d %d %d", tc.factor, slo, exec, lw, tc.slo, tc.exec, tc.loadWeight)
		}
	}
}

func TestReadyAtMatchesAvailable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for range 10000 {
		tr := newWorkerTracker()
		now := rng.Int64N(100 * ms)
		for i := range rng.IntN(4) {
			tr.add(int32(i), rng.Int64N(20*ms), now-rng.Int64N(40*ms))
		}
		if rng.IntN(2) == 0 {
			tr.setClock(uint32(700 + rng.IntN(1400)))
		}
		horizon := 2*ms + rng.Int64N(15*ms)
		ready := func(t int64) bool { return tr.available(t) < t+horizon }

		switch got := tr.readyAt(now, horizon); {
		case got == never:
			for _, later := range []int64{now + 100*ms, now + 10_000*ms} {
				if ready(later) {
					t.Fatalf("readyAt says never, but the tracker frees by %d", later)
				}
			}
		case got < now || !ready(got) || (got > now && ready(got-1)):
			t.Fatalf("readyAt %d at %d is not the first time the tracker frees", got, now)
		}
	}
}

func TestLoadDemandExpires(t *testing.T) {
	lt := newLoadTracker(1, 1, 100*ms, true)
	lt.addRequest(0, 3*ms, 95*ms, 25*ms)
	lt.update(0)
	if !lt.wantsLoad() {
		t.Fatal("a request for a model on no GPU creates no load demand")
	}
	lt.update(25 * ms)
	if !lt.wantsLoad() {
		t.Fatal("load demand expired before its deadline")
	}
	// The original recorded a size of zero here, so demand never expired.
	lt.update(25*ms + 1)
	if lt.wantsLoad() || lt.models[0].outstandingLoad != 0 {
		t.Errorf("load demand %d outstanding after its deadline", lt.models[0].outstandingLoad)
	}
	if lt.models[0].empty {
		t.Error("exec demand vanished with the load demand")
	}
}

func TestLoadDemandIsCreditedOnce(t *testing.T) {
	lt := newLoadTracker(1, 1, 100*ms, true)
	d := lt.addRequest(0, 3*ms, 95*ms, 25*ms)
	lt.update(0)
	lt.executing(0, &d, 0) // starts before its load deadline...
	lt.update(ms)
	lt.update(30 * ms) // ...which then passes
	if got := lt.models[0].outstandingLoad; got != 0 {
		t.Errorf("outstanding load %d, want 0", got)
	}
	lt.completed(0, &d, 0)
	lt.update(31 * ms)
	if m := lt.models[0]; !m.empty || m.outstandingExec != 0 {
		t.Errorf("model not empty after its request completed: %+v", m)
	}
}

// TestLackingCounts drives a load tracker at random, in both modes, and
// checks after every step that each GPU's count of the wanted models it
// lacks, which lets a load query return at once, is what a scan finds, and
// that the query agrees with a scan.
func TestLackingCounts(t *testing.T) {
	for _, guard := range []bool{false, true} {
		rng := rand.New(rand.NewPCG(3, uint64(len(t.Name()))))
		lt := newLoadTracker(3, 12, 100*ms, guard)
		var ds []demand
		var models []int
		now := int64(0)
		for step := range 5000 {
			now += int64(rng.IntN(3)) * ms
			m, g := rng.IntN(len(lt.models)), rng.IntN(len(lt.gpus))
			switch rng.IntN(8) {
			case 0, 1:
				ds = append(ds, lt.addRequest(m, 3*ms, 95*ms, 25*ms))
				models = append(models, m)
			case 2:
				if len(ds) > 0 {
					i := rng.IntN(len(ds))
					lt.completed(models[i], &ds[i], g)
				}
			case 3:
				if id := lt.choose(g); id >= 0 {
					lt.loadModel(id, g)
				}
			case 4:
				if len(lt.gpus[g].models) > 0 {
					lt.loadComplete(int(lt.gpus[g].models[0]), g, rng.IntN(4) > 0)
				}
			case 5:
				lt.evictModel(g)
			case 6:
				if rng.IntN(50) == 0 {
					lt.dropGPU(g)
				}
			case 7:
				if rng.IntN(200) == 0 && len(lt.gpus) < 6 {
					lt.growGPUs()
				}
			}
			lt.update(now)
			for g := range lt.gpus {
				lacking, best := 0, -1
				for _, id := range lt.wanted {
					if !lt.models[id].present[g] {
						lacking++
						best = int(id)
					}
				}
				if lt.gpus[g].lacking != lacking {
					t.Fatalf("guard %v, step %d: GPU %d counts %d wanted models lacking, a scan %d", guard, step, g, lt.gpus[g].lacking, lacking)
				}
				if (best < 0) != (lt.choose(g) < 0) {
					t.Fatalf("guard %v, step %d: GPU %d: choose %d, a scan finds %d", guard, step, g, lt.choose(g), best)
				}
			}
		}
	}
}
