// Package cuda binds the NVIDIA libraries the worker needs: the CUDA
// driver API (libcuda.so.1), cuDNN 9 (its legacy convolution API), cuBLAS,
// NVRTC and NVML.
//
// The libraries are opened at run time with dlopen and their functions
// found with dlsym, through prototypes written in this package; no CUDA
// header is needed. So the project builds, and its tests pass, on a
// machine without CUDA, and one binary runs on any GPU host whose
// libraries provide the symbols. A library that cannot be found is an
// error (*LoadError) naming the places searched; a function the library
// lacks, or a call before its library is loaded, returns an error wrapping
// ErrNoSymbol instead of calling a null pointer. Every other failure is an
// *Error carrying the library's own status code and message.
//
// The package needs cgo on Linux. Other builds (CGO_ENABLED=0, macOS)
// leave it empty, as they do package runtime/cuda; package runtime/device
// then says the CUDA runtime is missing and the worker runs on the CPU.
//
// Libraries are searched for in the directories of $CLOCKWORK_CUDA_LIB_DIR,
// then by the dynamic loader (LD_LIBRARY_PATH, the ld.so cache), then in
// the usual CUDA and driver directories, and last in the nvidia/*/lib
// directories of Python's site-packages, where PyTorch's wheels put cuDNN,
// cuBLAS and NVRTC.
//
// Calls are cheap: one cgo call (about 36 ns) and no allocation on the
// paths that serve inferences (launches, copies, event records and
// queries). Handles are small values; device memory is a DevicePtr
// (an address, not a Go pointer); host memory that asynchronous copies
// touch must be pinned (HostMem).
//
// The current CUDA context belongs to an OS thread. A goroutine that calls
// into CUDA must call runtime.LockOSThread and then Context.SetCurrent;
// cuDNN and cuBLAS use the device's primary context (PrimaryCtxRetain).
package cuda
