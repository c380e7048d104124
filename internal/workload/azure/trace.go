package azure

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Layout of a row: four id columns, then one count per minute of the day.
const (
	IDColumns = 4
	Minutes   = 1440
	Days      = 14 // days in the public dataset
)

// Header is the first line of a day file.
var Header = func() string {
	var b strings.Builder
	b.WriteString("HashOwner,HashApp,HashFunction,Trigger")
	for m := 1; m <= Minutes; m++ {
		fmt.Fprintf(&b, ",%d", m)
	}
	return b.String()
}()

// ErrNoTraceDir is the error of loading a trace with no directory given.
var ErrNoTraceDir = errors.New("AZURE_TRACE_DIR variable not set, exiting")

// Row is one function's day: its ids, its trigger and its invocations in
// each minute.
type Row struct {
	Owner, App, Function, Trigger string
	Counts                        []uint32 // Minutes entries
}

// Total is the row's invocations over the day.
func (r *Row) Total() uint64 {
	var t uint64
	for _, c := range r.Counts {
		t += uint64(c)
	}
	return t
}

// FileName is the public dataset's name of day's file.
func FileName(day int) string { return fmt.Sprintf("invocations_per_function_md.anon.d%02d.csv", day) }

// oldFileName is the name of day's file in the pre-release trace the paper
// used.
func oldFileName(day int) string {
	return fmt.Sprintf("invocations_per_function_md.svls.anon.d%02d.csv", day)
}

// Path finds day's file in dir: the pre-release name if that file exists
// (as the original client does), otherwise the public name.
func Path(dir string, day int) (string, error) {
	if dir == "" {
		return "", ErrNoTraceDir
	}
	if day < 1 || day > Days {
		return "", fmt.Errorf("Azure trace id must be between 1 and %d inclusive.  Got %d", Days, day)
	}
	old := filepath.Join(dir, oldFileName(day))
	if _, err := os.Stat(old); err == nil {
		return old, nil
	}
	path := filepath.Join(dir, FileName(day))
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("azure trace day %d: neither %s nor %s: %w", day, old, path, err)
	}
	return path, nil
}

// Load reads day's file from dir and returns every function's per-minute
// counts, most invoked function first (ties in reverse file order, as in
// the original).
func Load(dir string, day int) ([][]uint32, error) {
	path, err := Path(dir, day)
	if err != nil {
		return nil, err
	}
	var rows [][]uint32
	var totals []uint64
	err = ScanFile(path, func(r Row) error {
		rows = append(rows, r.Counts)
		totals = append(totals, r.Total())
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: no functions", path)
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		i, j := order[a], order[b]
		return totals[i] > totals[j] || totals[i] == totals[j] && i > j
	})
	sorted := make([][]uint32, len(rows))
	for k, i := range order {
		sorted[k] = rows[i]
	}
	return sorted, nil
}

// ScanFile calls fn for every row of the file at path; see Scan.
func ScanFile(path string, fn func(Row) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return Scan(f, path, fn)
}

// Scan reads a day file from r and calls fn for every row, in file order;
// name labels errors. The first line (the header) is skipped, as are empty
// lines. A row must have exactly IDColumns+Minutes fields, and every count
// must be a non-negative integer; any other row is an error naming the
// file and line. fn may keep the Row.
func Scan(r io.Reader, name string, fn func(Row) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if line == 1 || text == "" {
			continue
		}
		fields := strings.Split(text, ",")
		counts := make([]uint32, Minutes)
		if len(fields) != IDColumns+Minutes {
			return fmt.Errorf("%s:%d: %d fields, want %d (%d id columns and %d minutes)",
				name, line, len(fields), IDColumns+Minutes, IDColumns, Minutes)
		}
		for m, f := range fields[IDColumns:] {
			v, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				return fmt.Errorf("%s:%d: minute %d: count %q is not a non-negative integer", name, line, m+1, f)
			}
			counts[m] = uint32(v)
		}
		row := Row{Owner: fields[0], App: fields[1], Function: fields[2], Trigger: fields[3],
			Counts: counts}
		if err := fn(row); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: line %d: %w", name, line+1, err)
	}
	if line == 0 {
		return fmt.Errorf("%s: empty file (no header)", name)
	}
	return nil
}
