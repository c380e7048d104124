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
