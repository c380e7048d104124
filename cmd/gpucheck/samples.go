package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// sample is one timed Infer: when gpucheck sent it, when its message was
// written whole (0 if not known) and when its result arrived, and the
// result with the worker's stamps. gpucheck's and the worker's clock.Now
// read the same system clock, so all are on one clock.
type sample struct {
	sent, written, arrived int64
	r                      *workerapi.InferResult // its Output released
	harnessGC              bool                   // gpucheck collected garbage while it waited for the result
}

// stamps are the sample's times in order: sent, the worker's receipt of
// the action, each stage's begin and end, the result's sending, and its
// arrival.
func (s *sample) stamps() [len(legs) + 1]int64 {
	r := s.r
	return [...]int64{s.sent, int64(r.ActionReceived), int64(r.CopyInput.Begin), int64(r.CopyInput.End),
		int64(r.Exec.Begin), int64(r.Exec.End), int64(r.CopyOutput.Begin), int64(r.CopyOutput.End),
		int64(r.ResultSent), s.arrived}
}

// leg is the time between stamps i and i+1 (legs[i]).
func (s *sample) leg(i int) int64 {
	st := s.stamps()
	return st[i+1] - st[i]
}

func (s *sample) e2e() int64 { return s.arrived - s.sent }

// write is how long gpucheck took to write the action (sent to written).
func (s *sample) write() int64 { return s.written - s.sent }

// sampleLog writes every timed inference of the check to samples.csv
// beside the report: when it was sent, when each of the worker's stages
// began and ended, and when its result arrived, all in µs from the first
// sample on one clock (the worker's stamps converted to ours, as a
// controller does). The report gives percentiles; the rare slow inferences
// behind the tails want the samples themselves: a stall in the worker or
// on the way, alone or in a burst, periodic or not.
type sampleLog struct {
	f    *os.File
	w    *bufio.Writer
	base int64 // the first sample's send time
}

func openSampleLog(dir string) (*sampleLog, error) {
	f, err := os.Create(filepath.Join(dir, "samples.csv"))
	if err != nil {
		return nil, err
	}
	l := &sampleLog{f: f, w: bufio.NewWriterSize(f, 1<<20)}
	fmt.Fprintln(l.w, "model,batch,i,sent_us,received_us,copy_input_begin_us,copy_input_end_us,exec_begin_us,exec_end_us,"+
		"copy_output_begin_us,copy_output_end_us,result_sent_us,arrived_us,exec_gpu_us,clock_before_mhz,clock_after_mhz,written_us")
	return l, nil
}

// add records the i-th timed inference of model at batch size batch.
func (l *sampleLog) add(model string, batch, i int, s *sample) {
	if l == nil {
		return
	}
	if l.base == 0 {
		l.base = s.sent
	}
	us := func(t int64) string {
		if t == 0 {
			return ""
		}
		return fmt.Sprintf("%.1f", float64(t-l.base)/1e3)
	}
	fmt.Fprintf(l.w, "%s,%d,%d", model, batch, i)
	for _, t := range s.stamps() {
		fmt.Fprintf(l.w, ",%s", us(t))
	}
	fmt.Fprintf(l.w, ",%.1f,%d,%d,%s\n", float64(s.r.Exec.Duration)/1e3, s.r.GPUClockBefore, s.r.GPUClock, us(s.written))
}

func (l *sampleLog) close() error {
	if l == nil {
		return nil
	}
	err := l.w.Flush()
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	return err
}
