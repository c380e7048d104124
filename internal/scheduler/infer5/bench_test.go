package infer5_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/scheduler/infer5"
	"github.com/clockwork-go/clockwork/internal/scheduler/schedtest"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// BenchmarkCore measures the scheduler's own cost per request — admission,
// batching, dispatch and result handling — on a large cluster: 100 GPUs
// (10 workers × 10) and 1,000 models, each resident on 3 GPUs, under a
// steady Poisson stream of requests spread uniformly over the models,
// answered by simulated workers (whose cost is included). At 60,000
// requests per virtual second GPUs are 60% busy and nearly every batch is
// of one; at 150,000 they batch. Ready is called after every event, as a
// controller that never batches events would. Run it on one core:
//
//	go test -run XXX -bench Core -cpu 1 ./internal/scheduler/infer5
func BenchmarkCore(b *testing.B) {
	for _, rate := range []float64{60_000, 150_000} {
		b.Run(fmt.Sprintf("rate=%.0f", rate), func(b *testing.B) { benchmarkCore(b, rate) })
	}
}

// BenchmarkCoreInfer4 is BenchmarkCore for INFER4.
func BenchmarkCoreInfer4(b *testing.B) {
	for _, rate := range []float64{60_000, 150_000} {
		b.Run(fmt.Sprintf("rate=%.0f", rate), func(b *testing.B) { benchmarkCore(b, rate, infer5.Infer4()) })
	}
}

func benchmarkCore(b *testing.B, rate float64, opts ...infer5.Option) {
	const (
		workers, gpusPerWorker = 10, 10
		nGPUs                  = workers * gpusPerWorker
		nModels, replicas      = 1000, 3
	)
	small := schedtest.Model{
		Path: "/zoo/small/model", InputSize: 602112, OutputSize: 16, Pages: 7, Load: ms(8),
		Exec: map[int]int64{1: ms(1), 2: ms(1.4), 4: ms(2), 8: ms(3.2)},
	}
	c := schedtest.NewCluster(workers, gpusPerWorker).Pages(nModels*replicas/nGPUs*small.Pages).Model(small, nModels)
	for m := range nModels {
		for r := range replicas {
			g := (m*replicas + r) % nGPUs
			c.Resident(g/gpusPerWorker, g%gpusPerWorker, m)
		}
	}
	st := c.State()
	s, err := infer5.New(schedtest.Config(), st, opts...)
	if err != nil {
		b.Fatal(err)
	}
	answered, ok, infers, batched := 0, 0, 0, 0
	d := &schedtest.Driver{S: s, Sim: schedtest.NewSim(st),
		OnResponse: func(_ int64, r *scheduler.Response) {
			answered++
			if r.Status == 0 && r.Departure <= r.Deadline {
				ok++
			}
		},
		OnSend: func(_ int64, s scheduler.Send) {
			if in, isInfer := s.Action.(*workerapi.Infer); isInfer {
				infers++
				batched += int(in.BatchSize)
			}
		},
	}

	rng := rand.New(rand.NewPCG(1, 2))
	now := int64(0)
	run := func(n int) {
		reqs := make([]scheduler.Request, n) // the controller's allocation, not the scheduler's
		for i := range reqs {
			reqs[i] = scheduler.Request{UserRequestID: int32(i), ModelID: rng.IntN(nModels), BatchSize: 1}
		}
		b.StartTimer()
		for i := range reqs {
			now += int64(rng.ExpFloat64() * 1e9 / rate)
			d.RunUntil(now)
			d.Infer(&reqs[i])
		}
		now += ms(1000) // let everything finish
		d.RunUntil(now)
		b.StopTimer()
	}

	b.StopTimer()
	run(20_000) // reach a steady state
	answered, ok, infers, batched = 0, 0, 0, 0
	b.ResetTimer()
	run(b.N)
	if answered != b.N {
		b.Fatalf("answered %d of %d requests", answered, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	b.ReportMetric(100*float64(ok)/float64(b.N), "%goodput")
	b.ReportMetric(float64(batched)/float64(infers), "batch")
}
