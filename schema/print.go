package schema

import (
	"strconv"
	"strings"
)

// kindNames are the names of the kinds, as used in messages.
var kindNames = [...]string{
	Bool: "bool", Int: "int", Float: "float", String: "string", Bytes: "bytes",
	Record: "record", Tuple: "tuple", List: "list", Map: "map", Optional: "optional", Any: "any",
}

// String returns the kind's name: "bool", …, "record", "tuple", "list", "map", "optional".
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// String returns the canonical type expression: `{active: bool, time: int}`, `(bool, int)`,
// `list<int>`, `map<string, int>`, `int?`, `any`. Parse(t.String()) equals t. An optional is
// always written postfix, also after a composite: `{a: int}?`, `list<int>?`.
func (t *Type) String() string {
	if t == nil {
		return "<nil>"
	}
	var b strings.Builder
	t.write(&b)
	return b.String()
}

func (t *Type) write(b *strings.Builder) {
	switch t.Kind {
	case Record:
		b.WriteByte('{')
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.Name)
			b.WriteString(": ")
			f.Type.write(b)
		}
		b.WriteByte('}')
	case Tuple:
		b.WriteByte('(')
		for i, e := range t.Elems {
			if i > 0 {
				b.WriteString(", ")
			}
			e.write(b)
		}
		b.WriteByte(')')
	case List:
		b.WriteString("list<")
		t.Elem.write(b)
		b.WriteByte('>')
	case Map:
		b.WriteString("map<")
		t.Key.write(b)
		b.WriteString(", ")
		t.Elem.write(b)
		b.WriteByte('>')
	case Optional:
		t.Elem.write(b)
		if t.Elem.Kind != Optional {
			b.WriteByte('?')
		}
	default:
		b.WriteString(t.Kind.String())
	}
}

// Equal reports whether two types are identical (same canonical form).
func (t *Type) Equal(u *Type) bool {
	if t == u {
		return true
	}
	if t == nil || u == nil {
		return false
	}
	// An optional of an optional is the optional (they print alike).
	if t.Kind == Optional && t.Elem.Kind == Optional {
		return t.Elem.Equal(u)
	}
	if u.Kind == Optional && u.Elem.Kind == Optional {
		return t.Equal(u.Elem)
	}
	if t.Kind != u.Kind {
		return false
	}
	switch t.Kind {
	case Record:
		if len(t.Fields) != len(u.Fields) {
			return false
		}
		for i, f := range t.Fields {
			if f.Name != u.Fields[i].Name || !f.Type.Equal(u.Fields[i].Type) {
				return false
			}
		}
	case Tuple:
		if len(t.Elems) != len(u.Elems) {
			return false
		}
		for i, e := range t.Elems {
			if !e.Equal(u.Elems[i]) {
				return false
			}
		}
	case List, Optional:
		return t.Elem.Equal(u.Elem)
	case Map:
		return t.Key.Equal(u.Key) && t.Elem.Equal(u.Elem)
	}
	return true
}
