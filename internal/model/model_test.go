package model

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseMeasurements(t *testing.T) {
	m, err := ParseMeasurements("// example\nweights = 10000000L; \t// ns\nb1 = 1000000L;\nb2 = 2000000L;\nb16 = 16000000L;\n")
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]uint64{1: 1e6, 2: 2e6, 16: 16e6}
	if !m.HasWeights || m.Weights != 1e7 || !reflect.DeepEqual(m.Exec, want) {
		t.Fatalf("got %+v", m)
	}
	back, err := ParseMeasurements(m.Format())
	if err != nil || !reflect.DeepEqual(back, m) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
}

func TestParseMeasurementsMalformed(t *testing.T) {
	for _, src := range []string{
		"weights = ;", "weights = -5L;", "b1 = \"x\";", "bx = 1L;", "b0 = 1L;", "speed = 3L;",
		"b1 = 1L; b1 = 2L;", "weights = 1.5;", "b1 = 1L",
	} {
		if src == "b1 = 1L" { // a missing final semicolon is accepted by libconfig
			if _, err := ParseMeasurements(src); err != nil {
				t.Errorf("%q: %v", src, err)
			}
			continue
		}
		if _, err := ParseMeasurements(src); err == nil {
			t.Errorf("ParseMeasurements(%q) succeeded", src)
		}
	}
}

func TestSimulatedZoo(t *testing.T) {
	zoo, err := SimulatedZoo()
	if err != nil {
		t.Fatal(err)
	}
	if len(zoo) != 35 {
		t.Fatalf("%d models, want 32 H200 + 3 V100", len(zoo))
	}
	byName := map[string]Simulated{}
	for _, m := range zoo {
		byName[m.Name] = m
		if err := m.Spec.validate(); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
		for _, b := range m.Spec.BatchSizes {
			if m.Measurements.Exec[b] == 0 {
				t.Errorf("%s: no exec time for b%d", m.Name, b)
			}
		}
	}
	rn50 := byName["resnet50_v2"]
	if rn50.Spec.WeightsPages != 7 || rn50.Measurements.Exec[1] != 3322000 || rn50.Measurements.Weights != 8372000 || rn50.Spec.OutputSize != 4000 {
		t.Errorf("resnet50_v2 = %+v", rn50)
	}
	if p := byName["resnet152_v2"].Spec.WeightsPages; p < 12 || p > 17 {
		t.Errorf("resnet152_v2 estimated at %d pages", p)
	}
	if h := byName["resnet50"]; h.Spec.WeightsPages != 7 || h.Measurements.Exec[16] != 6456000 {
		t.Errorf("resnet50 = %+v", h)
	}
}

func TestWriteAndDiscover(t *testing.T) {
	dir := t.TempDir()
	n, err := WriteSimulatedZoo(dir)
	if err != nil || n != 35 {
		t.Fatalf("WriteSimulatedZoo = %d, %v", n, err)
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := Discover(dir)
	if err != nil || len(entries) != 35 {
		t.Fatalf("Discover = %d entries, %v", len(entries), err)
	}
	if entries[0].Name != "alexnet" || entries[0].Path != filepath.Join(dir, "alexnet", "model") {
		t.Errorf("first entry %+v", entries[0])
	}
	e, ok := Lookup(entries, "resnet50_v2")
	if !ok {
		t.Fatal("resnet50_v2 not found")
	}
	spec, err := ReadSpec(e.Path)
	if err != nil || spec.WeightsPages != 7 {
		t.Fatalf("ReadSpec = %+v, %v", spec, err)
	}
	m, err := ReadMeasurements(e.Path)
	if err != nil || m.Exec[8] != 12439000 {
		t.Fatalf("ReadMeasurements = %+v, %v", m, err)
	}
	if _, err := Discover(filepath.Join(dir, "missing")); err == nil {
		t.Error("Discover of a missing dir succeeded")
	}
	// A relative zoo gives relative paths, for the worker to resolve.
	t.Chdir(dir)
	entries, err = Discover(".")
	if err != nil || len(entries) != 35 {
		t.Fatalf("Discover(\".\") = %d entries, %v", len(entries), err)
	}
	if entries[0].Path != filepath.Join("alexnet", "model") {
		t.Errorf("Discover(\".\"): first entry %+v", entries[0])
	}
}

func TestSpecPagesFor(t *testing.T) {
	s := Spec{WeightsSize: 102160300, WeightsPages: 7, PageSize: PageSize}
	if s.PagesFor(PageSize) != 7 || s.PagesFor(0) != 7 {
		t.Error("same page size must keep the recorded count")
	}
	if got := s.PagesFor(8 << 20); got != 13 {
		t.Errorf("PagesFor(8 MiB) = %d, want 13", got)
	}
}
