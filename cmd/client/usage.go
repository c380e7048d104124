package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/clockwork-go/clockwork/internal/workload"
)

// usage writes the help: invocation, flags, environment, sub-commands and
// every workload.
func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `Usage:
  client [flags] <host:port> <workload> [args...]
  client gen-trace [flags]
  client trace-stats <file or dir>...

Runs a named workload against the Clockwork controller at host:port (it
listens on port 12346 by default). Workload arguments are positional, in
the order shown, or name=value; optional ones, in brackets, take the
defaults shown. Flags go before the address.

Flags:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, `
Environment:
  CLOCKWORK_MODEL_DIR       model zoo; workloads load models by name from it (required)
  AZURE_TRACE_DIR           directory of Azure Functions trace day files (azure workloads)
  CLOCKWORK_DISABLE_INPUTS  1: requests carry no input (the controller or worker makes one)

Sub-commands:
  gen-trace    write a synthetic Azure Functions trace in the dataset's layout
               (client gen-trace -h for its flags)
  trace-stats  summarise trace day files, generated or real: functions,
               invocations, share of the top 1% and 18.6% of functions,
               peak-to-mean minute rate, trigger mix

Workloads:
`)
	workload.Describe(w)
}
