package workerapi

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/clockwork-go/clockwork/internal/console"
)

// Millis renders nanoseconds as the original's console does: whole
// milliseconds, a dot, and one truncated decimal (14912345 → "14.9").
func Millis(t uint64) string {
	return strconv.FormatUint(t/1000000, 10) + "." + strconv.FormatUint((t%1000000)/100000, 10)
}

// Window renders [earliest, latest] relative to now, clamped at 0.
func Window(earliest, latest, now uint64) string {
	rel := func(t uint64) uint64 {
		if t > now {
			return t - now
		}
		return 0
	}
	return "[" + Millis(rel(earliest)) + ", " + Millis(rel(latest)) + "]"
}

// mb renders bytes as MiB with one rounded decimal.
func mb(b uint64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) }

// ms renders nanoseconds as milliseconds with one rounded decimal.
func ms(ns uint64) string { return strconv.FormatFloat(float64(ns)/1e6, 'f', 1, 64) }

func (a *LoadModelFromDisk) Describe(now uint64) string {
	return fmt.Sprintf("A%d:LoadModelFromDisk model=%d %s %s", a.ID, a.ModelID, Window(a.Earliest, a.Latest, now), printed(a.Path, maxPath))
}

// printed is s for the console: quoted if it holds a control character
// (a peer's path or message may hold one), and only its first max bytes
// if it is longer, with its length.
func printed(s string, max int) string {
	if len(s) > max {
		s = fmt.Sprintf("%s… (%d bytes)", strings.ToValidUTF8(s[:max], ""), len(s))
	}
	return console.Safe(s)
}

// The longest path and error message printed whole: Linux's PATH_MAX, and
// more than any the worker writes.
const (
	maxPath    = 4096
	maxMessage = 1000
)

func (a *LoadWeights) Describe(now uint64) string {
	return fmt.Sprintf("A%d:LoadWeights model=%d gpu=%d %s", a.ID, a.ModelID, a.GPU, Window(a.Earliest, a.Latest, now))
}

func (a *EvictWeights) Describe(now uint64) string {
	return fmt.Sprintf("A%d:EvictWeights model=%d gpu=%d %s", a.ID, a.ModelID, a.GPU, Window(a.Earliest, a.Latest, now))
}

func (a *Infer) Describe(now uint64) string {
	return fmt.Sprintf("A%d:Infer model=%d gpu=%d batch=%d input=%d %s", a.ID, a.ModelID, a.GPU, a.BatchSize, a.InputLen(), Window(a.Earliest, a.Latest, now))
}

func (a *ClearCache) Describe(uint64) string     { return fmt.Sprintf("A%d:ClearCache", a.ID) }
func (a *GetWorkerState) Describe(uint64) string { return fmt.Sprintf("A%d:GetWorkerState", a.ID) }

// String prints the message as printed has it: a model path in it is the
// peer's to choose, and a peer's message may be as long as a header's 10
// MiB.
func (r *ErrorResult) String() string {
	return fmt.Sprintf("R%d:Error %d: %s", r.ID, r.Code, printed(r.Message, maxMessage))
}

// Brief describes r in one short line, for results a peer sent that
// nothing awaited: a state or a load result's String is as long as the
// peer made its lists (a GetWorkerState answer of 10 MiB printed as 85
// MB of text).
func Brief(r Result) string {
	switch r := r.(type) {
	case *GetWorkerStateResult:
		return fmt.Sprintf("R%d:GetWorkerState (%d GPUs, %d models)", r.ID, len(r.Memory.GPUs), len(r.Memory.Models))
	case *LoadModelFromDiskResult:
		if len(r.BatchSizes) > 16 || len(r.ExecTimes) > 16 {
			return fmt.Sprintf("R%d:LoadModelFromDisk (%d batch sizes, %d exec times)", r.ID, len(r.BatchSizes), len(r.ExecTimes))
		}
	}
	return r.String()
}

func batchTimes(b *strings.Builder, sizes []uint32, times []uint64) {
	for i, s := range sizes {
		var t uint64
		if i < len(times) {
			t = times[i]
		}
		fmt.Fprintf(b, " b%d=%s", s, ms(t))
	}
}

func (r *LoadModelFromDiskResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "R%d:LoadModelFromDisk input=%d output=%d weights=%s MB (%d pages) xfer=%s",
		r.ID, r.InputSize, r.OutputSize, mb(r.WeightsSizeInCache), r.NumWeightsPages, ms(r.WeightsLoadTime))
	batchTimes(&b, r.BatchSizes, r.ExecTimes)
	fmt.Fprintf(&b, " duration=%s", ms(r.Timing.Duration))
	return b.String()
}

func (r *LoadWeightsResult) String() string {
	return fmt.Sprintf("R%d:LoadWeights duration=%s", r.ID, Millis(r.Timing.Duration))
}

func (r *EvictWeightsResult) String() string {
	return fmt.Sprintf("R%d:EvictWeights duration=%s", r.ID, Millis(r.Timing.Duration))
}

func (r *InferResult) String() string {
	return fmt.Sprintf("R%d:Infer exec=%s input=%s output=%s gpu%d=%d", r.ID,
		Millis(r.Exec.Duration), Millis(r.CopyInput.Duration), Millis(r.CopyOutput.Duration), r.GPU, r.GPUClock)
}

func (r *ClearCacheResult) String() string { return fmt.Sprintf("R%d:ClearCache", r.ID) }

func (r *GetWorkerStateResult) String() string {
	return fmt.Sprintf("R%d:GetWorkerState:\n%s", r.ID, r.Memory.String())
}

// String renders the memory info as the original's GetWorkerState text.
func (w *WorkerMemoryInfo) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, " page_size=%d\ngpus=\n", w.PageSize)
	for i := range w.GPUs {
		b.WriteString(" " + w.GPUs[i].String() + "\n")
	}
	b.WriteString("models=\n")
	for i := range w.Models {
		b.WriteString(" " + w.Models[i].String() + "\n")
	}
	return b.String()
}

func (g *GPUInfo) String() string {
	return fmt.Sprintf("GPU-%d weights_cache=%.1fGB (%d pages) io_pool=%.1fMB workspace_pool=%.1fMB %d models currently on GPU",
		g.ID, float64(g.WeightsCacheSize)/(1<<30), g.WeightsCacheTotalPages,
		float64(g.IOPoolSize)/(1<<20), float64(g.WorkspacePoolSize)/(1<<20), len(g.Models))
}

func (m *ModelInfo) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "M-%d src=%s input=%d output=%d weights=%s MB (%d pages) xfer=%s",
		m.ID, printed(m.Source, maxPath), m.InputSize, m.OutputSize, mb(m.WeightsSize), m.NumWeightsPages, ms(m.WeightsLoadTime))
	batchTimes(&b, m.BatchSizes, m.ExecTimes)
	return b.String()
}
