package scheduler

import (
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/pierrec/lz4/v4"

	"github.com/clockwork-go/clockwork/internal/wire"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// WorkerFromMemory is the startup state of worker id from its answer to
// GetWorkerState.
func WorkerFromMemory(id int, m *workerapi.WorkerMemoryInfo) Worker {
	w := Worker{ID: id}
	for _, g := range m.GPUs {
		gs := GPU{ID: int(g.ID), WeightsCacheSize: g.WeightsCacheSize, TotalPages: int(g.WeightsCacheTotalPages)}
		for _, mid := range g.Models {
			gs.LoadedModels = append(gs.LoadedModels, int(mid))
		}
		w.GPUs = append(w.GPUs, gs)
	}
	for _, mi := range m.Models {
		md := Model{
			ID: int(mi.ID), Path: mi.Source, InputSize: mi.InputSize, OutputSize: mi.OutputSize,
			WeightsSize: mi.WeightsSize, NumWeightsPages: int(mi.NumWeightsPages), // the raw size, as the original prints it
			WeightsTransfer: int64(mi.WeightsLoadTime),
		}
		md.BatchSizes, md.ExecDurations = batches(mi.InputSize, mi.OutputSize, mi.BatchSizes, mi.ExecTimes)
		w.Models = append(w.Models, md)
	}
	return w
}

// ModelsFromLoad are the models a LoadModelFromDisk result created, with
// ids first, first+1, …. They share their lists of batch sizes and exec
// times, which nothing changes.
func ModelsFromLoad(first int, path string, r *workerapi.LoadModelFromDiskResult) []Model {
	out := make([]Model, 0, r.CopiesCreated)
	bs, ts := batches(r.InputSize, r.OutputSize, r.BatchSizes, r.ExecTimes)
	bs, ts = slices.Clip(bs), slices.Clip(ts)
	for j := range int(r.CopiesCreated) {
		out = append(out, Model{
			ID: first + j, Path: path, InputSize: r.InputSize, OutputSize: r.OutputSize,
			WeightsSize: r.WeightsSizeInCache, NumWeightsPages: int(r.NumWeightsPages),
			WeightsTransfer: int64(r.WeightsLoadTime), BatchSizes: bs, ExecDurations: ts,
		})
	}
	return out
}

// MaxBatchSizes is the most batch sizes a model may have: a worker
// prepares a handful (1, 2, 4, 8, 16), and a longer list, which a worker
// may send, is copied for every copy of the model.
const MaxBatchSizes = 64

// CheckBatchSizes says what is wrong with a worker's list of a model's
// batch sizes, if anything: at most MaxBatchSizes, strictly ascending
// (the scheduler pads a batch to the next size up), each at least 1.
func CheckBatchSizes(sizes []uint32) error {
	if len(sizes) > MaxBatchSizes {
		return fmt.Errorf("%d batch sizes, more than %d", len(sizes), MaxBatchSizes)
	}
	for i, b := range sizes {
		if b == 0 || i > 0 && b <= sizes[i-1] {
			return fmt.Errorf("batch sizes %v are not ascending from 1 or more", sizes)
		}
	}
	return nil
}

// ModelLoads are the LoadModelFromDisk actions (model id, path and copies
// set; the caller sets the rest) that give a worker holding the models in
// has (id → path) every model of ms (ascending ids) that it lacks: one per
// run of consecutive ids of one path, as the controller's startup loaded
// them. A model in has under another path is an error.
func ModelLoads(ms []Model, has map[int]string) ([]*workerapi.LoadModelFromDisk, error) {
	var out []*workerapi.LoadModelFromDisk
	for _, m := range ms {
		if path, ok := has[m.ID]; ok {
			if path != m.Path {
				return nil, fmt.Errorf("model %d is %s there, not %s", m.ID, path, m.Path)
			}
			continue
		}
		if n := len(out); n > 0 && out[n-1].Path == m.Path && int(out[n-1].ModelID)+int(out[n-1].Copies) == m.ID {
			out[n-1].Copies++
			continue
		}
		out = append(out, &workerapi.LoadModelFromDisk{ModelID: int32(m.ID), Path: m.Path, Copies: 1})
	}
	return out, nil
}

// GPU returns w's GPU with the worker-local id, or nil.
func (w *Worker) GPU(id int) *GPU {
	for i := range w.GPUs {
		if w.GPUs[i].ID == id {
			return &w.GPUs[i]
		}
	}
	return nil
}

// Joining returns the GPUs w lists that a scheduler rejoining w has not
// had in service (had says which it has), as many as inService leaves
// room for under maxGPUs; it says on log of each other new one that it
// is not used. A worker may rejoin with GPUs it lacked at startup: it
// restarted on another machine, or a GPU that had failed is back.
func (w *Worker) Joining(had func(local int) bool, inService, maxGPUs int, log io.Writer) []*GPU {
	var out []*GPU
	for i := range w.GPUs {
		g := &w.GPUs[i]
		switch {
		case had(g.ID):
		case inService+len(out) >= maxGPUs:
			fmt.Fprintf(log, "W%d-GPU%d is not used: max_gpus=%d GPUs are in use\n", w.ID, g.ID, maxGPUs)
		default:
			out = append(out, g)
		}
	}
	return out
}

// AddModels adds models to w, keeping ids ascending.
func (w *Worker) AddModels(ms []Model) {
	w.Models = append(w.Models, ms...)
	sort.Slice(w.Models, func(i, j int) bool { return w.Models[i].ID < w.Models[j].ID })
}

// batches are a model's batch sizes and their exec times (0 where
// missing), less those whose batch of inputs, or of outputs, might not fit
// in one frame: a batch goes to its worker in one message, and its result
// comes back in one, whose bodies the worker and the controller take up to
// wire.DefaultMaxBodySize; each input may be as long as an LZ4 block of
// the input size can be. A larger batch would have the worker (or the
// controller) drop the connection, and every action on it (a model with
// 40 MiB inputs keeps batch sizes up to 4 of 16). Batch size 1 stays: its
// input is one client's, which came in a frame of that limit, and the
// controller refuses models whose outputs no frame could carry.
func batches(inputSize, outputSize uint64, sizes []uint32, times []uint64) ([]int, []int64) {
	item := max(uint64(lz4.CompressBlockBound(int(min(inputSize, wire.DefaultMaxBodySize)))), min(outputSize, wire.DefaultMaxBodySize))
	bs, ts := make([]int, 0, len(sizes)), make([]int64, 0, len(sizes))
	for i, b := range sizes {
		if b > 1 && uint64(b)*item > wire.DefaultMaxBodySize {
			continue
		}
		bs = append(bs, int(b))
		var t int64
		if i < len(times) {
			t = int64(times[i])
		}
		ts = append(ts, t)
	}
	return bs, ts
}
