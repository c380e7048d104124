package schedtest

import (
	"maps"
	"slices"

	"github.com/clockwork-go/clockwork/internal/scheduler"
)

// Ms converts milliseconds to nanoseconds.
func Ms(ms float64) int64 { return int64(ms * 1e6) }

// Config returns the controller's default options for INFER5
// (spec/controller.md §1.2): 100 ms SLO, 10 ms schedule-ahead and latest
// delta, 250 ms max exec, batches up to 8, up to 100 GPUs.
func Config() scheduler.Config {
	return scheduler.Config{
		DefaultSLO:    Ms(100),
		LatestDelta:   Ms(10),
		ScheduleAhead: Ms(10),
		MaxExec:       Ms(250),
		MaxBatch:      8,
		MaxGPUs:       100,
	}
}

// Model is a model's profile, as workers report it.
type Model struct {
	Path       string
	InputSize  uint64
	OutputSize uint64
	Pages      int
	Load       int64         // weights transfer, ns
	Exec       map[int]int64 // batch size → exec time, ns
}

// ResNet50 is resnet50_v2 as measured on a V100 by the original Clockwork.
func ResNet50() Model {
	return Model{
		Path: "/zoo/resnet50_v2/model", InputSize: 602112, OutputSize: 4000, Pages: 7,
		Load: Ms(8.372),
		Exec: map[int]int64{1: Ms(3.322), 2: Ms(5.271), 4: Ms(7.495), 8: Ms(12.439), 16: Ms(21.729)},
	}
}

// Cluster describes a cluster of identical workers.
type Cluster struct {
	workers, gpus int
	pages         int
	pageSize      uint64
	models        []Model
	resident      map[[2]int][]int
}

// NewCluster starts a cluster of workers with gpus GPUs each, 100 pages of
// 16 MiB per GPU and no models.
func NewCluster(workers, gpus int) *Cluster {
	return &Cluster{workers: workers, gpus: gpus, pages: 100, pageSize: 16 << 20, resident: map[[2]int][]int{}}
}

// Pages sets each GPU's weights cache size in pages.
func (c *Cluster) Pages(n int) *Cluster { c.pages = n; return c }

// Model adds n models with profile m, with the next ids.
func (c *Cluster) Model(m Model, n int) *Cluster {
	for range n {
		c.models = append(c.models, m)
	}
	return c
}

// Resident makes models resident on a GPU at start-up.
func (c *Cluster) Resident(worker, gpu int, models ...int) *Cluster {
	k := [2]int{worker, gpu}
	c.resident[k] = append(c.resident[k], models...)
	return c
}

// State returns the cluster as the controller's startup phase finds it.
func (c *Cluster) State() *scheduler.State {
	st := &scheduler.State{PageSize: c.pageSize}
	for w := range c.workers {
		wk := scheduler.Worker{ID: w}
		for g := range c.gpus {
			wk.GPUs = append(wk.GPUs, scheduler.GPU{
				ID: g, WeightsCacheSize: uint64(c.pages) * c.pageSize, TotalPages: c.pages,
				LoadedModels: slices.Clone(c.resident[[2]int{w, g}]),
			})
		}
		for id, m := range c.models {
			sizes := slices.Sorted(maps.Keys(m.Exec))
			execs := make([]int64, len(sizes))
			for i, b := range sizes {
				execs[i] = m.Exec[b]
			}
			wk.Models = append(wk.Models, scheduler.Model{
				ID: id, Path: m.Path, InputSize: m.InputSize, OutputSize: m.OutputSize,
				WeightsSize: uint64(m.Pages) * c.pageSize, NumWeightsPages: m.Pages, WeightsTransfer: m.Load,
				BatchSizes: sizes, ExecDurations: execs,
			})
		}
		st.Workers = append(st.Workers, wk)
	}
	return st
}
