// Command controller is Clockwork's controller. It connects to the workers,
// loads the models clients ask for during its startup phase, then schedules
// their inference requests.
//
//	controller TYPE WORKERS [generate_inputs] [max_gpus] [schedule_ahead] [default_slo] [max_exec] [max_batch]
//
// Run `controller -h` for the options.
package main

import (
	"os"

	"github.com/clockwork-go/clockwork/internal/controllercmd"
)

func main() {
	os.Exit(controllercmd.Main(os.Args[1:], os.Stdout, os.Stderr))
}
