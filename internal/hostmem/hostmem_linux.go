package hostmem

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Limit is the memory this process may use in bytes: the machine's,
// or its cgroup's limit where that is less (in a container); 0 if unknown.
func Limit() uint64 {
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) != nil {
		return 0
	}
	total := uint64(si.Totalram) * uint64(si.Unit)
	for _, f := range []string{
		"/sys/fs/cgroup/memory.max",                   // cgroup v2 ("max": none)
		"/sys/fs/cgroup/memory/memory.limit_in_bytes", // cgroup v1
	} {
		if limit, ok := readLimit(f); ok && limit > 0 && limit < total {
			total = limit
		}
	}
	return total
}

// readLimit reads a cgroup memory limit file; false where there is none.
func readLimit(path string) (uint64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	return n, err == nil
}
