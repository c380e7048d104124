package client

import (
	"fmt"
	"io"
	"math"
	"sync"
	"time"
)

// Summary accumulates a client's inference outcomes and prints the
// original client's periodic line
//
//	throughput=401.83 min=3.82 max=7.74 mean=4.96
//
// (successful responses per second, and their client-measured latency in
// milliseconds). As the original's, a period without successes prints
// "throughput=0" once a success has been seen, and nothing before.
type Summary struct {
	mu        sync.Mutex
	submits   int
	successes int
	errors    int
	min, max  time.Duration
	total     time.Duration
	last      time.Time
	succeeded bool // some period had a success
}

// NewSummary returns a Summary whose first period starts now.
func NewSummary() *Summary { return &Summary{last: time.Now(), min: math.MaxInt64} }

func (s *Summary) submitted() {
	s.mu.Lock()
	s.submits++
	s.mu.Unlock()
}

func (s *Summary) success(d time.Duration) {
	s.mu.Lock()
	s.successes++
	s.total += d
	s.min = min(s.min, d)
	s.max = max(s.max, d)
	s.mu.Unlock()
}

func (s *Summary) error() {
	s.mu.Lock()
	s.errors++
	s.mu.Unlock()
}

// Counts returns the totals of the current period.
func (s *Summary) Counts() (submitted, successes, errors int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.submits, s.successes, s.errors
}

// Line ends the current period at now and returns its summary line, or
// "" where there is none to print.
func (s *Summary) Line(now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	secs := now.Sub(s.last).Seconds()
	var line string
	switch {
	case s.successes == 0 || secs <= 0:
		if s.succeeded {
			line = "throughput=0"
		}
	default:
		s.succeeded = true
		ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
		line = fmt.Sprintf("throughput=%.2f min=%.2f max=%.2f mean=%.2f", float64(s.successes)/secs,
			ms(s.min), ms(s.max), ms(s.total/time.Duration(s.successes)))
	}
	s.submits, s.successes, s.errors, s.total, s.max, s.min = 0, 0, 0, 0, 0, math.MaxInt64
	s.last = now
	return line
}

// Run prints a line to w every period until stop is closed.
func (s *Summary) Run(w io.Writer, period time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			if line := s.Line(now); line != "" {
				fmt.Fprintln(w, line)
			}
		}
	}
}
