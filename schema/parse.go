package schema

import (
	"fmt"
	"strings"

	"github.com/pipectl/pipectl/internal/suggest"
)

// maxDepth bounds the nesting of a type expression (a guard against pathological input).
const maxDepth = 100

// scalarNames maps the names of the scalar types and `any` to their kinds.
var scalarNames = map[string]Kind{
	"bool": Bool, "int": Int, "float": Float, "string": String, "bytes": Bytes, "any": Any,
}

// aliases are names from other type systems and the pipectl type they most likely mean.
var aliases = map[string]string{
	"integer": "int", "long": "int", "int64": "int", "int32": "int", "number": "float",
	"double": "float", "float64": "float", "boolean": "bool", "str": "string", "text": "string",
	"binary": "bytes", "blob": "bytes", "array": "list<T>", "dict": "map<string, T>",
	"object": "a record {name: T, ...}", "record": "a record {name: T, ...}", "tuple": "(T, T)",
	"null": "T?", "nullable": "T?", "option": "optional<T>",
}

// knownNames are all names a type expression may start with, for suggestions.
var knownNames = []string{"bool", "int", "float", "string", "bytes", "any", "list", "map", "optional"}

// Parse reads a one-line type expression: `bool`, `int`, `float`, `string`, `bytes`, `any`,
// `{active: bool, time: int}`, `(bool, int)`, `list<T>`, `map<string, T>`, `map<int, T>`,
// `T?` and `optional<T>`. Errors are *SyntaxError with the byte offset in expr.
//
// Whitespace is free between tokens. An optional of an optional (`int??`,
// `optional<int?>`) collapses to one optional: a value is either null or not, so both
// spellings mean the same type and print as `int?`.
func Parse(expr string) (*Type, error) {
	p := &parser{s: expr}
	t, err := p.parseType(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i < len(p.s) {
		return nil, p.errf("unexpected %s after the type", p.describe())
	}
	return t, nil
}

// MustParse is Parse for types known to be valid (tests, built-in state types); it panics on
// an error.
func MustParse(expr string) *Type {
	t, err := Parse(expr)
	if err != nil {
		panic(err)
	}
	return t
}

// parser is a recursive-descent parser over one expression.
type parser struct {
	s string
	i int
}

func (p *parser) errAt(off int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...), Expr: p.s}
}

func (p *parser) errf(format string, args ...any) *SyntaxError {
	return p.errAt(p.i, format, args...)
}

func (p *parser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// describe names what is at the current position for an error message.
func (p *parser) describe() string {
	if p.i >= len(p.s) {
		return "end of expression"
	}
	if isIdentStart(p.s[p.i]) {
		j := p.i
		for j < len(p.s) && isIdentChar(p.s[j]) {
			j++
		}
		return fmt.Sprintf("%q", p.s[p.i:j])
	}
	return fmt.Sprintf("'%c'", p.s[p.i])
}

// expect consumes byte c after optional whitespace or fails with "expected 'c' <context>".
func (p *parser) expect(c byte, context string) error {
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return nil
	}
	return p.errf("expected '%c' %s, found %s", c, context, p.describe())
}

// parseType reads a primary type and its postfix `?`s.
func (p *parser) parseType(depth int) (*Type, error) {
	if depth > maxDepth {
		return nil, p.errf("type nested more than %d levels deep", maxDepth)
	}
	t, err := p.parsePrimary(depth)
	if err != nil {
		return nil, err
	}
	for {
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '?' {
			return t, nil
		}
		p.i++
		t = OptionalOf(t)
	}
}

func (p *parser) parsePrimary(depth int) (*Type, error) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return nil, p.errf("expected a type, found end of expression")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.parseRecord(depth)
	case c == '(':
		return p.parseTuple(depth)
	case isIdentStart(c):
		return p.parseNamed(depth)
	default:
		return nil, p.errf("expected a type, found %s", p.describe())
	}
}

func (p *parser) ident() string {
	j := p.i
	for p.i < len(p.s) && isIdentChar(p.s[p.i]) {
		p.i++
	}
	return p.s[j:p.i]
}

func (p *parser) parseNamed(depth int) (*Type, error) {
	start := p.i
	name := p.ident()
	if k, ok := scalarNames[name]; ok {
		return &Type{Kind: k}, nil
	}
	switch name {
	case "list":
		if err := p.expect('<', "after list"); err != nil {
			return nil, err
		}
		elem, err := p.parseType(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expect('>', "after list element type"); err != nil {
			return nil, err
		}
		return ListOf(elem), nil
	case "optional":
		if err := p.expect('<', "after optional"); err != nil {
			return nil, err
		}
		elem, err := p.parseType(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := p.expect('>', "after optional type"); err != nil {
			return nil, err
		}
		return OptionalOf(elem), nil
	case "map":
		return p.parseMap(depth)
	}
	return nil, p.errAt(start, "unknown type %q%s", name, typoHint(name))
}

func (p *parser) parseMap(depth int) (*Type, error) {
	if err := p.expect('<', "after map"); err != nil {
		return nil, err
	}
	p.skipSpace()
	keyAt := p.i
	key, err := p.parseType(depth + 1)
	if err != nil {
		return nil, err
	}
	if key.Kind != String && key.Kind != Int {
		return nil, p.errAt(keyAt, "map key type must be string or int, not %s", key)
	}
	if err := p.expect(',', "after map key type"); err != nil {
		return nil, err
	}
	val, err := p.parseType(depth + 1)
	if err != nil {
		return nil, err
	}
	if err := p.expect('>', "after map value type"); err != nil {
		return nil, err
	}
	return MapOf(key, val), nil
}

func (p *parser) parseRecord(depth int) (*Type, error) {
	open := p.i
	p.i++ // '{'
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		return nil, p.errAt(open, "a record needs at least one field")
	}
	var fields []Field
	for {
		p.skipSpace()
		at := p.i
		if p.i >= len(p.s) || !isIdentStart(p.s[p.i]) {
			return nil, p.errf("expected a field name, found %s", p.describe())
		}
		name := p.ident()
		for _, f := range fields {
			if f.Name == name {
				return nil, p.errAt(at, "duplicate field %q", name)
			}
		}
		if err := p.expect(':', fmt.Sprintf("after field name %q", name)); err != nil {
			return nil, err
		}
		ft, err := p.parseType(depth + 1)
		if err != nil {
			return nil, err
		}
		fields = append(fields, Field{Name: name, Type: ft})
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return RecordOf(fields...), nil
		}
		return nil, p.errf("expected ',' or '}' after field %q, found %s", name, p.describe())
	}
}

func (p *parser) parseTuple(depth int) (*Type, error) {
	open := p.i
	p.i++ // '('
	var elems []*Type
	for {
		e, err := p.parseType(depth + 1)
		if err != nil {
			return nil, err
		}
		elems = append(elems, e)
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == ')' {
			if len(elems) < 2 {
				return nil, p.errAt(open, "a tuple needs at least two elements")
			}
			p.i++
			return TupleOf(elems...), nil
		}
		return nil, p.errf("expected ',' or ')' after tuple element, found %s", p.describe())
	}
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// IsFieldName reports whether s is a valid record field name: [A-Za-z_][A-Za-z0-9_]*.
func IsFieldName(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	return true
}

// typoHint returns ` (did you mean X?)` for a misspelt or foreign type name, or "".
func typoHint(name string) string {
	if a, ok := aliases[strings.ToLower(name)]; ok {
		return " (did you mean " + a + "?)"
	}
	best, bestD := "", 3
	for _, k := range knownNames {
		if d := suggest.Distance(strings.ToLower(name), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return " (known types: bool, int, float, string, bytes, any, list<T>, map<K, V>, optional<T>, {...}, (...))"
	}
	return " (did you mean " + best + "?)"
}
