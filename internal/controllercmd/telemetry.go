package controllercmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/controller"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/telemetry"
	"github.com/clockwork-go/clockwork/internal/wire"
)

// summaryInterval is the period of the console summaries.
const summaryInterval = int64(10e9)

// defaultLogDir is the original's telemetry directory.
const defaultLogDir = "/local"

// metricsInterval is how often the network totals of the metrics are
// brought up to date.
const metricsInterval = int64(1e9)

// sink writes the request and action logs, prints the console summaries
// and, with -metrics, keeps the metrics served to scrapers.
type sink struct {
	out     io.Writer
	reqs    *telemetry.RequestLog
	actions *telemetry.ActionLog
	sum     *telemetry.Summary
	metrics *telemetry.Metrics // nil without -metrics

	nextPrint int64
	lastNet   wire.Stats
	lastNetAt int64
}

// openTelemetry opens clockwork_request_log.tsv and clockwork_action_log.tsv
// in dir (if empty: $CLOCKWORK_LOG_DIR, else /local) and prints their
// paths. A directory named by the user is created if missing; the default
// /local, which most machines lack, falls back to the working directory
// with a note. Records also go to metrics, unless it is nil.
func openTelemetry(dir string, metrics *telemetry.Metrics, out io.Writer) (controller.Telemetry, error) {
	if dir == "" {
		dir = os.Getenv("CLOCKWORK_LOG_DIR")
	}
	if dir == "" {
		dir = defaultLogDir
		if err := writable(dir); err != nil {
			wd, _ := os.Getwd()
			fmt.Fprintf(out, "Telemetry directory %s is not usable (%v); logging to %s instead (set CLOCKWORK_LOG_DIR to choose)\n", dir, err, wd)
			dir = wd
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("telemetry directory %s: %w", dir, err)
	}
	s := &sink{out: out, sum: telemetry.NewSummary(clock.Now()), metrics: metrics}
	s.sum.Interval = summaryInterval
	open := func(name string) (*os.File, error) {
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			return nil, fmt.Errorf("telemetry: %w", err)
		}
		return f, nil
	}
	rf, err := open("clockwork_request_log.tsv")
	if err != nil {
		return nil, err
	}
	af, err := open("clockwork_action_log.tsv")
	if err != nil {
		rf.Close()
		return nil, err
	}
	fmt.Fprintf(out, "Logging requests to %s\n", rf.Name())
	fmt.Fprintf(out, "Logging actions to %s\n", af.Name())
	s.reqs, s.actions = telemetry.NewRequestLog(rf), telemetry.NewActionLog(af)
	return s, nil
}

// writable reports why dir cannot hold the logs, or nil.
func writable(dir string) error {
	f, err := os.CreateTemp(dir, ".clockwork-probe-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

func (s *sink) Response(r *scheduler.Response) {
	rec := r.Record()
	s.reqs.Log(&rec)
	s.sum.AddRequest(&rec)
	if s.metrics != nil {
		s.metrics.AddRequest(&rec)
	}
}

func (s *sink) Actions(recs []telemetry.ActionRecord) {
	for i := range recs {
		s.actions.Log(&recs[i])
		s.sum.AddAction(&recs[i])
		if s.metrics != nil {
			s.metrics.AddAction(&recs[i])
		}
	}
}

// Tick prints the summaries every 10 s, the network line included, and
// brings the metrics' network totals up to date every second.
func (s *sink) Tick(now int64, net wire.Stats) int64 {
	next := s.print(now, net)
	if s.metrics == nil {
		return next
	}
	s.metrics.SetNetwork(telemetry.NetworkTotals{BytesSent: net.BytesSent, MsgsSent: net.MsgsSent, BytesRecv: net.BytesRecv, MsgsRecv: net.MsgsRecv})
	return min(next, now+metricsInterval)
}

// print prints the summaries if they are due and says when they are next.
func (s *sink) print(now int64, net wire.Stats) int64 {
	if s.nextPrint == 0 { // the scheduler's first tick: the intervals begin
		s.sum.Start(now)
		s.nextPrint, s.lastNet, s.lastNetAt = now+summaryInterval, net, now
		return s.nextPrint
	}
	if now < s.nextPrint {
		return s.nextPrint
	}
	s.sum.MaybePrint(now, s.out)
	secs := float64(now-s.lastNetAt) / 1e9
	fmt.Fprintln(s.out, telemetry.NetworkLine(net.BytesSent-s.lastNet.BytesSent, net.MsgsSent-s.lastNet.MsgsSent,
		net.BytesRecv-s.lastNet.BytesRecv, net.MsgsRecv-s.lastNet.MsgsRecv, secs))
	s.lastNet, s.lastNetAt = net, now
	s.nextPrint = now + summaryInterval
	return s.nextPrint
}

// Close flushes and closes both logs so that nothing measured is lost.
func (s *sink) Close() error {
	return errors.Join(s.reqs.Close(), s.actions.Close())
}
