// Command worker_dummy is a Clockwork worker that simulates GPUs: it answers
// every action as a real worker would, but instead of computing it waits the
// time profiled in each model's model.measurements file.
//
//	worker_dummy [-n GPUS] [-p PORT] [-c CONFIG]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/clockwork-go/clockwork/internal/config"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/sim"
	"github.com/clockwork-go/clockwork/internal/workercmd"
)

func main() {
	gpus := 1
	os.Exit(workercmd.Main(workercmd.Spec{
		Name:  "worker_dummy",
		Usage: "  -n, --num_gpus N     number of GPUs to simulate (default 1)\n",
		Flags: func(fs *flag.FlagSet) {
			fs.IntVar(&gpus, "n", gpus, "")
			fs.IntVar(&gpus, "num_gpus", gpus, "")
		},
		Runtime: func(*config.Worker, io.Writer) (runtime.Runtime, error) {
			if gpus < 1 {
				return nil, fmt.Errorf("-n must be at least 1, not %d", gpus)
			}
			return sim.New(gpus), nil
		},
	}, os.Args[1:], os.Stdout, os.Stderr))
}
