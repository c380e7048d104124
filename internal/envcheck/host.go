package envcheck

import (
	"os"
	"syscall"
)

// Host is the System of this machine; GPUs come from NVML.
func Host() System {
	return System{Getenv: os.Getenv, Rlimit: getrlimit, ReadFile: os.ReadFile, GPUs: nvmlGPUs}
}

func getrlimit(resource int) (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(resource, &r); err != nil {
		return 0, err
	}
	return r.Cur, nil
}
