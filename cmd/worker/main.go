// Command worker is a Clockwork worker that runs real models (ONNX files):
// on NVIDIA GPUs with the CUDA runtime, or on the CPU where there is none.
//
//	worker [-p PORT] [-c CONFIG] [-device auto|cpu|cuda]
//
// With CLOCKWORK_WORKER_PPROF=host:port set it also serves net/http/pprof
// there, to profile the serving path under a real load (cmd/gpucheck
// -overhead).
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	_ "net/http/pprof"
	"os"

	"github.com/clockwork-go/clockwork/internal/config"
	"github.com/clockwork-go/clockwork/internal/runtime"
	"github.com/clockwork-go/clockwork/internal/runtime/device"
	"github.com/clockwork-go/clockwork/internal/workercmd"
)

// envPprof names the variable with the address to serve pprof on.
const envPprof = "CLOCKWORK_WORKER_PPROF"

func main() {
	if addr := os.Getenv(envPprof); addr != "" {
		go func() { fmt.Fprintf(os.Stderr, "pprof: %v\n", http.ListenAndServe(addr, nil)) }()
	}
	kind := device.Auto
	tf32, versionPrinted := false, false
	os.Exit(workercmd.Main(workercmd.Spec{
		Name: "worker",
		Usage: "      --device KIND    where models run: auto (GPUs if present, else CPU), cpu or cuda (default auto)\n" +
			"      --tf32           allow TF32 tensor cores on GPUs (faster, less exact; default off)\n",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&kind, "device", kind, "")
			fs.BoolVar(&tf32, "tf32", false, "")
		},
		// The original's first line is the CUDA versions.
		Banner: func(out io.Writer) {
			if kind == device.CPU {
				return
			}
			if line, err := device.VersionLine(); err == nil {
				fmt.Fprintln(out, line)
				versionPrinted = true
			}
		},
		Runtime: func(cfg *config.Worker, out io.Writer) (runtime.Runtime, error) {
			rt, err := device.Open(kind, device.Config{
				PageSize: cfg.PageSize, WeightsCacheSize: cfg.WeightsCacheSize, IOPoolSize: cfg.IOPoolSize,
				WorkspacePoolSize: cfg.WorkspacePoolSize, HostIOPoolSize: cfg.HostIOPoolSize, Measure: true, TF32: tf32,
				VersionPrinted: versionPrinted,
			}, out)
			if err == nil {
				fmt.Fprintf(out, "Runtime: %s\n", rt.Name())
			}
			return rt, err
		},
	}, os.Args[1:], os.Stdout, os.Stderr))
}
