// Package schema is pipectl's type language: the types of streams and state, their two
// notations (YAML structure and one-line expressions), a canonical string form, value
// checking with the failing path, a compact deterministic binary codec, JSON encoding in
// schema order, and the evolution rules between two versions of a type.
//
// Values of a type are plain Go values:
//
//	bool    -> bool
//	int     -> int64 (|v| <= 2^53-1)
//	float   -> float64
//	string  -> string
//	bytes   -> []byte (base64 in JS and JSON)
//	record  -> map[string]any (field name -> value)
//	tuple   -> []any (fixed length)
//	list    -> []any
//	map     -> map[string]any (int keys as decimal strings)
//	T?      -> nil or a value of T
//	any     -> a JSON-like value: nil, bool, int64, float64, string, []any, map[string]any
//
// Of pipectl's own packages it imports only internal/suggest (the "did you mean" of a
// misspelt type name), so every other package can depend on it.
package schema

// Kind is the kind of a type.
type Kind uint8

// The kinds of types. The numeric values are part of nothing on disk; never persist them.
const (
	Bool Kind = iota + 1
	Int
	Float
	String
	Bytes
	Record
	Tuple
	List
	Map
	Optional
	Any
)

// MaxSafeInt is the largest integer a JavaScript number holds exactly (2^53-1). An int value
// beyond ±MaxSafeInt is rejected wherever it enters, never rounded.
const MaxSafeInt = 1<<53 - 1

// Field is one field of a record type.
type Field struct {
	Name string
	Type *Type
}

// Type is a pipectl type. Types are immutable once built; share them freely.
type Type struct {
	Kind   Kind
	Fields []Field // Record: at least one field, in declared order
	Elems  []*Type // Tuple: at least two elements
	Elem   *Type   // List element, Map value, Optional inner type
	Key    *Type   // Map key: String or Int
}
