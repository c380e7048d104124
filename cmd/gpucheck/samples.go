package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

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
	fmt.Fprintln(l.w, "model,batch,i,sent_us,copy_input_begin_us,copy_input_end_us,exec_begin_us,exec_end_us,"+
		"copy_output_begin_us,copy_output_end_us,arrived_us,exec_gpu_us,clock_before_mhz,clock_after_mhz")
	return l, nil
}

// add records the i-th timed inference of model at batch size batch.
func (l *sampleLog) add(model string, batch, i int, sent, arrived int64, r *workerapi.InferResult) {
	if l == nil {
		return
	}
	if l.base == 0 {
		l.base = sent
	}
	us := func(t int64) string {
		if t == 0 {
			return ""
		}
		return fmt.Sprintf("%.1f", float64(t-l.base)/1e3)
	}
	fmt.Fprintf(l.w, "%s,%d,%d,%s,%s,%s,%s,%s,%s,%s,%s,%.1f,%d,%d\n", model, batch, i, us(sent),
		us(int64(r.CopyInput.Begin)), us(int64(r.CopyInput.End)), us(int64(r.Exec.Begin)), us(int64(r.Exec.End)),
		us(int64(r.CopyOutput.Begin)), us(int64(r.CopyOutput.End)), us(arrived), float64(r.Exec.Duration)/1e3,
		r.GPUClockBefore, r.GPUClock)
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
