package workercmd

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/config"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/sim"
)

// TestMetricsRefused: --metrics needs host:port and a free port; either
// refusal says why, before the configuration and the runtime, and the
// worker exits with status 1.
func TestMetricsRefused(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	spec := Spec{Name: "worker_dummy", Runtime: func(*config.Worker, io.Writer) (runtime.Runtime, error) { return sim.New(1), nil }}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--metrics", "8003"}, `Invalid --metrics "8003": address 8003: missing port in address`},
		{[]string{"-p", "0", "--metrics", busy.Addr().String()}, "cannot serve metrics: listen tcp " + busy.Addr().String() + ": bind: address already in use"},
	} {
		t.Setenv("CLOCKWORK_CONFIG_FILE", "")
		var stdout, stderr bytes.Buffer
		if rc := Main(spec, tc.args, &stdout, &stderr); rc != 1 || !strings.Contains(stderr.String(), tc.want) || strings.Contains(stdout.String(), "Loading Clockwork worker") {
			t.Errorf("%q: exit %d, stderr %q, stdout %q", tc.args, rc, stderr.String(), stdout.String())
		}
	}
}

// TestUnknownOption names an unknown option as it was given.
func TestUnknownOption(t *testing.T) {
	spec := Spec{Name: "worker_dummy", Runtime: func(*config.Worker, io.Writer) (runtime.Runtime, error) { return sim.New(1), nil }}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "Unknown option --bogus\n"},
		{[]string{"-p", "0", "-bogus=1"}, "Unknown option -bogus=1\n"},
		{[]string{"-p", "0", "extra"}, "Unknown option extra\n"},
	} {
		var stdout, stderr bytes.Buffer
		if rc := Main(spec, tc.args, &stdout, &stderr); rc != 1 || !strings.HasPrefix(stderr.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q", tc.args, rc, stderr.String())
		}
	}
}

// TestParseSize: --max-queued-input reads bytes with K, M, G or T
// (powers of 1024), and refuses what is not such a count.
func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{
		"0": 0, "1048576": 1 << 20, "512M": 512 << 20, "8G": 8 << 30, "8g": 8 << 30, "8GiB": 8 << 30,
		"2KB": 2 << 10, " 3 T ": 3 << 40,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, n := range []uint64{0, 1<<20 + 1, 512 << 20, 3 << 40} {
		if back, err := parseSize(formatSize(n)); err != nil || back != n {
			t.Errorf("%d: formatted %q reads %d, %v", n, formatSize(n), back, err)
		}
	}
	for _, in := range []string{"", "G", "-1", "1.5G", "8X", "100B", "16777216T", "18446744073709551616"} {
		if n, err := parseSize(in); err == nil {
			t.Errorf("%q: %d, want an error", in, n)
		}
	}
	if got := formatSize(fallbackQueuedInput); got != "4G" {
		t.Errorf("formatSize(4 GiB) = %q", got)
	}
	var stderr bytes.Buffer
	spec := Spec{Name: "worker_dummy", Runtime: func(*config.Worker, io.Writer) (runtime.Runtime, error) { return sim.New(1), nil }}
	if rc := Main(spec, []string{"--max-queued-input", "lots"}, io.Discard, &stderr); rc != 1 ||
		!strings.Contains(stderr.String(), `Invalid --max-queued-input "lots": want a number of bytes, such as 8G, 512M or 1048576`) {
		t.Errorf("exit %d, stderr %q", rc, stderr.String())
	}
}
