package client

import (
	"errors"
	"testing"
	"time"
)

func TestSummaryLine(t *testing.T) {
	s := NewSummary()
	start := s.last
	s.submitted()
	s.error()
	if got := s.Line(start.Add(time.Second)); got != "" {
		t.Fatalf("period before any success: %q, want no line", got)
	}
	s.submitted()
	s.submitted()
	s.success(3 * time.Millisecond)
	s.success(5 * time.Millisecond)
	s.error()
	if sub, ok, bad := s.Counts(); sub != 2 || ok != 2 || bad != 1 {
		t.Fatalf("counts %d %d %d", sub, ok, bad)
	}
	if got, want := s.Line(start.Add(3*time.Second)), "throughput=1.00 min=3.00 max=5.00 mean=4.00"; got != want {
		t.Fatalf("line %q, want %q", got, want)
	}
	if got := s.Line(start.Add(4 * time.Second)); got != "throughput=0" {
		t.Fatalf("empty period after a success: %q", got)
	}
}

func TestStatusOf(t *testing.T) {
	if StatusOf(nil) != 0 || StatusOf(errors.New("x")) != -1 {
		t.Fatal("nil or plain errors")
	}
	err := &StatusError{Status: StatusInitializing, Message: "Controller initializing"}
	if !IsInitializing(err) || StatusOf(err) != 5 || err.Error() != "clockwork status 5: Controller initializing" {
		t.Fatalf("%v", err)
	}
}
