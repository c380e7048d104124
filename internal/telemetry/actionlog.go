package telemetry

import "io"

const actionHeader = "t\taction_id\taction_type\tstatus\tworker_id\tgpu_id\tmodel_id\tbatch_size\t" +
	"expected_exec_duration\tworker_exec_duration\texpected_exec_complete\tworker_exec_complete\t" +
	"expected_gpu_clock\tworker_gpu_clock_before\tworker_gpu_clock\tworker_copy_output_complete\t" +
	"worker_action_received\tworker_result_sent\tcontroller_result_enqueue\tcontroller_action_duration\t" +
	"goodput\trequests_queued\tcopies_loaded\n"

// ActionLog writes clockwork_action_log.tsv: a header row, then one row per
// completed action (spec/controller.md §8.2). Worker timestamps are written
// relative to the moment the action was sent. It buffers; call Flush or
// Close. Not safe for concurrent use.
type ActionLog struct{ tsv tsvWriter }

// NewActionLog starts an action log on w, writing the header row.
func NewActionLog(w io.Writer) *ActionLog {
	return &ActionLog{tsv: newTSVWriter(w, actionHeader)}
}

// Log appends the row of r. It returns the log's first write error, if any.
func (l *ActionLog) Log(r *ActionRecord) error {
	sent := r.Sent
	if sent == 0 {
		sent = r.Processed
	}
	received := r.ResultReceived
	if received == 0 {
		received = r.Processed
	}

	// A worker cannot have received the action before it was sent; if the
	// clock-skew estimate says otherwise, shift every worker time by the
	// residual so the relative columns stay meaningful.
	actionReceived, execComplete := r.WorkerActionReceived, r.WorkerExecComplete
	copyOutput, resultSent := r.WorkerCopyOutputEnd, r.WorkerResultSent
	if actionReceived != 0 && actionReceived < sent {
		skew := sent - actionReceived
		actionReceived += skew
		execComplete += skew
		copyOutput += skew
		resultSent += skew
	}
	since := func(t int64) int64 { return max(t-sent, 0) }

	t := &l.tsv
	t.int(received)
	t.int(int64(r.ActionID))
	t.int(int64(r.ActionType))
	t.int(int64(r.Status))
	t.int(int64(r.Worker))
	t.int(int64(r.GPU))
	t.int(int64(r.ModelID))
	t.int(int64(r.BatchSize))
	t.int(r.ExpectedDuration)
	t.int(r.WorkerDuration)
	t.int(since(r.ExpectedExecComplete))
	t.int(since(execComplete))
	t.int(int64(r.ExpectedGPUClock))
	t.int(int64(r.WorkerGPUClockBefore))
	t.int(int64(r.WorkerGPUClock))
	t.int(since(copyOutput))
	t.int(since(actionReceived))
	t.int(since(resultSent))
	t.int(received - sent)
	t.int(r.Processed - sent)
	t.int(Goodput(r))
	t.int(int64(r.RequestsQueued))
	t.int(int64(r.CopiesLoaded))
	return t.end()
}

// Goodput is the action log's goodput column: the worker's duration scaled
// by the share of the batch that succeeded within its SLO, in nanoseconds
// (the docs call it a fraction; it is not).
func Goodput(r *ActionRecord) int64 {
	return int64(float64(r.WorkerDuration) * r.GoodputFraction)
}

// Flush writes buffered rows to the underlying writer.
func (l *ActionLog) Flush() error { return l.tsv.flush() }

// Close flushes the log and closes the underlying writer if it is an
// io.Closer. Later Log calls fail.
func (l *ActionLog) Close() error { return l.tsv.close() }
