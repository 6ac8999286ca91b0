package schema

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// SyntaxError is a type expression that does not parse.
type SyntaxError struct {
	Offset int // byte offset in the expression
	Msg    string
	Expr   string // the expression (added: lets Error quote it)
}

// Error reads `type "list<int": expected '>' after list element type (offset 8)`.
func (e *SyntaxError) Error() string {
	if e.Expr == "" {
		return fmt.Sprintf("type expression: %s (offset %d)", e.Msg, e.Offset)
	}
	return fmt.Sprintf("type %q: %s (offset %d)", e.Expr, e.Msg, e.Offset)
}

// PosError is an error at a position of a YAML file.
type PosError struct {
	Line, Col int
	Msg       string
}

// Error reads `line:col: msg` (the caller adds the file name).
func (e *PosError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg)
}

// ValueError is a value that does not fit its type.
// Error() reads `$.alarm.time: expected int, got "x"`.
type ValueError struct {
	Path     string // JSON-path-like: $, $.alarm.time, $[1], $.m["k"]
	Expected string // canonical type expression
	Got      string // the value received, shortened JSON
	Detail   string // optional: why the value does not fit (added), e.g. "beyond ±(2^53-1)"
}

// Error reads `$.alarm.time: expected int, got "x"` plus the detail when there is one.
func (e *ValueError) Error() string {
	s := e.Path + ": expected " + e.Expected + ", got " + e.Got
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// maxGot is the length at which the value shown in a ValueError is cut.
const maxGot = 60

// valueErr builds a *ValueError at the current position; callers on the way up prefix the
// path with prefixPath and the entry point finishes it with rootPath.
func valueErr(t *Type, v any, detail string) *ValueError {
	return &ValueError{Expected: t.String(), Got: shortJSON(v), Detail: detail}
}

// prefixPath prepends one path segment to a *ValueError coming up from a child.
func prefixPath(err error, seg string) error {
	if ve, ok := err.(*ValueError); ok {
		ve.Path = seg + ve.Path
	}
	return err
}

// rootPath finishes the path of a *ValueError at the entry point, eliding the middle of a
// path longer than maxPath (a value nested a thousand levels deep).
func rootPath(err error) error {
	if ve, ok := err.(*ValueError); ok {
		ve.Path = "$" + ve.Path
		if len(ve.Path) > maxPath {
			i, j := maxPath/2, len(ve.Path)-maxPath/2
			for i > 0 && !utf8.RuneStart(ve.Path[i]) {
				i--
			}
			for j < len(ve.Path) && !utf8.RuneStart(ve.Path[j]) {
				j++
			}
			ve.Path = ve.Path[:i] + "…" + ve.Path[j:]
		}
	}
	return err
}

// maxPath is the length at which the path of a ValueError is cut in its middle.
const maxPath = 200

// fieldSeg, indexSeg and keySeg are the path segments of a record field, a tuple or list
// position and a map key.
func fieldSeg(name string) string { return "." + name }
func indexSeg(i int) string       { return "[" + strconv.Itoa(i) + "]" }
func keySeg(k string) string      { return "[" + strconv.Quote(k) + "]" }

// shortJSON renders a received value for an error message: JSON when it has a JSON form,
// cut at maxGot bytes.
func shortJSON(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		s = "null"
	case Foreign:
		return string(x) // says what it is, shortly
	case float64:
		s = strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		s = strconv.FormatFloat(float64(x), 'g', -1, 32)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "a value with no JSON form" // never Go's own notation of it
		}
		s = string(b)
	}
	if len(s) > maxGot {
		cut := maxGot
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// Foreign stands, in a generic value, for something that has no value in Go: a JS function,
// a symbol, a cycle, a value beyond a size limit. It says what it is ("a function"); Convert
// rejects it at its path like any value of the wrong type.
type Foreign string
