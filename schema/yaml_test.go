package schema

import (
	"errors"
	"testing"

	"gopkg.in/yaml.v3"
)

// typeNode parses a YAML document `t: <src>` and returns the node of t's value.
func typeNode(t *testing.T, src string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatalf("yaml %q: %v", src, err)
	}
	return doc.Content[0].Content[1]
}

func TestFromNode(t *testing.T) {
	tests := []struct{ src, want string }{
		{"t: int", "int"},
		{"t: '{a: int, m: map<string, int>}'", "{a: int, m: map<string, int>}"},
		{`t: "(bool, int)"`, "(bool, int)"},
		{"t: {active: bool, time: int}", "{active: bool, time: int}"},
		{"t: [bool, int]", "(bool, int)"},
		{"t:\n  a: int\n  m: map<string, int>\n  o: string?\n  n:\n    x: float\n  p: [int, 'list<int>']",
			"{a: int, m: map<string, int>, o: string?, n: {x: float}, p: (int, list<int>)}"},
		{"t:\n  - int\n  - {a: bool}", "(int, {a: bool})"},
		{"x: &x {a: int}\nt: *x", "{a: int}"},
	}
	for _, tt := range tests {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(tt.src), &doc); err != nil {
			t.Fatal(err)
		}
		m := doc.Content[0]
		n := m.Content[len(m.Content)-1]
		ty, err := FromNode(n)
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		if ty.String() != tt.want {
			t.Errorf("%q: got %s, want %s", tt.src, ty, tt.want)
		}
	}
}

func TestFromNodeErrors(t *testing.T) {
	tests := []struct {
		src       string
		line, col int
		msg       string
	}{
		{"t: strng", 1, 4, `unknown type "strng" (did you mean string?) in type "strng"`},
		{"t: list<int", 1, 12, `expected '>' after list element type, found end of expression in type "list<int"`},
		{`t: "list<int"`, 1, 13, `expected '>' after list element type, found end of expression in type "list<int"`},
		{"t:\n  a: int\n  b: {c: flot}", 3, 10, `unknown type "flot" (did you mean float?) in type "flot"`},
		{"t: {m: map<string, int>}", 1, 8, `"map<string" looks like part of a type expression that YAML split at a comma: ` +
			`inside a one-line {...} or [...] YAML splits at every comma; quote the whole expression ` +
			`("{m: map<string, int>}") or write it in block style, one entry per line`},
		{"t: {a: int, t: (bool, int)}", 1, 16, `"(bool" looks like part of a type expression that YAML split at a comma: ` +
			`inside a one-line {...} or [...] YAML splits at every comma; quote the whole expression ` +
			`("{a: int, t: (bool, int)}") or write it in block style, one entry per line`},
		{"t: [bool, map<int, string>]", 1, 11, `"map<int" looks like part of a type expression that YAML split at a comma: ` +
			`inside a one-line {...} or [...] YAML splits at every comma; quote the whole expression ` +
			`("(bool, map<int, string>)") or write it in block style, one entry per line`},
		{"t: {}", 1, 4, "a record needs at least one field"},
		{"t: [int]", 1, 4, "a tuple needs at least two elements"},
		{"t:\n  a: int\n  a: string", 3, 3, `duplicate field "a" (first at line 2)`},
		{"t:\n  a-b: int", 2, 3, `field name "a-b" is not a name ([A-Za-z_][A-Za-z0-9_]*)`},
		{"t: {a: int, b}", 1, 13, `field "b" has no type`},
		{"t:", 1, 3, "missing type"},
	}
	for _, tt := range tests {
		_, err := FromNode(typeNode(t, tt.src))
		var pe *PosError
		if !errors.As(err, &pe) {
			t.Errorf("%q: %v, want a *PosError", tt.src, err)
			continue
		}
		if pe.Line != tt.line || pe.Col != tt.col || pe.Msg != tt.msg {
			t.Errorf("%q:\n got %d:%d %s\nwant %d:%d %s", tt.src, pe.Line, pe.Col, pe.Msg, tt.line, tt.col, tt.msg)
		}
	}
}
