package main

import (
	"encoding/binary"
	"math"
	"math/rand/v2"

	cwclient "github.com/clockwork-go/clockwork/client"
	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/engine"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/cpu"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// input is a batch of b items of n bytes, item k the same in every batch:
// float32s in [-1, 1), or with images, values that LZ4 compresses as it
// does a photo (client.ImageInput: a ResNet input to about 95 KB), what a
// client sends.
func input(b int, n uint64, images bool) []byte {
	out := make([]byte, 0, uint64(b)*n)
	for k := range b {
		r := rand.New(rand.NewPCG(uint64(k), 42))
		if images {
			out = append(out, cwclient.ImageInput(r, n)...)
			continue
		}
		item := make([]byte, n)
		for i := uint64(0); i+4 <= n; i += 4 {
			binary.LittleEndian.PutUint32(item[i:], math.Float32bits(float32(r.Float64()*2-1)))
		}
		out = append(out, item...)
	}
	return out
}

// inferInput is the Infer of a batch of b items of n bytes: raw random
// floats, or with compressed, image-like items LZ4-compressed one by one,
// as a client sends them and the controller forwards them to a worker.
func inferInput(id int32, b int, n uint64, compressed bool) workerapi.Infer {
	a := workerapi.Infer{ModelID: id, Latest: latest, BatchSize: uint32(b), Input: input(b, n, compressed)}
	if compressed {
		raw := a.Input
		a.Input = nil
		for i := range b {
			item := cwclient.Compress(raw[uint64(i)*n : uint64(i+1)*n])
			a.Input = append(a.Input, item...)
			a.InputSizes = append(a.InputSizes, uint32(len(item)))
		}
	}
	return a
}

// cpuOutput runs batch size 1 of the model at path on the CPU runtime, the
// numerical reference, with the item input(1, …, images) gives the GPU.
func cpuOutput(path string, images bool) ([]byte, error) {
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
	io, _, err := m.CopyInput(0, 1, 1, input(1, info.InputSize, images), clock.Now())
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
