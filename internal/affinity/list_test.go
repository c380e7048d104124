package affinity

import (
	"slices"
	"testing"
)

func TestParseList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []int
		out  string
	}{
		{"0-3,8,10-11", []int{0, 1, 2, 3, 8, 10, 11}, "0-3,8,10-11"},
		{"5", []int{5}, "5"},
		{" 3 , 1-2,2", []int{1, 2, 3}, "1-3"},
		{"7-7", []int{7}, "7"},
		{"0-2,5,7-8", []int{0, 1, 2, 5, 7, 8}, "0-2,5,7-8"},
	} {
		got, err := ParseList(c.in)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseList(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if s := FormatList(got); s != c.out {
			t.Errorf("FormatList(%v) = %q, want %q", got, s, c.out)
		}
	}
	if s := FormatList(nil); s != "" {
		t.Errorf("FormatList(nil) = %q", s)
	}
	for _, bad := range []string{"", "a", "3-1", "-1", "1-", "0-1024", "1,,2"} {
		if got, err := ParseList(bad); err == nil {
			t.Errorf("ParseList(%q) = %v, want an error", bad, got)
		}
	}
}
