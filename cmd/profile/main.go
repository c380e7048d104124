// Command profile checks that a host is ready to run a Clockwork worker
// with predictable latency, and reports its GPUs.
//
// Usage:
//
//	profile [check]   one line per item, ✔ or ✘, with how to fix failures;
//	                  exits 1 if a required item fails
//	profile status    GPU count, compute capability and CPU affinity per GPU
package main

import (
	"fmt"
	"os"

	"github.com/clockwork-go/clockwork/internal/envcheck"
)

func main() {
	cmd := "check"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	if len(os.Args) > 2 {
		cmd = "" // too many arguments
	}
	sys := envcheck.Host()
	switch cmd {
	case "check":
		items := envcheck.Check(sys)
		if err := envcheck.Write(os.Stdout, items); err != nil {
			os.Exit(2)
		}
		if !envcheck.Passed(items) {
			os.Exit(1)
		}
	case "status":
		if err := envcheck.Status(os.Stdout, sys); err != nil {
			os.Exit(2)
		}
	default:
		fmt.Fprintln(os.Stderr, "usage: profile [check|status]")
		os.Exit(2)
	}
}
