package engine

import "fmt"

// Error reports a model the engine cannot import or plan: a malformed file,
// an unsupported operator or data type, a shape mismatch, an unknown tensor,
// or a weight that does not fit a page.
type Error struct {
	Op   string // ONNX operator type of the node concerned, if any
	Node string // name of that node in the file (may be empty)
	Msg  string
}

func (e *Error) Error() string {
	if e.Op == "" {
		return "onnx model: " + e.Msg
	}
	if e.Node == "" {
		return fmt.Sprintf("onnx model: %s node: %s", e.Op, e.Msg)
	}
	return fmt.Sprintf("onnx model: %s node %q: %s", e.Op, e.Node, e.Msg)
}

func errorf(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

func nodeErrorf(op, node, format string, args ...any) error {
	return &Error{Op: op, Node: node, Msg: fmt.Sprintf(format, args...)}
}

// msgOf is an error's message without the Error prefix, for re-wrapping an
// error about a tensor into one about the node using it.
func msgOf(err error) string {
	if e, ok := err.(*Error); ok && e.Op == "" {
		return e.Msg
	}
	return err.Error()
}
