package telemetry

import "io"

const requestHeader = "t\trequest_id\tresult\tuser_id\tmodel_id\tslo_factor\tlatency\tdeadline\tdeadline_met\tarrival_count\tdeparture_count\tis_coldstart\n"

// RequestLog writes clockwork_request_log.tsv: a header row, then one row per
// answered request (spec/controller.md §8.1). It buffers; call Flush or
// Close to get rows onto the underlying writer (the controller does so on
// SIGINT/SIGTERM, which the original forgot). Not safe for concurrent use.
type RequestLog struct{ tsv tsvWriter }

// NewRequestLog starts a request log on w, writing the header row.
func NewRequestLog(w io.Writer) *RequestLog {
	return &RequestLog{tsv: newTSVWriter(w, requestHeader)}
}

// Log appends the row of r. It returns the log's first write error, if any.
func (l *RequestLog) Log(r *RequestRecord) error {
	t := &l.tsv
	t.int(r.Departure) // t is the departure, not the arrival the docs claim
	t.int(int64(r.RequestID))
	t.int(int64(r.Result))
	t.int(int64(r.UserID))
	t.int(int64(r.ModelID))
	t.float(r.SLOFactor)
	t.int(r.Departure - r.Arrival)

	switch {
	case r.Deadline == 0:
		t.int(-1)
	case r.Deadline < r.Arrival:
		t.int(0)
	default:
		t.int(r.Deadline - r.Arrival) // the SLO
	}
	t.bool(DeadlineMet(r))
	t.int(int64(r.ArrivalCount))
	t.int(int64(r.DepartureCount))
	t.bool(ColdStart(r))
	return t.end()
}

// DeadlineMet is the request log's deadline_met: the request succeeded,
// by its deadline if it had one (one before its arrival is never met).
func DeadlineMet(r *RequestRecord) bool {
	ok := r.Result == 0
	switch {
	case r.Deadline == 0: // no deadline: success is all that counts
		return ok
	case r.Deadline < r.Arrival:
		return false
	}
	return ok && r.Departure <= r.Deadline
}

// ColdStart is the request log's is_coldstart: no copy of the model was
// loaded when the request arrived, and one was when it was answered.
func ColdStart(r *RequestRecord) bool {
	return r.DepartureCount > r.ArrivalCount && r.ArrivalCount == 0
}

// Flush writes buffered rows to the underlying writer.
func (l *RequestLog) Flush() error { return l.tsv.flush() }

// Close flushes the log and closes the underlying writer if it is an
// io.Closer. Later Log calls fail.
func (l *RequestLog) Close() error { return l.tsv.close() }
