package worker_test

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/clockwork-go/clockwork/internal/model"
	"github.com/clockwork-go/clockwork/internal/modelgen"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/cpu"
	"github.com/clockwork-go/clockwork/internal/runtime/sim"
	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/worker"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// BenchmarkServerInfer measures one Infer round trip through a Server over
// loopback TCP, one at a time, and reports the garbage each leaves: on the
// CPU runtime (the real worker's path: an input stage, operations run off
// the engine's goroutine) with the small mlp model, and on the simulated
// runtime of worker_dummy with a model whose execs take no time, without
// and with the metrics counted (--metrics).
// Allocations are the whole process's, the client's side included.
func BenchmarkServerInfer(b *testing.B) {
	b.Run("cpu", func(b *testing.B) {
		rt, err := cpu.New(cpu.Config{CacheBytes: 64 << 20, Workers: 1})
		if err != nil {
			b.Fatal(err)
		}
		prefix, err := modelgen.Write(b.TempDir(), "mlp")
		if err != nil {
			b.Fatal(err)
		}
		benchmarkInfers(b, rt, prefix, false)
	})
	b.Run("sim", func(b *testing.B) {
		benchmarkInfers(b, sim.New(1), instantModel(b), false)
	})
	b.Run("sim-metrics", func(b *testing.B) {
		benchmarkInfers(b, sim.New(1), instantModel(b), true)
	})
}

// instantModel writes a simulated model whose operations take no time.
func instantModel(b *testing.B) string {
	p := model.Prefix(b.TempDir())
	spec := model.Spec{InputSize: 100, OutputSize: 10, WeightsSize: 1 << 20, WeightsPages: 1,
		PageSize: model.PageSize, BatchSizes: []int{1}}
	meas := model.Measurements{HasWeights: true, Exec: map[int]uint64{1: 0}}
	if err := spec.Write(p); err != nil {
		b.Fatal(err)
	}
	if err := meas.Write(p); err != nil {
		b.Fatal(err)
	}
	return p
}

func benchmarkInfers(b *testing.B, rt runtime.Runtime, prefix string, metrics bool) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := worker.NewServer(worker.Config{PageSize: 16 << 20, Pages: 4}, rt, worker.Options{Console: io.Discard, Metrics: metrics})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	defer func() {
		cancel()
		<-served
	}()
	nc, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	c := wire.NewConn(nc)
	defer c.Close()
	call := func(a workerapi.Action) workerapi.Result {
		msg, err := workerapi.EncodeAction(a)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Send(msg); err != nil {
			b.Fatal(err)
		}
		reply, err := c.Receive()
		if err != nil {
			b.Fatal(err)
		}
		r, err := workerapi.DecodeResult(reply)
		if err != nil {
			b.Fatal(err)
		}
		if r.Status() != workerapi.Success {
			b.Fatalf("%T: status %d: %v", a, r.Status(), r)
		}
		return r
	}
	load := call(&workerapi.LoadModelFromDisk{ID: 1, Path: prefix, Latest: workerapi.NoLatest, Copies: 1, MaxBatchSize: 1, MaxExecDuration: 1 << 62}).(*workerapi.LoadModelFromDiskResult)
	call(&workerapi.LoadWeights{ID: 2, Latest: workerapi.NoLatest})
	input := make([]byte, load.InputSize)
	infer := &workerapi.Infer{BatchSize: 1, Latest: workerapi.NoLatest, Input: input}
	b.SetBytes(int64(len(input)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		infer.ID = int32(3 + i)
		call(infer)
	}
}
