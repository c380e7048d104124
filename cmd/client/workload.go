package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/clockwork-go/clockwork/client"
	"github.com/clockwork-go/clockwork/internal/workload"
)

// errConnectionLost is the cause of a run ended by the controller's
// connection failing.
var errConnectionLost = errors.New("connection to the controller lost")

// runWorkload is "client [flags] <host:port> <workload> [args...]".
func runWorkload(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	period := fs.Duration("summary-period", 10*time.Second, "how often to print the throughput and latency line")
	duration := fs.Duration("duration", 0, "stop the workload this long after it starts (0: when it ends by itself)")
	seed := fs.Uint64("seed", 0, "mixed into every random choice; equal seeds make equal request schedules")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout, fs)
			return 0
		}
		return usageErrorf(stderr, "%v", err)
	}
	if fs.NArg() < 2 {
		return usageErrorf(stderr, "need <host:port> and <workload>")
	}
	addr, name := fs.Arg(0), fs.Arg(1)
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		return usageErrorf(stderr, "address %q is not host:port", addr)
	}
	def := workload.Lookup(name)
	if def == nil {
		return usageErrorf(stderr, "Unknown workload %s", name)
	}
	wargs, err := def.Parse(fs.Args()[2:])
	if err != nil {
		return usageErrorf(stderr, "%v", err)
	}
	if *period <= 0 || *duration < 0 {
		return usageErrorf(stderr, "-summary-period must be positive and -duration not negative")
	}

	fmt.Fprintf(stdout, "Running workload `%s` on %s\n", name, addr)
	if os.Getenv("CLOCKWORK_DISABLE_INPUTS") == "1" {
		fmt.Fprintln(stdout, "Client inputs are DISABLED.  Set CLOCKWORK_DISABLE_INPUTS=0 to enable inputs.")
	} else {
		fmt.Fprintln(stdout, "Client is sending inputs with requests.  Set CLOCKWORK_DISABLE_INPUTS=1 to disable inputs.")
	}

	sigCtx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancelCause(sigCtx)
	defer cancel(nil)

	sum := client.NewSummary()
	c, err := client.Connect(addr, client.WithLog(stdout), client.WithSummary(sum))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer c.Close()
	// Closing the connection unblocks a load or LS in flight when the run
	// is interrupted.
	context.AfterFunc(ctx, func() { c.Close() })

	engine := workload.NewEngine(workload.Options{Out: stdout, Seed: *seed})
	env := &workload.Env{
		Engine:   engine,
		Loader:   remote{c: c, lost: func(err error) { cancel(fmt.Errorf("%w: %v", errConnectionLost, err)) }},
		ModelDir: os.Getenv("CLOCKWORK_MODEL_DIR"),
		TraceDir: os.Getenv("AZURE_TRACE_DIR"),
	}
	if err := def.Build(env, wargs); err != nil {
		return exitStatus(ctx, stderr, err)
	}
	if _, err := c.AwaitReady(ctx, stdout); err != nil {
		var se *client.StatusError
		if errors.As(err, &se) {
			err = fmt.Errorf("LS error: %s", se.Message)
		}
		err = lostOr(err)
		return exitStatus(ctx, stderr, err)
	}

	sum.Line(time.Now()) // the first period starts with the workload
	var printer sync.WaitGroup
	defer printer.Wait()
	done := make(chan struct{})
	defer close(done)
	printer.Go(func() { sum.Run(stdout, *period, done) })
	engine.StopAfter(*duration)
	return exitStatus(ctx, stderr, engine.Run(ctx))
}

// exitStatus reports how a run ended: an interrupted run (signal) ends
// cleanly; a lost connection or err is an error.
func exitStatus(ctx context.Context, stderr io.Writer, err error) int {
	if cause := context.Cause(ctx); errors.Is(cause, errConnectionLost) {
		fmt.Fprintln(stderr, cause)
		return 1
	}
	if ctx.Err() != nil {
		return 0
	}
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, err)
	if errors.As(err, new(*workload.UsageError)) {
		return 2
	}
	return 1
}
