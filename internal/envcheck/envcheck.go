// Package envcheck implements `profile check` and `profile status`: it
// checks that a host is set up to run a worker with predictable latency
// (the environment, resource limits and sysctls the original's check
// required) and reports its GPUs.
//
// Everything the checks read comes through a System, so that tests can
// inject it; Host returns the real one.
package envcheck

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/clockwork-go/clockwork/internal/affinity"
)

// Level says how an item counts.
type Level int

const (
	Pass   Level = iota // ✔
	Fail                // ✘, fails the check
	Advise              // ✘, reported but does not fail the check
	Info                // •, a fact
)

// Item is one line of the check.
type Item struct {
	Level Level
	Text  string
	Fix   string // how to fix a Fail or Advise item
}

// GPU describes one GPU as NVML reports it; zero values mean unknown.
type GPU struct {
	Index       int
	Name        string
	Persistence *bool
	ComputeMode string // "Default", "Exclusive_Process", …
	SMClock     uint32 // MHz
	MaxSMClock  uint32
	AppSMClock  uint32 // applications clock (nvidia-smi -ac)
	PCIeWidth   int
	CC          string // compute capability, "9.0"
	CPUs        []int  // CPU affinity
}

// System is what the checks read.
type System struct {
	Getenv   func(string) string
	Rlimit   func(resource int) (soft uint64, err error) // RLIMIT_* soft limit
	ReadFile func(path string) ([]byte, error)
	GPUs     func() ([]GPU, error) // an error means none can be found
}

// Resource limits checked (Linux numbering) and the soft limit meaning
// unlimited.
const (
	RlimitNofile  = 7
	RlimitMemlock = 8
	RlimitRtprio  = 14
	Unlimited     = ^uint64(0)
)

const (
	minNofile      = 65535
	minMaxMapCount = 10_000_000
	maxMapCount    = "/proc/sys/vm/max_map_count"
)

// Check runs every item of `profile check`.
func Check(sys System) []Item {
	items := []Item{
		envEquals(sys, "CUDA_CACHE_DISABLE", "1", "export CUDA_CACHE_DISABLE=1"),
		envNotOne(sys, "CUDA_FORCE_PTX_JIT", "unset CUDA_FORCE_PTX_JIT"),
		rlimit(sys, RlimitNofile, "RLIMIT_NOFILE (open files)", minNofile,
			"ulimit -n 65535; raise the hard limit with '* - nofile 65535' in /etc/security/limits.conf (docker: --ulimit nofile=65535)"),
		rlimit(sys, RlimitMemlock, "RLIMIT_MEMLOCK (locked memory)", Unlimited,
			"ulimit -l unlimited; '* - memlock unlimited' in /etc/security/limits.conf (docker: --ulimit memlock=-1)"),
		rlimit(sys, RlimitRtprio, "RLIMIT_RTPRIO (real-time priority)", Unlimited,
			"ulimit -r unlimited; '* - rtprio unlimited' in /etc/security/limits.conf (docker: --ulimit rtprio=-1)"),
		mapCount(sys),
	}
	items = append(items, gpuItems(sys)...)
	if f := sys.Getenv("CLOCKWORK_CONFIG_FILE"); f != "" {
		items = append(items, Item{Level: Info, Text: "CLOCKWORK_CONFIG_FILE=" + f})
	} else {
		items = append(items, Item{Level: Info, Text: "CLOCKWORK_CONFIG_FILE is not set: the worker uses config/default.cfg"})
	}
	return items
}

func envEquals(sys System, name, want, fix string) Item {
	v := sys.Getenv(name)
	if v == want {
		return Item{Level: Pass, Text: name + "=" + v}
	}
	text := name + " is not set, want " + want
	if v != "" {
		text = fmt.Sprintf("%s=%s, want %s", name, v, want)
	}
	return Item{Level: Fail, Text: text, Fix: fix}
}

func envNotOne(sys System, name, fix string) Item {
	if v := sys.Getenv(name); v == "1" {
		return Item{Level: Fail, Text: name + "=1 forces PTX JIT compilation", Fix: fix}
	}
	return Item{Level: Pass, Text: name + " is not 1"}
}

func limitString(v uint64) string {
	if v == Unlimited {
		return "unlimited"
	}
	return strconv.FormatUint(v, 10)
}

func rlimit(sys System, resource int, name string, min uint64, fix string) Item {
	soft, err := sys.Rlimit(resource)
	if err != nil {
		return Item{Level: Fail, Text: fmt.Sprintf("%s: %v", name, err), Fix: fix}
	}
	want := "≥ " + limitString(min)
	if min == Unlimited {
		want = "unlimited"
	}
	if soft >= min {
		return Item{Level: Pass, Text: fmt.Sprintf("%s is %s", name, limitString(soft))}
	}
	return Item{Level: Fail, Text: fmt.Sprintf("%s is %s, want %s", name, limitString(soft), want), Fix: fix}
}

func mapCount(sys System) Item {
	const fix = "sudo sysctl -w vm.max_map_count=10000000 (and put vm.max_map_count=10000000 in /etc/sysctl.d/99-clockwork.conf)"
	b, err := sys.ReadFile(maxMapCount)
	if err != nil {
		return Item{Level: Fail, Text: fmt.Sprintf("vm.max_map_count unreadable (%v), want ≥ %d", err, minMaxMapCount), Fix: fix}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return Item{Level: Fail, Text: fmt.Sprintf("vm.max_map_count is %q, want ≥ %d", strings.TrimSpace(string(b)), minMaxMapCount), Fix: fix}
	}
	if n < minMaxMapCount {
		return Item{Level: Fail, Text: fmt.Sprintf("vm.max_map_count is %d, want ≥ %d", n, minMaxMapCount), Fix: fix}
	}
	return Item{Level: Pass, Text: fmt.Sprintf("vm.max_map_count is %d", n)}
}

// gpuItems reports the GPUs; none is not a failure, since the CPU worker
// needs none.
func gpuItems(sys System) []Item {
	gpus, err := sys.GPUs()
	if err != nil {
		return []Item{{Level: Info, Text: fmt.Sprintf("Found 0 GPUs (%v): only the CPU worker and worker_dummy can run", err)}}
	}
	items := []Item{{Level: Info, Text: fmt.Sprintf("Found %d GPUs", len(gpus))}}
	if len(gpus) == 0 {
		items[0].Text += ": only the CPU worker and worker_dummy can run"
	}
	for _, g := range gpus {
		items = append(items, persistence(g), computeMode(g), Item{Level: Info, Text: describe(g)})
	}
	return items
}

func persistence(g GPU) Item {
	switch {
	case g.Persistence == nil:
		return Item{Level: Advise, Text: fmt.Sprintf("GPU %d persistence mode unknown", g.Index),
			Fix: fmt.Sprintf("sudo nvidia-smi -i %d -pm 1", g.Index)}
	case *g.Persistence:
		return Item{Level: Pass, Text: fmt.Sprintf("GPU %d persistence mode enabled", g.Index)}
	}
	return Item{Level: Advise, Text: fmt.Sprintf("GPU %d persistence mode disabled", g.Index),
		Fix: fmt.Sprintf("sudo nvidia-smi -i %d -pm 1", g.Index)}
}

func computeMode(g GPU) Item {
	if g.ComputeMode == "Exclusive_Process" {
		return Item{Level: Pass, Text: fmt.Sprintf("GPU %d compute mode Exclusive_Process", g.Index)}
	}
	mode := g.ComputeMode
	if mode == "" {
		mode = "unknown"
	}
	return Item{Level: Advise, Text: fmt.Sprintf("GPU %d compute mode %s, want Exclusive_Process", g.Index, mode),
		Fix: fmt.Sprintf("sudo nvidia-smi -i %d -c EXCLUSIVE_PROCESS", g.Index)}
}

// describe is the NVML dump of one GPU: name, clocks, PCIe link and
// compute capability.
func describe(g GPU) string {
	mhz := func(v uint32) string {
		if v == 0 {
			return "?"
		}
		return strconv.FormatUint(uint64(v), 10)
	}
	width := "?"
	if g.PCIeWidth > 0 {
		width = strconv.Itoa(g.PCIeWidth)
	}
	cc := g.CC
	if cc == "" {
		cc = "?"
	}
	return fmt.Sprintf("GPU %d %s: SM clock %s MHz (max %s, applications %s), PCIe x%s, compute capability %s",
		g.Index, g.Name, mhz(g.SMClock), mhz(g.MaxSMClock), mhz(g.AppSMClock), width, cc)
}

// Passed reports whether no item failed.
func Passed(items []Item) bool {
	for _, it := range items {
		if it.Level == Fail {
			return false
		}
	}
	return true
}

var marks = [...]string{Pass: "✔", Fail: "✘", Advise: "✘", Info: "•"}

// Write prints the items, one a line, with the fix of each failure under
// it, and a last line with the verdict.
func Write(w io.Writer, items []Item) error {
	var b strings.Builder
	failed := 0
	for _, it := range items {
		b.WriteString(marks[it.Level] + " " + it.Text)
		if it.Level == Advise {
			b.WriteString(" (advisory: does not fail the check)")
		}
		b.WriteByte('\n')
		if it.Fix != "" && (it.Level == Fail || it.Level == Advise) {
			b.WriteString("    fix: " + it.Fix + "\n")
		}
		if it.Level == Fail {
			failed++
		}
	}
	if failed == 0 {
		b.WriteString("profile check passed\n")
	} else {
		fmt.Fprintf(&b, "profile check failed: %d item(s) to fix\n", failed)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Status writes `profile status`: the GPUs with their compute capability
// and CPU affinity.
func Status(w io.Writer, sys System) error {
	gpus, err := sys.GPUs()
	var b strings.Builder
	switch {
	case err != nil:
		fmt.Fprintf(&b, "no GPUs (%v)\n", err)
	case len(gpus) == 0:
		b.WriteString("no GPUs\n")
	default:
		fmt.Fprintf(&b, "Found %d GPUs\n", len(gpus))
		for _, g := range gpus {
			cc := g.CC
			if cc == "" {
				cc = "?"
			}
			cpus := affinity.FormatList(g.CPUs)
			if cpus == "" {
				cpus = "?"
			}
			fmt.Fprintf(&b, "GPU %d %s: compute capability %s, CPU affinity %s\n", g.Index, g.Name, cc, cpus)
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}
