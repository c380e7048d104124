package main

import (
	"encoding/binary"
	"math"
	"math/rand/v2"

	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/cpu"
)

// input is a batch of b items of n bytes: float32s in [-1, 1), item k the
// same in every batch.
func input(b int, n uint64) []byte {
	out := make([]byte, 0, uint64(b)*n)
	for k := range b {
		r := rand.New(rand.NewPCG(uint64(k), 42))
		item := make([]byte, n)
		for i := uint64(0); i+4 <= n; i += 4 {
			binary.LittleEndian.PutUint32(item[i:], math.Float32bits(float32(r.Float64()*2-1)))
		}
		out = append(out, item...)
	}
	return out
}

// cpuOutput runs batch size 1 of the model at path on the CPU runtime, the
// numerical reference, with the item input(1, …) gives the GPU.
func cpuOutput(path string) ([]byte, error) {
	rt, err := cpu.New(cpu.Config{PageSize: engine.DefaultPageSize, CacheBytes: 1 << 40, SkipMeasure: true})
	if err != nil {
		return nil, err
	}
	defer rt.Close()
	m, err := rt.Load(path, runtime.LoadOptions{MaxBatch: 1, MaxExec: math.MaxUint64, PageSize: engine.DefaultPageSize})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	info := m.Info()
	pages := make([]int, info.NumPages)
	for i := range pages {
		pages[i] = i
	}
	if _, err := m.LoadWeights(0, pages, clock.Now()); err != nil {
		return nil, err
	}
	io, _, err := m.CopyInput(0, 1, 1, input(1, info.InputSize), clock.Now())
	if err != nil {
		return nil, err
	}
	defer m.Release(0, io)
	if _, err := m.Exec(0, io, pages, clock.Now()); err != nil {
		return nil, err
	}
	out := make([]byte, info.OutputSize)
	_, err = m.CopyOutput(0, io, out, clock.Now())
	return out, err
}
