package workload

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// fakeModel answers every request after delay of virtual time, with err.
type fakeModel struct {
	id    uint32
	size  uint64
	clock *Virtual
	delay time.Duration
	err   error

	sent        []time.Duration // virtual send times
	users       []int32         // user id of each request
	slos        []float32       // SLO factor of each request
	outstanding int
	maxOut      int
	slo         float32
	user        int32
}

func (m *fakeModel) ID() uint32             { return m.id }
func (m *fakeModel) InputSize() uint64      { return m.size }
func (m *fakeModel) SetSLOFactor(f float32) { m.slo = f }
func (m *fakeModel) SetUserID(id int32)     { m.user = id }
func (m *fakeModel) requests() int          { return len(m.sent) }

func (m *fakeModel) InferAsync(input []byte, compressed bool, done func([]byte, error)) {
	if !compressed || len(input) == 0 {
		panic("workloads must send pre-compressed, non-empty inputs")
	}
	m.sent = append(m.sent, m.clock.Now())
	m.users = append(m.users, m.user)
	m.slos = append(m.slos, m.slo)
	m.outstanding++
	m.maxOut = max(m.maxOut, m.outstanding)
	m.clock.After(m.delay, func() {
		m.outstanding--
		done(nil, m.err)
	})
}

// fakeLoader creates fake models with consecutive ids.
type fakeLoader struct {
	clock  *Virtual
	delay  time.Duration
	models []*fakeModel
	loads  []string // "path xN" per call
}

func (l *fakeLoader) LoadRemoteModels(path string, copies int) ([]Model, error) {
	l.loads = append(l.loads, filepath.Base(filepath.Dir(path))+" x"+strconv.Itoa(copies))
	out := make([]Model, copies)
	for i := range out {
		m := &fakeModel{id: uint32(len(l.models)), size: 1024, clock: l.clock, delay: l.delay}
		l.models = append(l.models, m)
		out[i] = m
	}
	return out, nil
}

func (l *fakeLoader) total() int {
	n := 0
	for _, m := range l.models {
		n += m.requests()
	}
	return n
}

// workloadFunc is a Workload made of a function.
type workloadFunc func(e *Engine)

func (f workloadFunc) Start(e *Engine) { f(e) }

// virtualEngine returns an engine on a virtual clock printing to out.
func virtualEngine(seed uint64) (*Engine, *Virtual, *bytes.Buffer) {
	clock := new(Virtual)
	out := new(bytes.Buffer)
	return NewEngine(Options{Clock: clock, Out: out, Seed: seed}), clock, out
}

// run runs e for at most limit of virtual time.
func run(t *testing.T, e *Engine, limit time.Duration) {
	t.Helper()
	if limit > 0 {
		e.StopAfter(limit)
	}
	if err := e.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// testZoo makes a model zoo with the given model names.
func testZoo(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		if err := os.MkdirAll(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, n, "model.measurements"), []byte("b1 = 1000000L;\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
