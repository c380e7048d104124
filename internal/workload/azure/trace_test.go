package azure

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// row builds a CSV row whose minute m has counts[m] (the rest 0).
func row(id string, counts map[int]string) string {
	fields := []string{"o" + id, "a" + id, "f" + id, "http"}
	for m := 0; m < Minutes; m++ {
		c, ok := counts[m]
		if !ok {
			c = "0"
		}
		fields = append(fields, c)
	}
	return strings.Join(fields, ",")
}

func writeTestDay(t *testing.T, dir, name string, lines ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadSortsByDailyTotal(t *testing.T) {
	dir := t.TempDir()
	writeTestDay(t, dir, FileName(2), Header,
		row("1", map[int]string{0: "5"}),
		row("2", map[int]string{3: "100", 1439: "1"}),
		row("3", map[int]string{7: "5"}),
		row("4", map[int]string{9: "2", 10: "8"})+"\r", // CRLF line ends are fine
	)
	trace, err := Load(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Totals 5, 101, 5, 10: 101, 10, then the tie 5/5 in reverse file order.
	want := []int{3, 9, 7, 0}
	if len(trace) != 4 {
		t.Fatalf("%d functions, want 4", len(trace))
	}
	for i, minute := range want {
		if len(trace[i]) != Minutes || trace[i][minute] == 0 {
			t.Errorf("function %d: expected the row with a count at minute %d", i, minute)
		}
	}
	if trace[0][1439] != 1 {
		t.Error("last minute lost")
	}
}

func TestLoadPrefersPreReleaseName(t *testing.T) {
	dir := t.TempDir()
	writeTestDay(t, dir, FileName(1), Header, row("1", map[int]string{0: "1"}))
	writeTestDay(t, dir, "invocations_per_function_md.svls.anon.d01.csv", Header,
		row("1", map[int]string{0: "7"}), row("2", map[int]string{0: "1"}))
	trace, err := Load(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(trace) != 2 || trace[0][0] != 7 {
		t.Errorf("loaded %d functions, first count %d: not the pre-release file", len(trace), trace[0][0])
	}
}

func TestMalformedTraces(t *testing.T) {
	dir := t.TempDir()
	good := row("1", map[int]string{0: "1"})
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"short.csv", []string{Header, good, "o,a,f,http,1,2,3"}, "short.csv:3: 7 fields, want 1444"},
		{"long.csv", []string{Header, good + ",5"}, "long.csv:2: 1445 fields, want 1444"},
		{"word.csv", []string{Header, good, good, row("x", map[int]string{41: "many"})}, `word.csv:4: minute 42: count "many" is not a non-negative integer`},
		{"negative.csv", []string{Header, row("x", map[int]string{0: "-3"})}, `negative.csv:2: minute 1: count "-3"`},
		{"float.csv", []string{Header, row("x", map[int]string{5: "1.5"})}, `float.csv:2: minute 6: count "1.5"`},
		{"huge.csv", []string{Header, row("x", map[int]string{0: "99999999999"})}, `huge.csv:2: minute 1`},
		{"empty.csv", nil, "empty.csv: empty file"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, tt.name)
		if tt.lines != nil {
			writeTestDay(t, dir, tt.name, tt.lines...)
		} else if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		err := ScanFile(path, func(Row) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want one naming the file and containing %q", tt.name, err, tt.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load("", 1); err != ErrNoTraceDir || err.Error() != "AZURE_TRACE_DIR variable not set, exiting" {
		t.Errorf("no dir: %v", err)
	}
	if _, err := Load(dir, 15); err == nil || !strings.Contains(err.Error(), "between 1 and 14") {
		t.Errorf("day 15: %v", err)
	}
	_, err := Load(dir, 3)
	for _, name := range []string{"invocations_per_function_md.svls.anon.d03.csv", "invocations_per_function_md.anon.d03.csv"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("missing file: error %v does not name %s", err, name)
		}
	}
	writeTestDay(t, dir, FileName(4), Header)
	if _, err := Load(dir, 4); err == nil || !strings.Contains(err.Error(), "no functions") {
		t.Errorf("header only: %v", err)
	}
	writeTestDay(t, dir, FileName(5), Header, row("1", map[int]string{0: "1"}), "bad,row")
	if _, err := Load(dir, 5); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%s:3:", FileName(5))) {
		t.Errorf("bad row: %v", err)
	}
}

func TestHeader(t *testing.T) {
	f := strings.Split(Header, ",")
	if len(f) != IDColumns+Minutes || f[0] != "HashOwner" || f[3] != "Trigger" || f[4] != "1" || f[len(f)-1] != "1440" {
		t.Errorf("header has %d fields: %s … %s", len(f), strings.Join(f[:5], ","), f[len(f)-1])
	}
}
