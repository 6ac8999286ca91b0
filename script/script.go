// Package script runs the pipeline's JavaScript on goja: every function is compiled once per
// pipeline, each subtask gets its own runtime, values convert between Go (the canonical values
// of package schema) and JS, calls are bounded by a timeout through goja's Interrupt, and
// errors carry the pipeline file's own line numbers. Functions see `params`, the shared
// `script` block and `console.log`, nothing of the host.
//
// Positions: every piece of JavaScript is compiled with a text padded in front with Line-1
// newlines and Col-1 spaces, so goja's own positions on the piece's first line are the
// pipeline file's. A piece spanning several lines is taken to be a YAML block scalar, whose
// later lines are indented in the file by the same Col-1 columns; positions on those lines are
// shifted when they become an *Error (goja's own stack strings inside JS keep the unshifted
// column).
package script

import (
	"fmt"
	"strings"
)

// Source is one piece of JavaScript from the pipeline file.
type Source struct {
	Name string // for messages: "alarm-evaluator.fn", "script"
	Code string // a function expression, or the name of a function defined in the script
	File string // the pipeline file
	Line int    // 1-based line of Code's first character in File
	Col  int    // 1-based column of Code's first character
	// Spots, when Code is not the file's text as written (a quoted YAML scalar with escapes or
	// over several lines), is the file position of each byte of Code.
	Spots []Spot
}

// Spot is a position in the file: 1-based line and column.
type Spot struct{ Line, Col int }

// Error is a JavaScript error (syntax error, exception, timeout) at a position of the
// pipeline file. Error() reads `file:line:col: name: message`.
type Error struct {
	Name      string // Source.Name
	File      string
	Line, Col int
	Msg       string
	Timeout   bool // the call ran longer than its timeout
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Col, e.Name, e.Msg)
}

// ErrorList is every error of one compile (or of one NewRuntime), in source order of the
// pieces.
type ErrorList []*Error

// Error lists every error, one a line.
func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap returns the errors, so errors.As finds an *Error in the list.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// errorAt makes an *Error of piece src at a position of the file.
func errorAt(src *Source, line, col int, msg string) *Error {
	return &Error{Name: src.Name, File: src.File, Line: line, Col: col, Msg: msg}
}
