// Package libconfig parses the subset of the libconfig format that
// Clockwork's files use: the worker configuration (config/default.cfg) and
// model measurements (model.measurements). Settings are `name = value;`
// (or `name: value`), values are integers (optional L suffix, hex),
// floats, booleans, strings, or groups `{ ... }`; comments are //, # and
// /* */. Lists and arrays are parsed but their elements are only kept as
// raw values.
package libconfig

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Setting is one parsed setting. Exactly one of the value fields is
// meaningful, according to Kind.
type Setting struct {
	Name  string
	Kind  Kind
	Int   int64
	Float float64
	Bool  bool
	Str   string
	Group *Group // Kind == KindGroup
	Items []Setting
	Line  int
}

// Kind is a setting's value type.
type Kind int

// Value kinds.
const (
	KindInt Kind = iota
	KindFloat
	KindBool
	KindString
	KindGroup
	KindList
)

func (k Kind) String() string {
	return [...]string{"integer", "float", "boolean", "string", "group", "list"}[k]
}

// Group is an ordered set of settings.
type Group struct {
	Settings []Setting
}

// Get returns the setting called name, or nil.
func (g *Group) Get(name string) *Setting {
	for i := range g.Settings {
		if g.Settings[i].Name == name {
			return &g.Settings[i]
		}
	}
	return nil
}

// Lookup follows a dotted path (e.g. "WorkerConfig.memory_settings.io_pool_size").
func (g *Group) Lookup(path string) *Setting {
	parts := strings.Split(path, ".")
	cur := g
	for i, p := range parts {
		s := cur.Get(p)
		if s == nil {
			return nil
		}
		if i == len(parts)-1 {
			return s
		}
		if s.Kind != KindGroup {
			return nil
		}
		cur = s.Group
	}
	return nil
}

// SyntaxError reports where a file failed to parse.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse parses a libconfig document.
func Parse(src string) (*Group, error) {
	p := &parser{src: src, line: 1}
	g, err := p.settings(false)
	if err != nil {
		return nil, err
	}
	return g, nil
}

type parser struct {
	src  string
	pos  int
	line int
}

func (p *parser) errf(format string, args ...any) error {
	return &SyntaxError{Line: p.line, Msg: fmt.Sprintf(format, args...)}
}

// skip skips whitespace and comments.
func (p *parser) skip() error {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\n':
			p.line++
			p.pos++
		case c == ' ' || c == '\t' || c == '\r':
			p.pos++
		case c == '#' || strings.HasPrefix(p.src[p.pos:], "//"):
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case strings.HasPrefix(p.src[p.pos:], "/*"):
			end := strings.Index(p.src[p.pos+2:], "*/")
			if end < 0 {
				return p.errf("unterminated comment")
			}
			p.line += strings.Count(p.src[p.pos:p.pos+2+end], "\n")
			p.pos += end + 4
		default:
			return nil
		}
	}
	return nil
}

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func (p *parser) settings(inGroup bool) (*Group, error) {
	g := &Group{}
	for {
		if err := p.skip(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.src) {
			if inGroup {
				return nil, p.errf("missing '}'")
			}
			return g, nil
		}
		if p.peek() == '}' {
			if !inGroup {
				return nil, p.errf("unexpected '}'")
			}
			p.pos++
			return g, nil
		}
		s, err := p.setting()
		if err != nil {
			return nil, err
		}
		if g.Get(s.Name) != nil {
			return nil, &SyntaxError{Line: s.Line, Msg: fmt.Sprintf("duplicate setting %q", s.Name)}
		}
		g.Settings = append(g.Settings, s)
	}
}

func isNameStart(c byte) bool { return c == '_' || c == '*' || unicode.IsLetter(rune(c)) }
func isNameChar(c byte) bool  { return isNameStart(c) || c == '-' || (c >= '0' && c <= '9') }

func (p *parser) setting() (Setting, error) {
	s := Setting{Line: p.line}
	if !isNameStart(p.peek()) {
		return s, p.errf("expected a setting name, found %q", p.peek())
	}
	start := p.pos
	for p.pos < len(p.src) && isNameChar(p.src[p.pos]) {
		p.pos++
	}
	s.Name = p.src[start:p.pos]
	if err := p.skip(); err != nil {
		return s, err
	}
	if c := p.peek(); c != '=' && c != ':' {
		return s, p.errf("expected '=' or ':' after %q", s.Name)
	}
	p.pos++
	if err := p.value(&s); err != nil {
		return s, err
	}
	if err := p.skip(); err != nil {
		return s, err
	}
	if c := p.peek(); c == ';' || c == ',' {
		p.pos++
	}
	return s, nil
}

func (p *parser) value(s *Setting) error {
	if err := p.skip(); err != nil {
		return err
	}
	c := p.peek()
	switch {
	case c == '{':
		p.pos++
		g, err := p.settings(true)
		if err != nil {
			return err
		}
		s.Kind, s.Group = KindGroup, g
	case c == '[' || c == '(':
		closer := byte(']')
		if c == '(' {
			closer = ')'
		}
		p.pos++
		s.Kind = KindList
		for {
			if err := p.skip(); err != nil {
				return err
			}
			if p.peek() == closer {
				p.pos++
				return nil
			}
			if p.pos >= len(p.src) {
				return p.errf("unterminated list")
			}
			item := Setting{Line: p.line}
			if err := p.value(&item); err != nil {
				return err
			}
			s.Items = append(s.Items, item)
			if err := p.skip(); err != nil {
				return err
			}
			if p.peek() == ',' {
				p.pos++
			}
		}
	case c == '"':
		var b strings.Builder
		for p.peek() == '"' {
			str, err := p.str()
			if err != nil {
				return err
			}
			b.WriteString(str)
			if err := p.skip(); err != nil {
				return err
			}
		}
		s.Kind, s.Str = KindString, b.String()
	default:
		start := p.pos
		for p.pos < len(p.src) && strings.IndexByte(" \t\r\n;,}])#/", p.src[p.pos]) < 0 {
			p.pos++
		}
		tok := p.src[start:p.pos]
		return p.scalar(s, tok)
	}
	return nil
}

func (p *parser) str() (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch c {
		case '"':
			p.pos++
			return b.String(), nil
		case '\n':
			return "", p.errf("newline in string")
		case '\\':
			if p.pos+1 >= len(p.src) {
				return "", p.errf("unterminated string")
			}
			esc := p.src[p.pos+1]
			switch esc {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\', '"':
				b.WriteByte(esc)
			default:
				return "", p.errf("unknown escape \\%c", esc)
			}
			p.pos += 2
		default:
			b.WriteByte(c)
			p.pos++
		}
	}
	return "", p.errf("unterminated string")
}

func (p *parser) scalar(s *Setting, tok string) error {
	if tok == "" {
		return p.errf("missing value for %q", s.Name)
	}
	switch strings.ToLower(tok) {
	case "true":
		s.Kind, s.Bool = KindBool, true
		return nil
	case "false":
		s.Kind, s.Bool = KindBool, false
		return nil
	}
	num := strings.TrimSuffix(strings.TrimSuffix(tok, "L"), "L")
	if i, err := strconv.ParseInt(num, 0, 64); err == nil {
		s.Kind, s.Int = KindInt, i
		return nil
	}
	if isInteger(num) {
		return p.errf("integer %s out of range", tok)
	}
	if f, err := strconv.ParseFloat(tok, 64); err == nil {
		s.Kind, s.Float = KindFloat, f
		return nil
	}
	return p.errf("invalid value %q for %q", tok, s.Name)
}

// isInteger reports whether tok is written as an integer (so that a failed
// integer parse means overflow, not a float).
func isInteger(tok string) bool {
	tok = strings.TrimPrefix(strings.TrimPrefix(tok, "-"), "+")
	if tok == "" {
		return false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return false
		}
	}
	return true
}
