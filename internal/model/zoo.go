// Package model knows Clockwork's on-disk model layout. A model is a
// directory <zoo>/<name>/ and is addressed by the path prefix
// <zoo>/<name>/model; next to that prefix sit
//
//	model.measurements  profiled timings (libconfig: weights = <ns>L; b1 = <ns>L; ...)
//	model.spec.json     sizes of a simulated model (input, output, weights, pages, batch sizes)
//	model.onnx          the network itself, for the real worker
//
// worker_dummy needs the measurements and the spec; the real worker needs
// the ONNX file (and ignores the others). The original zoo's files
// (model.<B>.so, model.<B>.clockwork, model.clockwork_params) are recognised
// by discovery but not loaded.
package model

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Prefix is the conventional path prefix of the model in directory dir.
func Prefix(dir string) string { return filepath.Join(dir, "model") }

// markers are the files whose presence makes a directory a model.
var markers = []string{"model.onnx", "model.measurements", "model.clockwork_params"}

// Entry is one model found in a zoo.
type Entry struct {
	Name string // directory name
	Path string // path prefix to send in LoadRemoteModel
}

// Discover lists the models in zoo in alphabetical order of name (the
// original client iterates a std::map, so workloads that walk the zoo load
// models in this order). Paths start with zoo as given: a relative zoo
// gives paths the worker resolves from its own working directory, as the
// original's did (the client's absolute path need not exist on the
// worker's machine).
func Discover(zoo string) ([]Entry, error) {
	dirs, err := os.ReadDir(zoo)
	if err != nil {
		return nil, fmt.Errorf("model zoo %s: %w", zoo, err)
	}
	var out []Entry
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		dir := filepath.Join(zoo, d.Name())
		for _, m := range markers {
			if _, err := os.Stat(filepath.Join(dir, m)); err == nil {
				out = append(out, Entry{Name: d.Name(), Path: Prefix(dir)})
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Lookup finds the model called name in entries.
func Lookup(entries []Entry, name string) (Entry, bool) {
	for _, e := range entries {
		if e.Name == name {
			return e, true
		}
	}
	return Entry{}, false
}
