package schema

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// FromNode reads a type from YAML: a scalar holds an expression, a mapping is a record,
// a sequence is a tuple. Errors are *PosError with the absolute line and column in the
// YAML file (for an expression, the column of the offending character when known).
//
// A one-line YAML collection (`{...}` or `[...]`) is split by YAML at every comma, so
// `{m: map<string, int>}` reaches us as the fields `m: "map<string"` and `int>: null`. When a
// key or value of such a collection looks like a piece of a split expression, the error says
// so and shows the fix: quote the whole expression, or use block style.
func FromNode(n *yaml.Node) (*Type, error) {
	return fromNode(n, 0)
}

func fromNode(n *yaml.Node, depth int) (*Type, error) {
	if depth > maxDepth {
		return nil, posErr(n, "type nested more than %d levels deep", maxDepth)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, posErr(n, "missing type")
		}
		return fromNode(n.Content[0], depth)
	case yaml.AliasNode:
		return fromNode(n.Alias, depth+1)
	case yaml.ScalarNode:
		return fromScalar(n)
	}
	if n.Style&yaml.FlowStyle != 0 {
		if frag := findFragment(n); frag != nil {
			return nil, posErr(frag, "%q looks like part of a type expression that YAML split at a comma: "+
				"inside a one-line {...} or [...] YAML splits at every comma; quote the whole expression "+
				"(%s) or write it in block style, one entry per line", frag.Value, quoteYAML(flowText(n)))
		}
	}
	if n.Kind == yaml.MappingNode {
		return fromMapping(n, depth)
	}
	return fromSequence(n, depth)
}

func fromScalar(n *yaml.Node) (*Type, error) {
	if n.Tag == "!!null" && n.Value == "" || strings.TrimSpace(n.Value) == "" {
		return nil, posErr(n, "missing type")
	}
	t, err := Parse(n.Value)
	var se *SyntaxError
	if !errors.As(err, &se) {
		return t, err
	}
	return nil, &PosError{Line: n.Line, Col: scalarCol(n, se.Offset), Msg: se.Msg + " in type " + quoteYAML(n.Value)}
}

// scalarCol is the file column of byte off of a scalar's value, when the value is written
// verbatim on one line; the scalar's own column otherwise.
func scalarCol(n *yaml.Node, off int) int {
	v := n.Value
	if strings.ContainsAny(v, "\n\r") {
		return n.Column
	}
	switch n.Style {
	case 0:
		return n.Column + off
	case yaml.DoubleQuotedStyle:
		if !strings.ContainsAny(v, `\"`) {
			return n.Column + 1 + off
		}
	case yaml.SingleQuotedStyle:
		if !strings.Contains(v, "'") {
			return n.Column + 1 + off
		}
	}
	return n.Column
}

func fromMapping(n *yaml.Node, depth int) (*Type, error) {
	if len(n.Content) == 0 {
		return nil, posErr(n, "a record needs at least one field")
	}
	fields := make([]Field, 0, len(n.Content)/2)
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || !IsFieldName(k.Value) {
			return nil, posErr(k, "field name %q is not a name ([A-Za-z_][A-Za-z0-9_]*)", k.Value)
		}
		if first, dup := seen[k.Value]; dup {
			return nil, posErr(k, "duplicate field %q (first at line %d)", k.Value, first.Line)
		}
		seen[k.Value] = k
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" && v.Value == "" {
			return nil, posErr(k, "field %q has no type", k.Value)
		}
		ft, err := fromNode(v, depth+1)
		if err != nil {
			return nil, err
		}
		fields = append(fields, Field{Name: k.Value, Type: ft})
	}
	return RecordOf(fields...), nil
}

func fromSequence(n *yaml.Node, depth int) (*Type, error) {
	if len(n.Content) < 2 {
		return nil, posErr(n, "a tuple needs at least two elements")
	}
	elems := make([]*Type, len(n.Content))
	for i, c := range n.Content {
		e, err := fromNode(c, depth+1)
		if err != nil {
			return nil, err
		}
		elems[i] = e
	}
	return TupleOf(elems...), nil
}

func posErr(n *yaml.Node, format string, args ...any) *PosError {
	return &PosError{Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)}
}

// findFragment returns the first scalar in a flow collection (recursively) that looks like a
// piece of a type expression split at a comma: brackets that do not balance.
func findFragment(n *yaml.Node) *yaml.Node {
	for _, c := range n.Content {
		switch c.Kind {
		case yaml.ScalarNode:
			if c.Style == 0 && unbalanced(c.Value) {
				return c
			}
		case yaml.MappingNode, yaml.SequenceNode:
			if f := findFragment(c); f != nil {
				return f
			}
		}
	}
	return nil
}

// unbalanced reports whether s opens or closes more <...>, (...) or {...} than it closes or
// opens.
func unbalanced(s string) bool {
	return strings.Count(s, "<") != strings.Count(s, ">") ||
		strings.Count(s, "(") != strings.Count(s, ")") ||
		strings.Count(s, "{") != strings.Count(s, "}")
}

// flowText rebuilds the one-line expression that YAML split: the pieces joined by the commas
// YAML consumed. A sequence becomes a tuple expression.
func flowText(n *yaml.Node) string {
	var parts []string
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" && v.Value == "" {
				parts = append(parts, k.Value)
			} else {
				parts = append(parts, k.Value+": "+flowText(v))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case yaml.SequenceNode:
		for _, c := range n.Content {
			parts = append(parts, flowText(c))
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	return n.Value
}

// quoteYAML double-quotes s for showing it as a YAML value.
func quoteYAML(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}
