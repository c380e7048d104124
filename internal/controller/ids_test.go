package controller

import (
	"slices"
	"testing"

	"github.com/clockwork-go/clockwork/internal/workerapi"
)

func TestModelIDs(t *testing.T) {
	var m modelIDs
	m.reserve(4) // the workers hold 0-3
	take := func(n, want int) {
		t.Helper()
		if got, ok := m.take(n); !ok || got != want {
			t.Fatalf("take(%d) = %d, %v; want %d", n, got, ok, want)
		}
	}
	take(10, 4)   // 4-13
	take(100, 14) // 14-113
	take(5, 114)  // 114-118
	m.give(114, 5)
	if m.next != 114 || len(m.free) != 0 {
		t.Fatalf("the top run given back: next %d, free %v", m.next, m.free)
	}
	m.give(4, 10) // below a run in use: kept for later
	take(3, 4)
	take(7, 7) // the rest of that run
	take(1, 114)
	m.give(14, 100)
	m.give(7, 7)
	m.give(4, 3) // merges with 7-13 and 14-113
	if !slices.Equal(m.free, []idRun{{4, 110}}) || m.next != 115 {
		t.Fatalf("free %v, next %d; want [{4 110}], 115", m.free, m.next)
	}
	m.give(114, 1) // all of it back
	if len(m.free) != 0 || m.next != 4 {
		t.Fatalf("free %v, next %d; want none, 4", m.free, m.next)
	}
	if got := m.room(); got != workerapi.MaxModels-4 {
		t.Errorf("room %d", got)
	}
	take(workerapi.MaxModels-4, 4)
	if _, ok := m.take(1); ok || m.room() != 0 {
		t.Errorf("took an id past the last (room %d)", m.room())
	}
	m.give(4, workerapi.MaxModels-4)
	if _, ok := m.take(0); ok {
		t.Error("take(0) succeeded")
	}
	take(10, 4)
	take(10, 14)
	m.give(4, 10)
	m.reserve(8) // a worker reports models below 8: what was given back is forgotten
	take(1, 24)

}
