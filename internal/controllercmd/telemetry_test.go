package controllercmd

import (
	"bytes"
	"strings"
	"testing"

	"github.com/clockwork-go/clockwork/internal/clock"
	"github.com/clockwork-go/clockwork/internal/scheduler"
	"github.com/clockwork-go/clockwork/internal/wire"
)

// TestSummaryStartsWithTheScheduler: the first summary's interval begins
// at the first Tick, when the scheduler starts, not when the logs were
// opened: a startup that waited 20 s for clients does not dilute it.
func TestSummaryStartsWithTheScheduler(t *testing.T) {
	var out bytes.Buffer
	tel, err := openTelemetry(t.TempDir(), nil, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Close()
	start := clock.Now() + 20e9 // the scheduler starts 20 s after the logs opened
	tel.Tick(start, wire.Stats{})
	r := &scheduler.Request{Arrival: start + 1e9}
	tel.Response(&scheduler.Response{Req: r, Departure: start + 1e9 + 5e6})
	out.Reset()
	tel.Tick(start+summaryInterval, wire.Stats{})
	if !strings.Contains(out.String(), "Client throughput=0.1 success=100.00% min=5.0 max=5.0 mean=5.0\n") {
		t.Errorf("first summary, one success in 10 s:\n%s", out.String())
	}
}
