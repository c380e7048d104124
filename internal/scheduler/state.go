package scheduler

import (
	"sort"

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
			WeightsSize: uint64(mi.NumWeightsPages) * m.PageSize, NumWeightsPages: int(mi.NumWeightsPages),
			WeightsTransfer: int64(mi.WeightsLoadTime),
		}
		md.BatchSizes, md.ExecDurations = batches(mi.BatchSizes, mi.ExecTimes)
		w.Models = append(w.Models, md)
	}
	return w
}

// ModelsFromLoad are the models a LoadModelFromDisk result created, with
// ids first, first+1, ….
func ModelsFromLoad(first int, path string, r *workerapi.LoadModelFromDiskResult) []Model {
	out := make([]Model, 0, r.CopiesCreated)
	for j := range int(r.CopiesCreated) {
		m := Model{
			ID: first + j, Path: path, InputSize: r.InputSize, OutputSize: r.OutputSize,
			WeightsSize: r.WeightsSizeInCache, NumWeightsPages: int(r.NumWeightsPages),
			WeightsTransfer: int64(r.WeightsLoadTime),
		}
		m.BatchSizes, m.ExecDurations = batches(r.BatchSizes, r.ExecTimes)
		out = append(out, m)
	}
	return out
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

// AddModels adds models to w, keeping ids ascending.
func (w *Worker) AddModels(ms []Model) {
	w.Models = append(w.Models, ms...)
	sort.Slice(w.Models, func(i, j int) bool { return w.Models[i].ID < w.Models[j].ID })
}

// batches converts reported batch sizes and exec times (0 where missing).
func batches(sizes []uint32, times []uint64) ([]int, []int64) {
	bs, ts := make([]int, len(sizes)), make([]int64, len(sizes))
	for i, b := range sizes {
		bs[i] = int(b)
		if i < len(times) {
			ts[i] = int64(times[i])
		}
	}
	return bs, ts
}
