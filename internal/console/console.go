// Package console renders strings from peers for the processes' console
// lines, which users and scripts read line by line.
package console

import (
	"strconv"
	"strings"
	"unicode"
)

// Safe is s as it is, or quoted with Go's escapes where it holds a
// control character, so that a peer's string (a model path) cannot break
// a console line or forge another: a LoadModel path holding a newline and
// "Lost connection to worker 0" printed that line.
func Safe(s string) string {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return strconv.Quote(s)
	}
	return s
}
