package model

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/clockwork-go/clockwork/internal/libconfig"
)

// Measurements are a model's profiled timings, from model.measurements.
type Measurements struct {
	Weights    uint64         // ns to load the weights (0 if absent)
	HasWeights bool           // whether the file had a weights entry
	Exec       map[int]uint64 // ns per batch size
}

// MeasurementsFile is the measurements file of the model at prefix.
func MeasurementsFile(prefix string) string { return prefix + ".measurements" }

// ReadMeasurements reads and parses prefix.measurements.
func ReadMeasurements(prefix string) (*Measurements, error) {
	path := MeasurementsFile(prefix)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := ParseMeasurements(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ParseMeasurements parses the libconfig text of a measurements file:
// `weights = <ns>L;` and `b<B> = <ns>L;` for batch sizes B. Other settings
// are errors, so that a typo does not silently drop a batch size.
func ParseMeasurements(src string) (*Measurements, error) {
	g, err := libconfig.Parse(src)
	if err != nil {
		return nil, err
	}
	m := &Measurements{Exec: make(map[int]uint64)}
	for _, s := range g.Settings {
		var ns uint64
		switch s.Kind {
		case libconfig.KindInt:
			if s.Int < 0 {
				return nil, fmt.Errorf("line %d: %s is negative", s.Line, s.Name)
			}
			ns = uint64(s.Int)
		default:
			return nil, fmt.Errorf("line %d: %s must be an integer (ns), not a %s", s.Line, s.Name, s.Kind)
		}
		switch {
		case s.Name == "weights":
			m.Weights, m.HasWeights = ns, true
		case strings.HasPrefix(s.Name, "b"):
			b, err := strconv.Atoi(s.Name[1:])
			if err != nil || b < 1 {
				return nil, fmt.Errorf("line %d: unknown setting %q", s.Line, s.Name)
			}
			m.Exec[b] = ns
		default:
			return nil, fmt.Errorf("line %d: unknown setting %q", s.Line, s.Name)
		}
	}
	return m, nil
}

// Format renders m in the original's measurements syntax.
func (m *Measurements) Format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "weights = %dL;\n", m.Weights)
	sizes := make([]int, 0, len(m.Exec))
	for s := range m.Exec {
		sizes = append(sizes, s)
	}
	sort.Ints(sizes)
	for _, s := range sizes {
		fmt.Fprintf(&b, "b%d = %dL;\n", s, m.Exec[s])
	}
	return b.String()
}

// Write writes m as the measurements file of the model at prefix.
func (m *Measurements) Write(prefix string) error {
	return os.WriteFile(MeasurementsFile(prefix), []byte(m.Format()), 0o644)
}
