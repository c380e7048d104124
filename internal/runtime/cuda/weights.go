//go:build linux && cgo

package cuda

import (
	"errors"
	"fmt"

	"github.com/clockwork-go/clockwork/internal/clock"
	cu "github.com/clockwork-go/clockwork/internal/cuda"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// LoadWeights implements runtime.Model: it copies the pinned weights page
// by page into the given cache pages on the GPU's weights stream and, if
// no graph set serves those pages yet, meanwhile maps them at a set's
// address (graphs.go). It returns once both are done. The reported
// duration is the copy's GPU time, or with a mapping the time from the
// first copy to the end of both, so that the controller's estimate covers
// the mapping (microseconds; milliseconds if a new set had to be
// captured for another copy of the model).
func (m *Model) LoadWeights(gpu int, pages []int, start int64) (workerapi.Timing, error) {
	d, in, err := m.instance(gpu)
	if err != nil {
		return workerapi.Timing{}, err
	}
	if len(pages) != len(m.pageLens) {
		return workerapi.Timing{}, runtime.Errorf(workerapi.ErrRuntimeError, "LoadWeights given %d pages, model %s needs %d", len(pages), m.path, len(m.pageLens))
	}
	for _, p := range pages {
		if p < 0 || p >= d.pages {
			return workerapi.Timing{}, runtime.Errorf(workerapi.LoadWeightsInsufficientCache,
				"LoadWeights: page %d is outside GPU %d's weights cache of %d pages", p, gpu, d.pages)
		}
	}
	if err := d.enter(); err != nil {
		return workerapi.Timing{}, runtimeError(d, err)
	}
	st := &d.weights
	t0 := clock.Now()
	err = d.failed()
	if err == nil {
		err = st.start.Record(st.s)
	}
	for i, p := range pages {
		if err == nil {
			err = cu.MemcpyHtoDAsync(d.pageAddr(p), m.host.Ptr(i*int(d.pageSize)), m.pageLens[i], st.s)
		}
	}
	if err == nil {
		err = st.end.Record(st.s)
	}
	if err != nil {
		d.leave()
		return workerapi.Timing{}, runtimeError(d, err)
	}
	// The mapping needs only the pages: it runs while the copy does.
	remap, remapped, remapErr := in.bindServing(pages)
	d.leave()
	end, copyNs, err := d.chk.wait(st.w, -1)
	if err := errors.Join(err, remapErr); err != nil {
		return workerapi.Timing{}, runtimeError(d, fmt.Errorf("LoadWeights: %w", err))
	}
	t := workerapi.Timing{Begin: uint64(start), End: uint64(end), Duration: copyNs}
	if remapped {
		// Busy until both the copy and the mapping are done.
		t.End = uint64(max(end, clock.Now()))
		t.Duration = max(copyNs, t.End-uint64(t0))
	}
	if cfg := &m.rt.cfg; cfg.Verbose {
		var bytes uint64
		for _, n := range m.pageLens {
			bytes += n
		}
		mapped := ""
		if remapped {
			mapped = fmt.Sprintf("%.3f", ms(int64(remap)))
		}
		fmt.Fprintf(cfg.Log, "cuda: LoadWeights gpu=%d model=%s pages=%v bytes=%d copy_ms=%.3f gbps=%.1f map_ms=%s total_ms=%.3f\n",
			gpu, m.path, pages, bytes, ms(int64(copyNs)), float64(bytes)/float64(max(copyNs, 1)), mapped, ms(int64(t.Duration)))
	}
	return t, nil
}

// runtimeError is a CUDA failure on the serving path: status 2, or 14
// (ErrGPUUnusable) once the error, or an earlier one, left the GPU
// unusable.
func runtimeError(d *device, err error) error {
	err = d.note(err)
	return runtime.Errorf(d.code(workerapi.ErrRuntimeError), "%v", err)
}
