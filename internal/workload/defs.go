package workload

import (
	"fmt"
	"io"
)

// DefaultModel is the zoo model of the workloads that name no model.
const DefaultModel = "resnet50_v2"

// Def is a named workload of the client program.
type Def struct {
	Name   string
	Params []Param
	Help   []string // what it does, one line each
	// Check, if set, checks what the parameters' kinds cannot: values
	// that must agree, bounds. Parse calls it, before anything connects.
	Check func(a Args) error
	// Build loads the workload's models through env.Loader and adds its
	// workloads to env.Engine; a Loader error is returned as is (wrapped).
	Build func(env *Env, a Args) error
}

// Defs lists every named workload, in the order of the original's help.
func Defs() []*Def { return defs }

// Lookup finds the named workload.
func Lookup(name string) *Def {
	for _, d := range defs {
		if d.Name == name {
			return d
		}
	}
	return nil
}

var defs []*Def

func init() {
	defs = append(defs, basicDefs...)
	defs = append(defs, experimentDefs...)
	defs = append(defs, azureDefs...)
	defs = append(defs, burstyDefs...)
}

// Describe writes every workload's synopsis, description and parameters.
func Describe(w io.Writer) {
	for _, d := range defs {
		fmt.Fprintf(w, "  %s\n", d.Synopsis())
		for _, h := range d.Help {
			fmt.Fprintf(w, "        %s\n", h)
		}
		width := 0
		for _, p := range d.Params {
			width = max(width, len(p.Name))
		}
		for _, p := range d.Params {
			def := "required"
			if p.Default != "" {
				def = "default " + p.Default
			}
			kind := p.Kind.String()
			if len(p.Choices) > 0 {
				kind = p.choices()
			}
			fmt.Fprintf(w, "          %-*s  %s (%s, %s)\n", width, p.Name, p.Help, kind, def)
		}
	}
}

// loadChunks creates n copies of the model at path in loads of at most
// 100, printing "Loading <from>:<to>" before each.
func loadChunks(env *Env, path string, n int) ([]Model, error) {
	var ms []Model
	for len(ms) < n {
		k := min(n-len(ms), 100)
		env.Engine.Printf("Loading %d:%d\n", len(ms), len(ms)+k)
		more, err := env.Load(path, k)
		if err != nil {
			return nil, err
		}
		ms = append(ms, more...)
	}
	return ms, nil
}

// step returns the update function of an "add" or "mul" operator.
func step(op string, by float64) func(float64) float64 {
	if op == "add" {
		return func(v float64) float64 { return v + by }
	}
	return func(v float64) float64 { return v * by }
}

// above returns a terminate condition: the value exceeds limit.
func above(limit float64) func(float64) bool {
	return func(v float64) bool { return v > limit }
}

// b01 prints a bool as the original does (C++ streams print 1 and 0).
func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}
