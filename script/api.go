// Package script runs the pipeline's JavaScript on goja: every function is compiled once per
// pipeline, each subtask gets its own runtime, values convert between Go (the canonical values
// of package schema) and JS, calls are bounded by a timeout through goja's Interrupt, and
// errors carry the pipeline file's own line numbers. Functions see `params`, the shared
// `script` block and `console.log`, nothing of the host.
package script

// This file lists the package's API as used by the rest of pipectl. Bodies marked
// "unimplemented" are being written; keep the signatures and contracts.

import (
	"time"

	"github.com/dop251/goja"
)

// Source is one piece of JavaScript from the pipeline file.
type Source struct {
	Name string // for messages: "alarm-evaluator.fn", "script"
	Code string // a function expression, or the name of a function defined in the script
	File string // the pipeline file
	Line int    // 1-based line of Code's first character in File
	Col  int    // 1-based column of Code's first character
}

// Error is a JavaScript error (syntax error, exception, timeout) at a position of the
// pipeline file. Error() reads `file:line:col: name: message`.
type Error struct {
	Name      string // Source.Name
	File      string
	Line, Col int
	Msg       string
	Timeout   bool // the call ran longer than its timeout
}

func (e *Error) Error() string { panic("unimplemented") }

// Program is the compiled JavaScript of one pipeline. It is safe for concurrent use.
type Program struct{}

// Compile compiles the shared script (nil when absent) and every function once. Params are
// made visible as the global `params`. A syntax error in any piece is returned as []*Error
// wrapped in an ErrorList, all of them, with file positions.
func Compile(shared *Source, params map[string]any, fns []Source) (*Program, error) {
	panic("unimplemented")
}

// ErrorList is every error of one compile.
type ErrorList []*Error

func (l ErrorList) Error() string { panic("unimplemented") }

// Runtime is one goja runtime with the program loaded, used by one subtask (not safe for
// concurrent use). console.log writes to the log function given to NewRuntime.
type Runtime struct{}

// NewRuntime makes a runtime and evaluates the shared script and every function expression in
// it. logf receives console.log output (nil discards it).
func (p *Program) NewRuntime(logf func(msg string)) (*Runtime, error) { panic("unimplemented") }

// Func is function i of the Compile call, bound to this runtime, with a call timeout
// (0: none).
func (r *Runtime) Func(i int, timeout time.Duration) *Func { panic("unimplemented") }

// VM returns the goja runtime, for host objects (process contexts, emit callbacks).
func (r *Runtime) VM() *goja.Runtime { panic("unimplemented") }

// ToJS converts a canonical Go value into a JS value (records as plain objects, bytes as
// base64 strings, int64 as numbers).
func (r *Runtime) ToJS(v any) goja.Value { panic("unimplemented") }

// FromJS exports a JS value into a generic Go value (undefined -> nil); schema.Type.Convert
// makes it canonical.
func (r *Runtime) FromJS(v goja.Value) any { panic("unimplemented") }

// Func is a compiled JavaScript function bound to one runtime.
type Func struct{}

// Call calls the function with JS arguments and returns its result. An exception or a timeout
// is an *Error positioned in the pipeline file.
func (f *Func) Call(args ...goja.Value) (goja.Value, error) { panic("unimplemented") }
