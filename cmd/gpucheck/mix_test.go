package main

import (
	"strings"
	"testing"
	"time"
)

// TestMixLines checks the -mix table: slow execs are counted against the
// first row's p50 of their batch size, or their own row's where the first
// row has none.
func TestMixLines(t *testing.T) {
	ms := func(n int, d time.Duration) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = d
		}
		return out
	}
	rows := []mixRow{
		{pattern: "one copy: b1", inflight: 1, exec: map[int][]time.Duration{1: ms(100, time.Millisecond)}, clocks: [2]uint32{1980, 1980}},
		{pattern: "two copies: b1, b2", inflight: 2, exec: map[int][]time.Duration{
			1: append(ms(98, time.Millisecond), ms(2, 1050*time.Microsecond)...),
			2: append(ms(99, 2*time.Millisecond), 2100*time.Microsecond),
		}, clocks: [2]uint32{1755, 1980}},
	}
	base := rows[0].p50s()
	got := mixHeader + rows[0].lines(base) + rows[1].lines(base)
	for _, want := range []string{
		"one copy: b1                    1   1 |    100    1.000    1.000    1.000    1.000  1.000 | 0 (0.00 %) over 1.030 ms; 1980-1980 MHz",
		"two copies: b1, b2              2   1 |    100    1.000    1.050    1.050    1.050  1.050 | 2 (2.00 %) over 1.030 ms; 1755-1980 MHz",
		"two copies: b1, b2              2   2 |    100    2.000    2.000    2.100    2.100  1.050 | 1 (1.00 %) over 2.060 ms; 1755-1980 MHz",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no line\n%s\nin\n%s", want, got)
		}
	}
}
