package hostmem

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadLimit(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		text string
		want uint64
		ok   bool
	}{
		{"1073741824\n", 1 << 30, true},
		{"max\n", 0, false}, // cgroup v2: no limit
		{"", 0, false},
	} {
		p := filepath.Join(dir, "limit")
		os.WriteFile(p, []byte(tc.text), 0o644)
		if got, ok := readLimit(p); got != tc.want || ok != tc.ok {
			t.Errorf("%q: %d, %v; want %d, %v", tc.text, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := readLimit(filepath.Join(dir, "absent")); ok {
		t.Error("a missing file is a limit")
	}
	if m := Limit(); m == 0 {
		t.Error("no memory found on Linux")
	}
}
