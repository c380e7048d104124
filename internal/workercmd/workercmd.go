// Package workercmd is the command line shared by worker and worker_dummy:
// parse the original's options, load the configuration, build a runtime and
// serve until interrupted.
package workercmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/clockwork-go/clockwork/internal/affinity"
	"github.com/clockwork-go/clockwork/internal/awake"
	"github.com/clockwork-go/clockwork/internal/config"
	"github.com/clockwork-go/clockwork/internal/hostmem"
	"github.com/clockwork-go/clockwork/internal/promtext"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/worker"
)

// Spec describes one of the two worker binaries.
type Spec struct {
	Name  string // binary name, for usage
	Usage string // extra usage text
	// Flags registers binary-specific flags.
	Flags func(fs *flag.FlagSet)
	// Banner, if set, prints what comes before "Starting Clockwork
	// Worker" (the real worker's CUDA versions).
	Banner func(out io.Writer)
	// Runtime builds the runtime once the configuration is loaded. It may
	// print start-up lines to out.
	Runtime func(cfg *config.Worker, out io.Writer) (runtime.Runtime, error)
}

// Main runs the worker and returns its exit status.
func Main(spec Spec, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(spec.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var (
		port     = 12345
		cfgFile  string
		bindHost string
		cpuList  string
		awakeOn  bool
		metrics  string
		maxInput string
	)
	fs.IntVar(&port, "p", port, "")
	fs.IntVar(&port, "port", port, "")
	fs.StringVar(&cfgFile, "c", "", "")
	fs.StringVar(&cfgFile, "config", "", "")
	fs.StringVar(&bindHost, "bind", "", "")
	fs.StringVar(&cpuList, "cpus", "", "")
	fs.BoolVar(&awakeOn, "awake", false, "")
	fs.StringVar(&metrics, "metrics", "", "")
	fs.StringVar(&maxInput, "max-queued-input", "", "")
	if spec.Flags != nil {
		spec.Flags(fs)
	}
	usage := func(w io.Writer) {
		fmt.Fprintf(w, "Usage: %s [options]\n", spec.Name)
		fmt.Fprintf(w, "  -p, --port PORT      port to listen on for the controller (default 12345; 0 picks a free port)\n")
		fmt.Fprintf(w, "  -c, --config FILE    worker config overriding config/default.cfg (default: $CLOCKWORK_CONFIG_FILE)\n")
		fmt.Fprintf(w, "      --bind HOST      address to listen on (default: all interfaces)\n")
		fmt.Fprintf(w, "      --cpus LIST      run on these CPUs only, as 8-15 or 2,4-7 (default: all the process may use)\n")
		fmt.Fprintf(w, "      --awake          keep the worker's CPUs from idling: a SCHED_IDLE thread spins on each\n")
		fmt.Fprintf(w, "                       (on a virtual machine, a halted CPU wakes late; best with --cpus)\n")
		fmt.Fprintf(w, "      --metrics ADDR   serve Prometheus metrics at http://ADDR/metrics (ADDR is host:port, such as :8003)\n")
		fmt.Fprintf(w, "      --max-queued-input SIZE\n")
		fmt.Fprintf(w, "                       most bytes of input the Infers not yet answered may hold (%d more counted\n", worker.InferOverhead)
		fmt.Fprintf(w, "                       for each), such as 8G or 512M; an Infer past it is answered 74 (default:\n")
		fmt.Fprintf(w, "                       a quarter of the memory the process may use, or %s where that is\n", formatSize(fallbackQueuedInput))
		fmt.Fprintf(w, "                       unknown; 0: no bound)\n")
		fmt.Fprint(w, spec.Usage)
		fmt.Fprintf(w, "  -h, --help           show this help\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return 0
		}
		if msg := err.Error(); strings.HasPrefix(msg, "flag provided but not defined: ") {
			fmt.Fprintf(stderr, "Unknown option %s\n", asGiven(args, strings.TrimPrefix(msg, "flag provided but not defined: ")))
		} else {
			fmt.Fprintln(stderr, msg)
		}
		usage(stderr)
		return 1
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "Unknown option %s\n", fs.Arg(0))
		usage(stderr)
		return 1
	}
	if port < 0 || port > 65535 {
		fmt.Fprintf(stderr, "Invalid port %d\n", port)
		return 1
	}
	queuedInput, err := maxQueuedInput(maxInput)
	if err != nil {
		fmt.Fprintf(stderr, "Invalid --max-queued-input %q: %v\n", maxInput, err)
		return 1
	}
	if metrics != "" {
		if _, _, err := net.SplitHostPort(metrics); err != nil {
			fmt.Fprintf(stderr, "Invalid --metrics %q: %v\n", metrics, err)
			return 1
		}
	}
	// Before anything starts threads of its own (the CUDA driver does):
	// they inherit the CPUs.
	var cpus []int
	if cpuList != "" || awakeOn {
		var err error
		if cpus, err = pinCPUs(cpuList); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	if spec.Banner != nil {
		spec.Banner(stdout)
	}
	fmt.Fprintln(stdout, "Starting Clockwork Worker")
	if cpuList != "" {
		fmt.Fprintf(stdout, "Running on CPUs %s\n", affinity.FormatList(cpus))
	}
	if awakeOn {
		s, err := awake.Start(cpus)
		if err != nil {
			fmt.Fprintf(stderr, "Cannot keep CPUs %s awake: %v\n", affinity.FormatList(cpus), err)
			return 1
		}
		defer s.Stop()
		fmt.Fprintf(stdout, "Keeping CPUs %s awake: a SCHED_IDLE thread spins on each\n", affinity.FormatList(cpus))
	}
	// The metrics port is bound before the runtime starts (on a GPU,
	// seconds), so that a busy one fails at once; until the server exists
	// a scrape gets no metrics.
	var served atomic.Pointer[worker.Server]
	if metrics != "" {
		ms, err := promtext.Serve(metrics, func(w io.Writer) {
			if s := served.Load(); s != nil {
				s.WriteMetrics(w)
			}
		}, stdout, stderr)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		defer ms.Close()
	}
	cfg, err := config.Load(config.DefaultPath(), config.UserPath(cfgFile), stdout)
	if err != nil {
		fmt.Fprintf(stderr, "Bad worker configuration: %v\n", err)
		return 1
	}
	rt, err := spec.Runtime(cfg, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "Cannot start the worker's runtime: %v\n", err)
		return 1
	}
	defer rt.Close()
	l, err := net.Listen("tcp4", net.JoinHostPort(bindHost, strconv.Itoa(port)))
	if err != nil {
		fmt.Fprintf(stderr, "Cannot listen on port %d: %v\n", port, err)
		return 1
	}
	srv := worker.NewServer(worker.Config{
		PageSize:            cfg.PageSize,
		Pages:               cfg.Pages(),
		IOPoolSize:          cfg.IOPoolSize,
		WorkspacePoolSize:   cfg.WorkspacePoolSize,
		HostIOPoolSize:      cfg.HostIOPoolSize,
		AllowZeroSizeInputs: cfg.AllowZeroSizeInputs,
		MaxQueuedInput:      queuedInput,
	}, rt, worker.Options{Console: stdout, SpinReads: spinReadsFromEnv(stderr), Metrics: metrics != ""})
	served.Store(srv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := srv.Serve(ctx, l); err != nil {
		fmt.Fprintf(stderr, "Server error: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "Clockwork Worker Exiting")
	return 0
}

// pinCPUs pins the process to the CPUs of list (all it may use if list is
// empty) and returns them.
func pinCPUs(list string) ([]int, error) {
	if list == "" {
		cpus, err := affinity.Allowed()
		if err != nil {
			return nil, fmt.Errorf("Cannot tell the worker's CPUs: %v", err)
		}
		return cpus, nil
	}
	cpus, err := affinity.ParseList(list)
	if err != nil {
		return nil, fmt.Errorf("Invalid --cpus: %v", err)
	}
	if err := affinity.PinProcess(cpus); err != nil {
		may := "?"
		if now, err := affinity.Allowed(); err == nil {
			may = affinity.FormatList(now)
		}
		return nil, fmt.Errorf("Cannot run on CPUs %s: %v (the worker runs on CPUs %s)", affinity.FormatList(cpus), err, may)
	}
	// The kernel leaves out, silently, CPUs the machine lacks or the
	// process's cpuset does not have.
	got, err := affinity.Allowed()
	if err != nil {
		return nil, fmt.Errorf("Cannot tell the worker's CPUs: %v", err)
	}
	if !slices.Equal(got, cpus) {
		return nil, fmt.Errorf("Cannot run on CPUs %s: only %s of them are available here", affinity.FormatList(cpus), affinity.FormatList(got))
	}
	return cpus, nil
}

// fallbackQueuedInput is the default of --max-queued-input where the
// memory the process may use is unknown.
const fallbackQueuedInput = 4 << 30

// maxQueuedInput is the bound --max-queued-input sets (worker.Config's
// MaxQueuedInput): the flag's size, else a quarter of the memory the
// process may use.
func maxQueuedInput(flag string) (uint64, error) {
	if flag != "" {
		return parseSize(flag)
	}
	if m := hostmem.Limit(); m > 0 {
		return m / 4, nil
	}
	return fallbackQueuedInput, nil
}

// sizeUnits are the suffixes parseSize takes, powers of 1024.
var sizeUnits = []struct {
	suffix string
	shift  uint
}{{"K", 10}, {"M", 20}, {"G", 30}, {"T", 40}}

// parseSize reads a byte count with an optional suffix K, M, G or T
// (powers of 1024; KiB, KB and k are read alike).
func parseSize(s string) (uint64, error) {
	num, shift := strings.TrimSpace(s), uint(0)
	upper := strings.ToUpper(num)
	for _, u := range sizeUnits {
		for _, suf := range []string{u.suffix + "IB", u.suffix + "B", u.suffix} {
			if strings.HasSuffix(upper, suf) {
				num, shift = num[:len(num)-len(suf)], u.shift
				break
			}
		}
		if shift != 0 {
			break
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want a number of bytes, such as 8G, 512M or 1048576")
	}
	if n > math.MaxUint64>>shift {
		return 0, fmt.Errorf("more than 2^64 bytes")
	}
	return n << shift, nil
}

// formatSize writes n bytes as parseSize reads them, in the largest unit
// that divides it.
func formatSize(n uint64) string {
	for i := len(sizeUnits) - 1; i >= 0; i-- {
		if u := sizeUnits[i]; n > 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatUint(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatUint(n, 10)
}

// EnvSpinReads names the environment variable that makes the worker's
// network reads poll their sockets for a while before parking
// (worker.Options.SpinReads): a duration such as "5ms"; unset, reads park
// at once.
const EnvSpinReads = "CLOCKWORK_WORKER_SPIN_READS"

func spinReadsFromEnv(stderr io.Writer) time.Duration {
	v := os.Getenv(EnvSpinReads)
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		fmt.Fprintf(stderr, "Ignoring %s=%q: not a duration such as 5ms\n", EnvSpinReads, v)
		return 0
	}
	return d
}

// asGiven is the argument among args that the flag package reports as
// name (always with one dash), as the user wrote it: --bogus, not -bogus.
func asGiven(args []string, name string) string {
	want := strings.TrimLeft(name, "-")
	for _, a := range args {
		if a == "--" {
			break
		}
		if n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "="); strings.HasPrefix(a, "-") && n == want {
			return a
		}
	}
	return name
}
