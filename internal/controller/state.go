package controller

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/clockwork-go/clockwork/internal/clientapi"
	"github.com/clockwork-go/clockwork/internal/console"
	"github.com/clockwork-go/clockwork/internal/scheduler"
)

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
	fmt.Fprintf(&b, "M-%d src=%s input=%d output=%d weights=%.1f MB (%d pages) xfer=%.1f", m.ID, console.Safe(m.Path),
		m.InputSize, m.OutputSize, float64(m.WeightsSize)/(1<<20), m.NumWeightsPages, float64(m.WeightsTransfer)/1e6)
	for i, bs := range m.BatchSizes {
		fmt.Fprintf(&b, " b%d=%.1f", bs, float64(m.ExecDurations[i])/1e6)
	}
	return b.String()
}

func sortModels(ms []clientapi.ModelInfo) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].ModelID < ms[j].ModelID })
}
