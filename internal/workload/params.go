package workload

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kind is the type of a workload parameter.
type Kind int

// Parameter kinds.
const (
	String   Kind = iota
	Count         // integer ≥ 1
	Uint          // integer ≥ 0
	Float         // any finite number
	Positive      // finite number > 0
	Bool          // 0, 1, false or true
	Seconds       // a duration in seconds, at least minSeconds
)

var kindNames = [...]string{String: "string", Count: "count", Uint: "int", Float: "float",
	Positive: "float>0", Bool: "bool", Seconds: "seconds≥0.001"}

// minSeconds is the shortest period or interval a workload takes: shorter
// ones round to nothing (a timer due again at once, for ever) or keep the
// client busy with nothing but its timers.
const minSeconds = 0.001

func (k Kind) String() string { return kindNames[k] }

// Param is one parameter of a named workload.
type Param struct {
	Name    string
	Kind    Kind
	Default string   // "" if the parameter is required
	Choices []string // the allowed values, if restricted
	Help    string
}

// UsageError is a command line that does not fit a workload's parameters.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usageErrorf(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Args are a workload's checked parameter values.
type Args map[string]string

// String returns the value of a parameter.
func (a Args) String(name string) string { return a[name] }

// Int returns the value of a Count or Uint parameter.
func (a Args) Int(name string) int {
	v, _ := strconv.Atoi(a[name])
	return v
}

// Float returns the value of a numeric parameter.
func (a Args) Float(name string) float64 {
	v, _ := strconv.ParseFloat(a[name], 64)
	return v
}

// Bool returns the value of a Bool parameter.
func (a Args) Bool(name string) bool { return a[name] == "1" || a[name] == "true" }

// Seconds returns the value of a Seconds parameter.
func (a Args) Seconds(name string) time.Duration { return seconds(a.Float(name)) }

// Parse checks a workload's command-line arguments: positional values in
// the order of d.Params, then (or instead) name=value pairs. Missing
// optional parameters take their defaults. Errors are *UsageError.
func (d *Def) Parse(args []string) (Args, error) {
	a := make(Args, len(d.Params))
	pos, named := 0, false
	for _, s := range args {
		if name, v, ok := strings.Cut(s, "="); ok {
			if d.param(name) == nil {
				return nil, usageErrorf("workload %s has no parameter %q", d.Name, name)
			}
			if _, dup := a[name]; dup {
				return nil, usageErrorf("workload %s: parameter %s given twice", d.Name, name)
			}
			a[name], named = v, true
			continue
		}
		if named {
			return nil, usageErrorf("workload %s: positional argument %q after name=value arguments", d.Name, s)
		}
		if pos >= len(d.Params) {
			return nil, usageErrorf("workload %s takes at most %d arguments: %s", d.Name, len(d.Params), d.Synopsis())
		}
		a[d.Params[pos].Name] = s
		pos++
	}
	for _, p := range d.Params {
		v, ok := a[p.Name]
		if !ok {
			if p.Default == "" {
				return nil, usageErrorf("workload %s: missing argument %s; usage: %s", d.Name, p.Name, d.Synopsis())
			}
			a[p.Name] = p.Default
			continue
		}
		if err := p.check(v); err != nil {
			return nil, usageErrorf("workload %s: %s: %v", d.Name, p.Name, err)
		}
	}
	if d.Check != nil {
		if err := d.Check(a); err != nil {
			return nil, usageErrorf("workload %s: %v", d.Name, err)
		}
	}
	return a, nil
}

func (d *Def) param(name string) *Param {
	for i := range d.Params {
		if d.Params[i].Name == name {
			return &d.Params[i]
		}
	}
	return nil
}

// check reports whether v is a valid value of p.
func (p *Param) check(v string) error {
	if len(p.Choices) > 0 && !slices.Contains(p.Choices, v) {
		return fmt.Errorf("%q is not one of %s", v, p.choices())
	}
	switch p.Kind {
	case Count, Uint:
		least := 0
		if p.Kind == Count {
			least = 1
		}
		if n, err := strconv.Atoi(v); err != nil || n < least {
			return fmt.Errorf("%q is not an integer ≥ %d", v, least)
		}
	case Float, Positive, Seconds:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return fmt.Errorf("%q is not a number", v)
		}
		if p.Kind == Positive && f <= 0 {
			return fmt.Errorf("%q is not a number > 0", v)
		}
		if p.Kind == Seconds && f < minSeconds {
			return fmt.Errorf("%q is not a number of seconds ≥ %g", v, minSeconds)
		}
	case Bool:
		if v != "0" && v != "1" && v != "true" && v != "false" {
			return fmt.Errorf("%q is not 0, 1, false or true", v)
		}
	}
	return nil
}

// Synopsis is the workload's name and parameters, optional ones in
// brackets with their defaults.
func (d *Def) Synopsis() string {
	var b strings.Builder
	b.WriteString(d.Name)
	for _, p := range d.Params {
		if p.Default == "" {
			fmt.Fprintf(&b, " %s", p.Name)
		} else {
			fmt.Fprintf(&b, " [%s=%s]", p.Name, p.Default)
		}
	}
	return b.String()
}

// choices lists the allowed values: "a|b|c", or "lo..hi" for a run of
// consecutive integers.
func (p *Param) choices() string {
	lo, err1 := strconv.Atoi(p.Choices[0])
	hi, err2 := strconv.Atoi(p.Choices[len(p.Choices)-1])
	if len(p.Choices) > 2 && err1 == nil && err2 == nil && hi-lo == len(p.Choices)-1 {
		return fmt.Sprintf("%d..%d", lo, hi)
	}
	return strings.Join(p.Choices, "|")
}
