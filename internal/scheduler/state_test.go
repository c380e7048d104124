package scheduler

import (
	"slices"
	"testing"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// TestBatchesFitAFrame: batch sizes whose inputs or outputs could pass a frame's
// limit are not used; the rest keep their exec times.
func TestBatchesFitAFrame(t *testing.T) {
	sizes := []uint32{1, 2, 4, 8, 16}
	times := []uint64{1, 2, 3, 4, 5}
	for _, tc := range []struct {
		input, output uint64
		want          []int
	}{
		{602112, 4000, []int{1, 2, 4, 8, 16}},
		{40 << 20, 4000, []int{1, 2, 4}},
		{200 << 20, 4000, []int{1}},
		{1 << 40, 4000, []int{1}},
		{1024, 32 << 20, []int{1, 2, 4, 8}}, // a batch's outputs come back in one frame
	} {
		r := &workerapi.LoadModelFromDiskResult{InputSize: tc.input, OutputSize: tc.output, BatchSizes: sizes, ExecTimes: times, CopiesCreated: 1}
		m := ModelsFromLoad(0, "/m", r)[0]
		if !slices.Equal(m.BatchSizes, tc.want) || m.ExecDurations[len(tc.want)-1] != int64(len(tc.want)) {
			t.Errorf("input %d: batch sizes %v, exec times %v; want %v", tc.input, m.BatchSizes, m.ExecDurations, tc.want)
		}
	}
}
