//go:build !linux || !cgo

package envcheck

import "errors"

// nvmlGPUs fails: NVML is reached through package cuda, which needs Linux
// and cgo.
func nvmlGPUs() ([]GPU, error) {
	return nil, errors.New("GPUs not queried: NVML is reached only from Linux builds with cgo")
}
