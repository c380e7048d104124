package e2e

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTelemetryFlushedOnInterrupt checks the controller's TSV logs: their
// header rows are the original's columns, and what was measured before a
// SIGINT is on disk after it (the original lost its buffered lines).
func TestTelemetryFlushedOnInterrupt(t *testing.T) {
	logs := t.TempDir()
	_, wport := startWorker(t, "-n", "1")
	c := start(t, nil, "controller", "-port", "0", "-log-dir", logs, "INFER5", "localhost:"+wport)
	cport := c.waitFor(`IO service thread listening for clients on 0\.0\.0\.0:(\d+)`, 10*time.Second)[1]
	c.waitFor(`^Logging requests to `+regexp.QuoteMeta(filepath.Join(logs, "clockwork_request_log.tsv"))+`$`, time.Second)
	cl := start(t, []string{"CLOCKWORK_MODEL_DIR=" + zoo, "CLOCKWORK_DISABLE_INPUTS=1"},
		"client", "-summary-period", "1s", "localhost:"+cport, "simple")
	cl.waitFor(nonZeroThroughput, 30*time.Second)
	cl.Stop()
	c.Stop()
	if !c.has(`^Interrupt signal \(2\) received\.$`) || !c.has(`^Clockwork Controller Exiting$`) {
		t.Fatalf("controller did not exit as the original does:\n%s", c.Tail(5))
	}
	for _, tc := range []struct{ file, header string }{
		{"clockwork_request_log.tsv", "t\trequest_id\tresult\tuser_id\tmodel_id\tslo_factor\tlatency\tdeadline\tdeadline_met\tarrival_count\tdeparture_count\tis_coldstart"},
		{"clockwork_action_log.tsv", "t\taction_id\taction_type\tstatus\tworker_id\tgpu_id\tmodel_id\tbatch_size\texpected_exec_duration\tworker_exec_duration\texpected_exec_complete\tworker_exec_complete\texpected_gpu_clock\tworker_gpu_clock_before\tworker_gpu_clock\tworker_copy_output_complete\tworker_action_received\tworker_result_sent\tcontroller_result_enqueue\tcontroller_action_duration\tgoodput\trequests_queued\tcopies_loaded"},
	} {
		b, err := os.ReadFile(filepath.Join(logs, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if lines[0] != tc.header {
			t.Errorf("%s header\n got %q\nwant %q", tc.file, lines[0], tc.header)
		}
		if len(lines) < 50 {
			t.Errorf("%s has %d rows after SIGINT", tc.file, len(lines)-1)
		}
		cols := strings.Count(tc.header, "\t")
		for i, l := range lines[1:] {
			if strings.Count(l, "\t") != cols {
				t.Fatalf("%s row %d has %d columns: %q", tc.file, i+1, strings.Count(l, "\t")+1, l)
			}
		}
	}
}

// TestInterruptWhileConnecting: a SIGINT while the controller waits for a
// worker ends it as one later does: the original's lines and exit status 2
// (it used to report the cancelled dial as an error and exit 1).
func TestInterruptWhileConnecting(t *testing.T) {
	l, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close() // nothing listens there: the controller dials again and again
	c := start(t, []string{"CLOCKWORK_LOG_DIR=" + t.TempDir()}, "controller", "-port", "0", "INFER5", l.Addr().String())
	c.waitFor(`^Connecting to worker `, 10*time.Second)
	c.Stop()
	if !c.has(`^Interrupt signal \(2\) received\.$`) || !c.has(`^Clockwork Controller Exiting$`) || c.Cmd.ProcessState.ExitCode() != 2 {
		t.Fatalf("exit status %d:\n%s", c.Cmd.ProcessState.ExitCode(), c.Tail(5))
	}
}
