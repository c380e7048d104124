package sim

import (
	"bytes"
	"testing"
)

// The dummy's outputs are zeros, whatever the reused buffer held.
func TestCopyOutputZeros(t *testing.T) {
	out := bytes.Repeat([]byte{0xAB}, 4000)
	if _, err := (&simModel{}).CopyOutput(0, nil, out, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, make([]byte, len(out))) {
		t.Fatal("CopyOutput left bytes that are not zero")
	}
}

func TestParseSlowExecs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want SlowExecs
	}{
		{"1%:4%-10%", SlowExecs{0.01, 0.04, 0.10}},
		{"0.01:0.04-0.1", SlowExecs{0.01, 0.04, 0.10}},
		{"0", SlowExecs{}},
		{"100%:0-0", SlowExecs{1, 0, 0}},
	} {
		got, err := ParseSlowExecs(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSlowExecs(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
		if back, err := ParseSlowExecs(got.String()); err != nil || back != got {
			t.Errorf("ParseSlowExecs(%q.String() = %q) = %+v, %v", tc.in, got.String(), back, err)
		}
	}
	for _, bad := range []string{"1%", "1%:4%", "x:1-2", "-1:1-2", "1:0.2-0.1", "2:0-1", "NaN:0-1", "1:0-1e9"} {
		if s, err := ParseSlowExecs(bad); err == nil {
			t.Errorf("ParseSlowExecs(%q) = %+v, want an error", bad, s)
		}
	}
}

// A share of the execs runs longer, each by a fraction in the range; the
// rest take their profiled time.
func TestSlowExecs(t *testing.T) {
	r := New(1)
	r.SetSlowExecs(SlowExecs{Share: 0.01, Min: 0.04, Max: 0.10}, 7)
	const n, profiled = 100_000, 1_000_000
	slow := 0
	for range n {
		d := r.execTime(profiled)
		switch {
		case d == profiled:
		case d >= profiled*104/100 && d <= profiled*110/100:
			slow++
		default:
			t.Fatalf("an exec of %d ns, profiled %d", d, profiled)
		}
	}
	if slow < n/100*8/10 || slow > n/100*12/10 {
		t.Errorf("%d of %d execs slow, want about 1 %%", slow, n)
	}
	if d := New(1).execTime(profiled); d != profiled {
		t.Errorf("without slow execs an exec took %d, want %d", d, profiled)
	}
}
