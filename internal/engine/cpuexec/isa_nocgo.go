//go:build !cgo

package cpuexec

// Kernels names the instruction set the executor's kernels run: "go", as
// built without cgo (with cgo: "avx512", "avx2" or "base").
func Kernels() string { return "go" }
