// Command worker_dummy is a Clockwork worker that simulates GPUs: it answers
// every action as a real worker would, but instead of computing it waits the
// time profiled in each model's model.measurements file.
//
//	worker_dummy [-n GPUS] [-p PORT] [-c CONFIG] [--slow_execs SHARE:MIN-MAX]
//
// --slow_execs makes a share of the execs run longer than profiled, as a
// real GPU's occasional slow execs do (1%:4%-10% on the H200 under INFER5);
// the original's dummy, and ours by default, is exact.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/clockwork-go/clockwork/internal/config"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/sim"
	"github.com/clockwork-go/clockwork/internal/workercmd"
)

func main() {
	gpus := 1
	slow := ""
	os.Exit(workercmd.Main(workercmd.Spec{
		Name: "worker_dummy",
		Usage: "  -n, --num_gpus N     number of GPUs to simulate (default 1)\n" +
			"      --slow_execs S:A-B\n" +
			"                       make the share S of the execs run longer by A to B of\n" +
			"                       their profiled time, as 1%:4%-10% (default none: exact)\n",
		Flags: func(fs *flag.FlagSet) {
			fs.IntVar(&gpus, "n", gpus, "")
			fs.IntVar(&gpus, "num_gpus", gpus, "")
			fs.StringVar(&slow, "slow_execs", slow, "")
		},
		Runtime: func(*config.Worker, io.Writer) (runtime.Runtime, error) {
			if gpus < 1 {
				return nil, fmt.Errorf("-n must be at least 1, not %d", gpus)
			}
			s, err := sim.ParseSlowExecs(slow)
			if err != nil {
				return nil, err
			}
			rt := sim.New(gpus)
			if s.Share > 0 {
				rt.SetSlowExecs(s, uint64(time.Now().UnixNano()))
			}
			return rt, nil
		},
	}, os.Args[1:], os.Stdout, os.Stderr))
}
