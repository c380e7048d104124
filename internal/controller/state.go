package controller

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// workerState converts a worker's GetWorkerState answer.
func workerState(id int, m *workerapi.WorkerMemoryInfo) scheduler.Worker {
	w := scheduler.Worker{ID: id}
	for _, g := range m.GPUs {
		gs := scheduler.GPU{ID: int(g.ID), WeightsCacheSize: g.WeightsCacheSize, TotalPages: int(g.WeightsCacheTotalPages)}
		for _, mid := range g.Models {
			gs.LoadedModels = append(gs.LoadedModels, int(mid))
		}
		w.GPUs = append(w.GPUs, gs)
	}
	for _, mi := range m.Models {
		md := scheduler.Model{
			ID: int(mi.ID), Path: mi.Source, InputSize: mi.InputSize, OutputSize: mi.OutputSize,
			WeightsSize: uint64(mi.NumWeightsPages) * m.PageSize, NumWeightsPages: int(mi.NumWeightsPages),
			WeightsTransfer: int64(mi.WeightsLoadTime),
		}
		for i, b := range mi.BatchSizes {
			md.BatchSizes = append(md.BatchSizes, int(b))
			var t int64
			if i < len(mi.ExecTimes) {
				t = int64(mi.ExecTimes[i])
			}
			md.ExecDurations = append(md.ExecDurations, t)
		}
		w.Models = append(w.Models, md)
	}
	return w
}

// loadedModels are the models a LoadModelFromDisk result created on a worker.
func loadedModels(first int, path string, r *workerapi.LoadModelFromDiskResult) []scheduler.Model {
	var out []scheduler.Model
	for j := 0; j < int(r.CopiesCreated); j++ {
		m := scheduler.Model{
			ID: first + j, Path: path, InputSize: r.InputSize, OutputSize: r.OutputSize,
			WeightsSize: r.WeightsSizeInCache, NumWeightsPages: int(r.NumWeightsPages),
			WeightsTransfer: int64(r.WeightsLoadTime),
		}
		for i, b := range r.BatchSizes {
			m.BatchSizes = append(m.BatchSizes, int(b))
			var t int64
			if i < len(r.ExecTimes) {
				t = int64(r.ExecTimes[i])
			}
			m.ExecDurations = append(m.ExecDurations, t)
		}
		out = append(out, m)
	}
	return out
}

// addModels adds models to worker w, keeping ids ascending.
func addModels(w *scheduler.Worker, ms []scheduler.Model) {
	w.Models = append(w.Models, ms...)
	sort.Slice(w.Models, func(i, j int) bool { return w.Models[i].ID < w.Models[j].ID })
}

// describeState renders the state as the original's startup printout
// (spec/controller.md §2.7), ending in a newline.
func describeState(s *scheduler.State) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Clockwork page_size=%d\n", s.PageSize)
	for _, w := range s.Workers {
		fmt.Fprintf(&b, "Worker %d %d GPUs %d models\n", w.ID, len(w.GPUs), len(w.Models))
		for _, g := range w.GPUs {
			fmt.Fprintf(&b, "GPU %d %s GB (%d pages) %d loaded models\n", g.ID,
				strconv.FormatFloat(float64(g.WeightsCacheSize)/(1<<30), 'g', 6, 64), g.TotalPages, len(g.LoadedModels))
		}
		for _, m := range w.Models {
			b.WriteString(describeModel(&m) + "\n")
		}
	}
	return b.String()
}

func describeModel(m *scheduler.Model) string {
	var b strings.Builder
	fmt.Fprintf(&b, "M-%d src=%s input=%d output=%d weights=%.1f MB (%d pages) xfer=%.1f", m.ID, m.Path,
		m.InputSize, m.OutputSize, float64(m.WeightsSize)/(1<<20), m.NumWeightsPages, float64(m.WeightsTransfer)/1e6)
	for i, bs := range m.BatchSizes {
		fmt.Fprintf(&b, " b%d=%.1f", bs, float64(m.ExecDurations[i])/1e6)
	}
	return b.String()
}

func sortModels(ms []clientapi.ModelInfo) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].ModelID < ms[j].ModelID })
}
