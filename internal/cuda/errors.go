package cuda

// CodeNoSymbol is the Code of an Error whose function could not be called
// because its library is not loaded or lacks it.
const CodeNoSymbol = -1

// Error is a failed call into an NVIDIA library.
type Error struct {
	Func string // API function, e.g. "cuMemAlloc"
	Code int    // the library's status code, or CodeNoSymbol
	Msg  string // the library's description of Code
}

func (e *Error) Error() string { return "cuda: " + e.Func + ": " + e.Msg }

// Unwrap returns ErrNoSymbol for a function that could not be called.
func (e *Error) Unwrap() error {
	if e.Code == CodeNoSymbol {
		return ErrNoSymbol
	}
	return nil
}
