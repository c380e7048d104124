// Package bench turns the controller's request log
// (clockwork_request_log.tsv) into the figures of a serving experiment:
// goodput, throughput, latency percentiles, late successes and the share
// of each response status over a measurement window, and renders them as
// a markdown table.
//
// It reads only the log, never the processes that wrote it, so a run of
// the real binaries and a run of the virtual-time simulator (package
// simulate) are measured by the same code and their tables compare row
// for row.
package bench

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// columns the analysis needs; others are ignored, so the log may grow.
var columns = []string{"t", "result", "latency", "deadline", "deadline_met"}

// Row is the part of a request-log row the analysis uses.
type Row struct {
	T           int64 // departure, controller clock (ns)
	Result      int32 // response status
	Latency     int64 // ns, arrival to departure
	Deadline    int64 // the SLO in ns; -1: no deadline; 0: already past at arrival
	DeadlineMet bool
}

// ReadRequestLog calls fn for every row of a request log, in file order.
// Columns are found by their header names.
func ReadRequestLog(r io.Reader, fn func(Row)) error {
	return readTSV(r, "request log", columns, func(v []int64) {
		fn(Row{T: v[0], Result: int32(v[1]), Latency: v[2], Deadline: v[3], DeadlineMet: v[4] != 0})
	})
}

// readTSV calls fn with the integer values of the named columns of every
// row of a controller log (a header row, then tab-separated integers), in
// file order. Columns are found by their header names.
func readTSV(r io.Reader, what string, columns []string, fn func([]int64)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return err
		}
		return fmt.Errorf("%s: empty (no header)", what)
	}
	idx, err := headerIndex(sc.Text(), columns)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	fields := make([]string, 0, 32)
	v := make([]int64, len(columns))
	for line := 2; sc.Scan(); line++ {
		fields = splitTabs(fields[:0], sc.Text())
		for i, j := range idx {
			if j >= len(fields) {
				return fmt.Errorf("%s line %d: %d fields, want column %d (%s)", what, line, len(fields), j+1, columns[i])
			}
			n, err := strconv.ParseInt(fields[j], 10, 64)
			if err != nil {
				return fmt.Errorf("%s line %d: column %s: %w", what, line, columns[i], err)
			}
			v[i] = n
		}
		fn(v)
	}
	return sc.Err()
}

// headerIndex maps each needed column to its position.
func headerIndex(header string, columns []string) ([]int, error) {
	names := strings.Split(header, "\t")
	idx := make([]int, len(columns))
	for i, c := range columns {
		idx[i] = slices.Index(names, c)
		if idx[i] < 0 {
			return nil, fmt.Errorf("no column %q in header %q", c, header)
		}
	}
	return idx, nil
}

func splitTabs(dst []string, s string) []string {
	for {
		i := strings.IndexByte(s, '\t')
		if i < 0 {
			return append(dst, s)
		}
		dst = append(dst, s[:i])
		s = s[i+1:]
	}
}
