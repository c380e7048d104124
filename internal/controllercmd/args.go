// Package controllercmd is the controller's command line: the original's
// positional form
//
//	controller TYPE WORKERS [generate_inputs] [max_gpus] [schedule_ahead] [default_slo] [max_exec] [max_batch]
//
// plus equivalent named flags, which may appear anywhere.
package controllercmd

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/clockwork-go/clockwork/internal/scheduler/infer5"
	"github.com/clockwork-go/clockwork/internal/workerapi"
)

// Args are the parsed command line.
type Args struct {
	Type    string
	Workers []string

	GenerateInputs bool
	MaxGPUs        int
	ScheduleAhead  int64 // ns; 0 = the type's default
	DefaultSLO     int64
	MaxExec        int64
	MaxBatch       int // 0 = the type's default

	// DemandGuard makes INFER5 (and INFER4) load a model only while the
	// GPUs holding it cannot serve its demand (the guard the original
	// meant to have, see README).
	DemandGuard bool
	// EstimateWindow and EstimatePercentile are INFER5's (and INFER4's)
	// exec and weights estimates: that percentile of the last that many
	// measurements (zero: infer5.DefaultEstimateWindow and
	// DefaultEstimatePercentile, 20 and 0.9; the original's were 10 and
	// 0.99).
	EstimateWindow     int
	EstimatePercentile float64

	// StressModel and StressCopies are STRESS's model and copies per
	// worker (zero: $CLOCKWORK_MODEL_DIR/resnet50_v2/model and 40).
	StressModel  string
	StressCopies int

	// MaxClients bounds the client connections served at once (0:
	// wire.DefaultConnLimit).
	MaxClients int

	Port   int    // client port
	LogDir string // "" = $CLOCKWORK_LOG_DIR or /local
	// Metrics is the host:port to serve Prometheus metrics on ("": none).
	Metrics string
	Help    bool
}

// positional option names, in order after TYPE and WORKERS.
var positional = []string{"generate_inputs", "max_gpus", "schedule_ahead", "default_slo", "max_exec", "max_batch"}

// Parse parses args (without the program name).
func Parse(args []string) (*Args, error) {
	a := &Args{MaxGPUs: 100, DefaultSLO: 100e6, MaxExec: 250e6, Port: 12346, EstimateWindow: infer5.DefaultEstimateWindow, EstimatePercentile: infer5.DefaultEstimatePercentile}
	var pos []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "-h" || arg == "--help" || arg == "-help" {
			a.Help = true
			continue
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			pos = append(pos, arg)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		name = strings.ReplaceAll(name, "-", "_")
		if !hasVal {
			if name == "generate_inputs" || name == "demand_guard" {
				val = "1"
			} else {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("flag %s needs a value", arg)
				}
				i++
				val = args[i]
			}
		}
		if err := a.set(name, val); err != nil {
			return nil, err
		}
	}
	if a.Help {
		return a, nil
	}
	if len(pos) < 2 {
		return nil, errors.New("expected a controller TYPE and a comma-separated list of workers")
	}
	a.Type = strings.ToUpper(pos[0])
	for _, w := range strings.Split(pos[1], ",") {
		host, port, err := splitWorker(w)
		if err != nil {
			return nil, err
		}
		a.Workers = append(a.Workers, host+":"+port)
	}
	if len(pos)-2 > len(positional) {
		return nil, fmt.Errorf("too many options: %q", pos[2+len(positional):])
	}
	for i, v := range pos[2:] {
		if err := a.set(positional[i], v); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func splitWorker(w string) (host, port string, err error) {
	host, port, ok := strings.Cut(strings.TrimSpace(w), ":")
	if !ok || host == "" || port == "" {
		return "", "", fmt.Errorf("worker %q must be host:port", w)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return "", "", fmt.Errorf("worker %q has an invalid port", w)
	}
	return host, port, nil
}

func (a *Args) set(name, val string) error {
	var err error
	switch name {
	case "generate_inputs":
		var n int64
		n, err = strconv.ParseInt(val, 10, 64)
		if err != nil {
			var b bool
			b, err = strconv.ParseBool(val)
			a.GenerateInputs = b
		} else {
			a.GenerateInputs = n != 0
		}
	case "max_gpus":
		a.MaxGPUs, err = positiveInt(val)
	case "schedule_ahead":
		a.ScheduleAhead, err = nanos(val)
	case "default_slo":
		a.DefaultSLO, err = nanos(val)
	case "max_exec":
		a.MaxExec, err = nanos(val)
	case "max_batch":
		a.MaxBatch, err = positiveInt(val)
	case "port", "p":
		a.Port, err = strconv.Atoi(val)
		if err == nil && (a.Port < 0 || a.Port > 65535) {
			err = errors.New("out of range")
		}
	case "demand_guard":
		a.DemandGuard, err = strconv.ParseBool(val)
	case "estimate_window":
		a.EstimateWindow, err = positiveInt(val)
		if err == nil && a.EstimateWindow > 1000 {
			err = errors.New("at most 1000")
		}
	case "estimate_percentile":
		a.EstimatePercentile, err = strconv.ParseFloat(val, 64)
		if err == nil && !(a.EstimatePercentile > 0 && a.EstimatePercentile <= 1) {
			err = errors.New("must be above 0 and at most 1")
		}
	case "max_clients":
		a.MaxClients, err = positiveInt(val)
	case "log_dir":
		a.LogDir = val
	case "metrics":
		if _, _, err = net.SplitHostPort(val); err == nil {
			a.Metrics = val
		}
	case "stress_model":
		a.StressModel = val
	case "stress_copies":
		a.StressCopies, err = strconv.Atoi(val)
		if err == nil && (a.StressCopies < 4 || a.StressCopies > workerapi.MaxModels) {
			// Fewer would not churn: 2 loading, 1 evicting, 1 resident.
			err = fmt.Errorf("must be from 4 to %d", workerapi.MaxModels)
		}
	default:
		return fmt.Errorf("unknown flag -%s", name)
	}
	if err != nil {
		return fmt.Errorf("bad value %q for %s: %v", val, name, err)
	}
	return nil
}

func positiveInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err == nil && n < 1 {
		err = errors.New("must be at least 1")
	}
	return n, err
}

// nanos parses a duration given as integer nanoseconds (the original's
// form) or with a unit ("10ms").
func nanos(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n <= 0 {
			return 0, errors.New("must be positive")
		}
		return n, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("want nanoseconds or a duration such as 10ms")
	}
	if d <= 0 {
		return 0, errors.New("must be positive")
	}
	return int64(d), nil
}

// Usage is the help text.
const Usage = `Usage: controller [flags] TYPE WORKERS [generate_inputs] [max_gpus] [schedule_ahead] [default_slo] [max_exec] [max_batch]

TYPE is one of:
  INFER5     Clockwork's scheduler (ConcurrentInferAndLoadScheduler).
  INFER4     Its predecessor, which the original's documentation runs: a
             strategy per request and batch size, one queue per model,
             paced loads (max_batch 16 and schedule_ahead 10ms by default).
  BASELINE   A conventional server for comparison: per-model FIFO queues,
             AIMD batch sizes, weights loaded on demand, nothing dropped.
  ECHO       Answers every request at once with an empty output (tests).
  DIRECT     The original's test controller: each request goes to worker 0
             as it arrives, unscheduled, and everything is printed.
  STRESS     The original's worker stress test: no clients; loads copies of
             a model on every worker and keeps loading, evicting and
             running them on every GPU, printing figures every second.
             DIRECT and STRESS take no scheduler options.

WORKERS is a comma-separated list of host:port (workers listen on 12345).

Options, positional as in the original or as named flags anywhere:
  generate_inputs  -generate-inputs  1: substitute generated inputs for empty ones (default 0)
  max_gpus         -max-gpus N       use at most N GPUs, spread over workers (default 100)
  schedule_ahead   -schedule-ahead   ns (or 10ms) of work queued per GPU (default 10ms; 15ms with generate_inputs, not for INFER4)
  default_slo      -default-slo      ns SLO of requests without an SLO factor (default 100ms)
  max_exec         -max-exec         ns; batch sizes slower than this are not used (default 250ms)
  max_batch        -max-batch N      largest batch size (default 8; INFER4 16)
Other flags:
  -port N          client port (default 12346)
  -max-clients N   serve at most N clients at once; past it a new client's
                   connection is closed at once (default: the open-file limit
                   less an eighth, at most 4096)
  -log-dir DIR     telemetry directory (default $CLOCKWORK_LOG_DIR, else /local)
  -metrics ADDR    serve Prometheus metrics at http://ADDR/metrics (ADDR is
                   host:port, such as :8002; INFER5, INFER4, BASELINE, ECHO)
  -stress-model P  STRESS: the model (default $CLOCKWORK_MODEL_DIR/resnet50_v2/model)
  -stress-copies N STRESS: copies of it on each worker (default 40)
  -demand-guard    INFER5, INFER4: load a model onto another GPU only while
                   the GPUs holding it cannot serve its demand (the guard the
                   original meant to have; default off: as the original, any
                   model with requests is loaded wherever PCIe is free)
  -estimate-window N, -estimate-percentile P
                   INFER5, INFER4: estimate exec and weights transfer times as
                   the P percentile (0 < P ≤ 1) of the last N measurements
                   (default 20 and 0.9; the original's were 10 and 0.99,
                   about the largest of the last 10, which carries one slow
                   exec into the next ten predictions)
`
