package controller_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clockwork-go/clockwork/client"
	"github.com/clockwork-go/clockwork/internal/controller"
	"github.com/clockwork-go/clockwork/internal/controllercmd"
	"github.com/clockwork-go/clockwork/internal/model"
	"github.com/clockwork-go/clockwork/internal/runtime/sim"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/worker"
)

// BenchmarkController measures a request's whole way through a controller
// over loopback: the client's Infer, the scheduler's decision, the Infer
// action to the worker, its result, and the response, with a number of
// requests outstanding. The worker is worker_dummy's (the simulated
// runtime, 8 GPUs) serving 8 copies of a model whose execs take 20 µs an
// item, so that the GPUs are not what limits it. Client, controller and
// worker share this process and its cores: ns/op is the wall time per
// request at that concurrency (the inverse of the throughput), an upper
// bound on the controller's own cost.
//
//	go test -run XXX -bench Controller -benchtime 20000x ./internal/controller
func BenchmarkController(b *testing.B) {
	for _, typ := range []string{"ECHO", "INFER5", "INFER4", "BASELINE"} {
		for _, outstanding := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/outstanding=%d", typ, outstanding), func(b *testing.B) {
				benchmarkController(b, typ, outstanding)
			})
		}
	}
}

func benchmarkController(b *testing.B, typ string, outstanding int) {
	const gpus, copies = 8, 8
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()

	wl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := worker.NewServer(worker.Config{PageSize: model.PageSize, Pages: 16}, sim.New(gpus), worker.Options{Console: io.Discard})
	wg.Add(1)
	go func() {
		defer wg.Done()
		srv.Serve(ctx, wl)
	}()

	args, err := controllercmd.Parse([]string{typ, wl.Addr().String()})
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := args.SchedulerConfig(io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	clientAddr := freeAddr(b)
	ran := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		ran <- controller.Run(ctx, controller.Options{
			Workers: []string{wl.Addr().String()}, ClientAddr: clientAddr, Console: io.Discard,
			NewScheduler: func(st *scheduler.State) (scheduler.Scheduler, error) { return args.NewScheduler(cfg, st) },
			MaxBatch:     uint32(cfg.MaxBatch), MaxExec: uint64(cfg.MaxExec),
		})
	}()

	c := connect(b, clientAddr, ran)
	defer c.Close()
	models, err := c.LoadRemoteModels(fastModel(b), copies)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.AwaitReady(ctx, nil); err != nil {
		b.Fatal(err)
	}
	input := make([]byte, models[0].InputSize())
	// Warm up: every copy served once, so that its weights are on a GPU.
	for _, m := range models {
		if _, err := inferRetrying(m, input); err != nil {
			b.Fatal(err)
		}
	}

	var failed atomic.Int64
	var firstErr atomic.Value
	slots := make(chan struct{}, outstanding)
	var done sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		slots <- struct{}{}
		done.Add(1)
		models[i%copies].InferAsync(input, false, func(_ []byte, err error) {
			if err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err)
			}
			<-slots
			done.Done()
		})
	}
	done.Wait()
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed, the first: %v", n, b.N, firstErr.Load())
	}
}

// inferRetrying runs one Infer, again while the controller answers that
// the model's weights are not loaded in time (the first request for a
// model waits for its load).
func inferRetrying(m *client.Model, input []byte) ([]byte, error) {
	var err error
	for range 50 {
		var out []byte
		if out, err = m.Infer(input); err == nil {
			return out, nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil, err
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(b *testing.B) string {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// connect dials the controller at addr until it listens (or ran says it
// ended).
func connect(b *testing.B, addr string, ran <-chan error) *client.Client {
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := client.Connect(addr)
		if err == nil {
			return c
		}
		select {
		case err := <-ran:
			b.Fatalf("the controller ended: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			b.Fatal(errors.Join(errors.New("the controller did not listen"), err))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fastModel writes a simulated model whose execs take 20 µs an item, at
// batch sizes 1 to 16, with ImageNet-sized outputs' tenth.
func fastModel(b *testing.B) string {
	p := model.Prefix(b.TempDir())
	spec := model.Spec{InputSize: 1000, OutputSize: 400, WeightsSize: 1 << 20, WeightsPages: 1,
		PageSize: model.PageSize, BatchSizes: []int{1, 2, 4, 8, 16}}
	meas := model.Measurements{HasWeights: true, Weights: 100e3, Exec: map[int]uint64{}}
	for _, bs := range spec.BatchSizes {
		meas.Exec[bs] = uint64(bs) * 20e3
	}
	if err := spec.Write(p); err != nil {
		b.Fatal(err)
	}
	if err := meas.Write(p); err != nil {
		b.Fatal(err)
	}
	return p
}
