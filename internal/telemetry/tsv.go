package telemetry

import (
	"bufio"
	"errors"
	"io"
	"math"
	"strconv"
)

var errClosed = errors.New("telemetry: log closed")

// tsvWriter is a buffered writer of tab-separated rows. Errors are sticky:
// after the first failed write every later call reports it and writes
// nothing, so a full disk costs the controller telemetry, not service.
type tsvWriter struct {
	w   *bufio.Writer
	dst io.Writer
	row []byte
	err error
}

func newTSVWriter(dst io.Writer, header string) tsvWriter {
	t := tsvWriter{w: bufio.NewWriterSize(dst, 64<<10), dst: dst}
	_, t.err = t.w.WriteString(header)
	return t
}

func (t *tsvWriter) int(v int64) { t.row = append(strconv.AppendInt(t.row, v, 10), '\t') }

func (t *tsvWriter) bool(v bool) {
	if v {
		t.row = append(t.row, '1', '\t')
	} else {
		t.row = append(t.row, '0', '\t')
	}
}

func (t *tsvWriter) float(v float32) {
	t.row = append(appendStreamFloat(t.row, float64(v)), '\t')
}

// end replaces the trailing tab with a newline and writes the row.
func (t *tsvWriter) end() error {
	t.row[len(t.row)-1] = '\n'
	if t.err == nil {
		_, t.err = t.w.Write(t.row)
	}
	t.row = t.row[:0]
	return t.err
}

func (t *tsvWriter) flush() error {
	if t.err == nil {
		t.err = t.w.Flush()
	}
	return t.err
}

func (t *tsvWriter) close() error {
	err := t.flush()
	if c, ok := t.dst.(io.Closer); ok {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	if t.err == nil {
		t.err = errClosed
	}
	return err
}

// appendStreamFloat formats v as a C++ output stream does by default
// (printf's %g with precision 6: "0", "1.5", "1e+06", "nan", "inf").
func appendStreamFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "nan"...)
	case math.IsInf(v, 1):
		return append(b, "inf"...)
	case math.IsInf(v, -1):
		return append(b, "-inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', 6, 64)
}
