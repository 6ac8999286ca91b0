package schema

// Constructors for types built in Go (the runtime's internal state types, tests). They do not
// validate: a record needs at least one field with distinct names, a tuple two elements, a map
// a String or Int key.

// ScalarOf returns the type of kind k (Bool, Int, Float, String, Bytes or Any).
func ScalarOf(k Kind) *Type { return &Type{Kind: k} }

// RecordOf returns a record type with the fields in order.
func RecordOf(fields ...Field) *Type { return &Type{Kind: Record, Fields: fields} }

// TupleOf returns a tuple type.
func TupleOf(elems ...*Type) *Type { return &Type{Kind: Tuple, Elems: elems} }

// ListOf returns list<elem>.
func ListOf(elem *Type) *Type { return &Type{Kind: List, Elem: elem} }

// MapOf returns map<key, val>.
func MapOf(key, val *Type) *Type { return &Type{Kind: Map, Key: key, Elem: val} }

// OptionalOf returns t? (t itself when t is already optional: optionals collapse).
func OptionalOf(t *Type) *Type {
	if t.Kind == Optional {
		return t
	}
	return &Type{Kind: Optional, Elem: t}
}
