//go:build linux && cgo

package cuda

// CodeNoSymbol is the Code of an Error whose function could not be called
// because its library is not loaded or lacks it.
const CodeNoSymbol = -1

// Error is a failed call into an NVIDIA library.
type Error struct {
	Func string // API function, e.g. "cuMemAlloc"
	Code int    // the library's status code, or CodeNoSymbol
	Msg  string // the library's description of Code

	driver bool // Code is a CUresult (the other libraries' codes overlap)
}

func (e *Error) Error() string { return "cuda: " + e.Func + ": " + e.Msg }

// Unwrap returns ErrNoSymbol for a function that could not be called.
func (e *Error) Unwrap() error {
	if e.Code == CodeNoSymbol {
		return ErrNoSymbol
	}
	return nil
}

// Sticky reports whether e is one of the CUDA driver's errors that leave
// the context unusable: the faults CUDA's documentation says leave "the
// process in an inconsistent state" (every later call fails the same way
// until the process is relaunched), the uncorrectable memory and NVLink
// errors, and a destroyed context. The driver's other errors, in the same
// number ranges (701, a launch out of resources; 712, host memory already
// registered; 720, a cooperative launch too large), fail one call only.
func (e *Error) Sticky() bool { return e.driver && stickyCodes[e.Code] }

var stickyCodes = map[int]bool{
	214: true, // CUDA_ERROR_ECC_UNCORRECTABLE
	220: true, // CUDA_ERROR_NVLINK_UNCORRECTABLE
	226: true, // CUDA_ERROR_CONTAINED
	700: true, // CUDA_ERROR_ILLEGAL_ADDRESS
	702: true, // CUDA_ERROR_LAUNCH_TIMEOUT
	709: true, // CUDA_ERROR_CONTEXT_IS_DESTROYED
	710: true, // CUDA_ERROR_ASSERT
	714: true, // CUDA_ERROR_HARDWARE_STACK_ERROR
	715: true, // CUDA_ERROR_ILLEGAL_INSTRUCTION
	716: true, // CUDA_ERROR_MISALIGNED_ADDRESS
	717: true, // CUDA_ERROR_INVALID_ADDRESS_SPACE
	718: true, // CUDA_ERROR_INVALID_PC
	719: true, // CUDA_ERROR_LAUNCH_FAILED
	721: true, // CUDA_ERROR_TENSOR_MEMORY_LEAK
	810: true, // CUDA_ERROR_MPS_CLIENT_TERMINATED
	911: true, // CUDA_ERROR_EXTERNAL_DEVICE
}
